import { describe, expect, it } from 'vitest'
import { addToDate, formatDate, toDate } from './date-time'

const iso = (value: unknown) => toDate(value).toISOString()

describe('toDate', () => {
  it('reads ISO-8601 text, treating text without an offset as UTC', () => {
    expect(iso('2024-01-02')).toBe('2024-01-02T00:00:00.000Z')
    expect(iso('2024-01-02T03:04:05')).toBe('2024-01-02T03:04:05.000Z')
    expect(iso('2024-01-02 03:04')).toBe('2024-01-02T03:04:00.000Z')
    expect(iso('2024-01-02T03:04:05+02:00')).toBe('2024-01-02T01:04:05.000Z')
    expect(iso('2024-01-02T03:04:05.123456Z')).toBe('2024-01-02T03:04:05.123Z')
    expect(iso(' 2024-01-02T03:04:05Z ')).toBe('2024-01-02T03:04:05.000Z')
  })

  it('reads epoch numbers: seconds below 1e11, milliseconds above', () => {
    expect(iso(1704067200)).toBe('2024-01-01T00:00:00.000Z')
    expect(iso(1704067200123)).toBe('2024-01-01T00:00:00.123Z')
    expect(iso('1704067200')).toBe('2024-01-01T00:00:00.000Z')
    expect(iso(0)).toBe('1970-01-01T00:00:00.000Z')
  })

  it('keeps valid dates and rejects anything else', () => {
    const date = new Date('2024-05-06T07:08:09Z')
    expect(toDate(date)).toBe(date)
    expect(() => toDate(new Date(Number.NaN))).toThrow('the date is invalid')
    expect(() => toDate('next tuesday')).toThrow('cannot read "next tuesday" as a date')
    expect(() => toDate(null)).toThrow('expected a date (ISO-8601 text or epoch number), got null')
    expect(() => toDate([2024])).toThrow('got a list')
    expect(() => toDate(Number.POSITIVE_INFINITY)).toThrow('is not a valid epoch time')
  })
})

describe('formatDate', () => {
  // Tuesday 5 March 2024, 14:07:09.123 UTC (2024 is a leap year: day 65)
  const date = new Date('2024-03-05T14:07:09.123Z')

  it.each([
    ['yyyy-MM-dd HH:mm:ss', '2024-03-05 14:07:09'],
    ['yy/M/d', '24/3/5'],
    ['MMM MMMM MMMMM', 'Mar March M'],
    ['D DDD', '65 065'],
    ['E EEEE EEEEE', 'Tue Tuesday T'],
    ['h:mm a', '2:07 PM'],
    ['hh K k H', '02 2 14 14'],
    ['ss.S SSS SSSSSS', '09.1 123 123000'],
    ["yyyy-MM-dd'T'HH:mm", '2024-03-05T14:07'],
    ["'o''clock' ''", "o'clock '"],
    ['Q QQ QQQ QQQQ', '1 01 Q1 1st quarter'],
    ['G uuuu', 'AD 2024'],
    ['X XX XXX x xxx Z ZZZZ ZZZZZ', 'Z Z Z +00 +00:00 +0000 GMT Z'],
    ['z VV', 'UTC UTC'],
    ['iso', '2024-03-05T14:07:09.123Z'],
    ['ISO_DATE', '2024-03-05'],
    ['sql', '2024-03-05 14:07:09.123'],
    ['iso_local_date_time', '2024-03-05T14:07:09.123'],
  ])('%s', (pattern, expected) => {
    expect(formatDate(date, pattern)).toBe(expected)
  })

  it('formats in IANA time zones, with their offsets at that date', () => {
    expect(formatDate(date, 'yyyy-MM-dd HH:mm XXX', 'Europe/Paris')).toBe('2024-03-05 15:07 +01:00')
    expect(formatDate(date, 'iso', 'Europe/Paris')).toBe('2024-03-05T15:07:09.123+01:00')
    expect(formatDate(date, 'HH:mm X XX Z ZZZZ', 'America/New_York')).toBe(
      '09:07 -05 -0500 -0500 GMT-05:00',
    )
    // summer time
    expect(formatDate(new Date('2024-07-05T14:07:09Z'), 'HH:mm XXX', 'America/New_York')).toBe(
      '10:07 -04:00',
    )
    expect(formatDate(date, 'HH:mm X XXX', 'Asia/Kolkata')).toBe('19:37 +0530 +05:30')
    expect(formatDate(date, 'VV', 'Asia/Kolkata')).toBe('Asia/Kolkata')
    // crossing midnight changes the day, weekday and day of year
    expect(
      formatDate(new Date('2024-03-05T23:30:00Z'), 'yyyy-MM-dd EEE D HH:mm', 'Asia/Tokyo'),
    ).toBe('2024-03-06 Wed 66 08:30')
  })

  it('rejects unknown pattern letters, open quotes and unknown zones', () => {
    expect(() => formatDate(date, 'yyyy-ww')).toThrow(
      'unsupported letter "w" in date pattern "yyyy-ww"',
    )
    expect(() => formatDate(date, "yyyy 'at")).toThrow('unterminated quote')
    expect(() => formatDate(date, 'yyyy', 'Nowhere/City')).toThrow(
      'unknown time zone "Nowhere/City"',
    )
  })
})

describe('addToDate', () => {
  const at = (text: string) => new Date(text)

  it('adds exact durations for days and shorter units', () => {
    expect(addToDate(at('2024-01-31T10:00:00Z'), 2, 'DAYS').toISOString()).toBe(
      '2024-02-02T10:00:00.000Z',
    )
    expect(addToDate(at('2024-01-31T10:00:00Z'), -3, 'hours').toISOString()).toBe(
      '2024-01-31T07:00:00.000Z',
    )
    expect(addToDate(at('2024-01-31T10:00:00Z'), 1, 'half_days').toISOString()).toBe(
      '2024-01-31T22:00:00.000Z',
    )
    expect(addToDate(at('2024-01-31T10:00:00Z'), 1, 'week').toISOString()).toBe(
      '2024-02-07T10:00:00.000Z',
    )
    expect(addToDate(at('2024-01-31T10:00:00Z'), 1500, 'millis').toISOString()).toBe(
      '2024-01-31T10:00:01.500Z',
    )
  })

  it('steps months and years on the calendar, clamping the day', () => {
    expect(addToDate(at('2024-01-31T10:00:00Z'), 1, 'MONTHS').toISOString()).toBe(
      '2024-02-29T10:00:00.000Z',
    )
    expect(addToDate(at('2024-01-31T10:00:00Z'), 13, 'MONTHS').toISOString()).toBe(
      '2025-02-28T10:00:00.000Z',
    )
    expect(addToDate(at('2024-03-31T10:00:00Z'), -1, 'month').toISOString()).toBe(
      '2024-02-29T10:00:00.000Z',
    )
    expect(addToDate(at('2024-02-29T00:00:00Z'), 1, 'YEARS').toISOString()).toBe(
      '2025-02-28T00:00:00.000Z',
    )
    expect(addToDate(at('2024-01-15T00:00:00Z'), -1, 'DECADES').toISOString()).toBe(
      '2014-01-15T00:00:00.000Z',
    )
  })

  it('rejects unknown units', () => {
    expect(() => addToDate(at('2024-01-01T00:00:00Z'), 1, 'NANOS')).toThrow(
      'unknown unit "NANOS" (use one of MILLIS, SECONDS, MINUTES, HOURS, HALF_DAYS, DAYS, WEEKS, MONTHS, YEARS, DECADES, CENTURIES)',
    )
  })
})
