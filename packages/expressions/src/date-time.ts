import { describeValue, stringValue } from './values'

/**
 * Dates for the `date`, `dateAdd` and `timestamp` filters: reading loose inputs, formatting with
 * Java/Pebble patterns (`yyyy-MM-dd HH:mm:ss`) in any IANA time zone, and calendar arithmetic.
 * Everything is computed from the epoch value, never from the server's local time zone.
 */

/** Numbers below this are epoch seconds, above it epoch milliseconds (1e11 s is year 5138). */
const SECONDS_LIMIT = 1e11

const LOCAL_DATE_TIME = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?$/
const NUMERIC = /^-?\d+(?:\.\d+)?$/

/**
 * Reads a date: a Date, an ISO-8601 string (without an offset it is UTC), or an epoch number
 * (seconds when smaller than 1e11, milliseconds otherwise).
 */
export function toDate(value: unknown): Date {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new RangeError('the date is invalid')
    return value
  }
  if (typeof value === 'number') return fromEpoch(value)
  const text = stringValue(value)?.trim()
  if (text === undefined) {
    throw new TypeError(
      `expected a date (ISO-8601 text or epoch number), got ${describeValue(value)}`,
    )
  }
  if (NUMERIC.test(text)) return fromEpoch(Number(text))
  const local = LOCAL_DATE_TIME.exec(text)
  const millis = local ? Date.parse(`${local[1]}T${local[2] ?? '00:00:00'}Z`) : Date.parse(text)
  if (Number.isNaN(millis)) {
    throw new RangeError(
      `cannot read "${text}" as a date (expected ISO-8601 such as 2024-01-31T12:00:00Z, or an epoch number)`,
    )
  }
  return new Date(millis)
}

function fromEpoch(value: number): Date {
  if (!Number.isFinite(value)) throw new RangeError(`${value} is not a valid epoch time`)
  const date = new Date(Math.abs(value) < SECONDS_LIMIT ? value * 1000 : value)
  if (Number.isNaN(date.getTime())) throw new RangeError(`${value} is out of the range of dates`)
  return date
}

interface ZonedParts {
  year: number
  /** 1-12 */
  month: number
  day: number
  hour: number
  minute: number
  second: number
  millisecond: number
  /** 0 = Sunday */
  weekday: number
  /** Offset from UTC in minutes (east positive). */
  offset: number
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone)
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
        era: 'short',
      })
    } catch {
      throw new RangeError(
        `unknown time zone "${timeZone}" (use an IANA name such as Europe/Paris)`,
      )
    }
    if (formatters.size > 200) formatters.clear()
    formatters.set(timeZone, formatter)
  }
  return formatter
}

function zonedParts(date: Date, timeZone: string): ZonedParts {
  const millisecond = date.getUTCMilliseconds()
  if (timeZone === 'UTC' || timeZone === 'Z') {
    return {
      year: date.getUTCFullYear(),
      month: date.getUTCMonth() + 1,
      day: date.getUTCDate(),
      hour: date.getUTCHours(),
      minute: date.getUTCMinutes(),
      second: date.getUTCSeconds(),
      millisecond,
      weekday: date.getUTCDay(),
      offset: 0,
    }
  }
  const fields: Record<string, string> = {}
  for (const part of formatterFor(timeZone).formatToParts(date)) fields[part.type] = part.value
  const yearOfEra = Number(fields.year)
  const year = fields.era === 'BC' || fields.era === 'B' ? 1 - yearOfEra : yearOfEra
  const month = Number(fields.month)
  const day = Number(fields.day)
  const hour = Number(fields.hour)
  const minute = Number(fields.minute)
  const second = Number(fields.second)
  const wall = utc(year, month - 1, day, hour, minute, second)
  const offset = Math.round((wall - (date.getTime() - millisecond)) / 60_000)
  const weekday = new Date(utc(year, month - 1, day)).getUTCDay()
  return { year, month, day, hour, minute, second, millisecond, weekday, offset }
}

/** Date.UTC that also works for years 0-99 (Date.UTC maps them to 1900-1999). */
function utc(year: number, monthIndex: number, day: number, hour = 0, minute = 0, second = 0) {
  const date = new Date(0)
  date.setUTCFullYear(year, monthIndex, day)
  date.setUTCHours(hour, minute, second, 0)
  return date.getTime()
}

function daysInMonth(year: number, monthIndex: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][monthIndex] ?? 31
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
]
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']

/** Named formats, as in Java's DateTimeFormatter constants (lower-case, case-insensitive). */
const NAMED_FORMATS: Record<string, string> = {
  iso: "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
  iso_date_time: "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
  iso_offset_date_time: "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
  iso_local_date_time: "yyyy-MM-dd'T'HH:mm:ss.SSS",
  iso_date: 'yyyy-MM-dd',
  iso_local_date: 'yyyy-MM-dd',
  iso_time: 'HH:mm:ss.SSSXXX',
  iso_local_time: 'HH:mm:ss.SSS',
  sql: 'yyyy-MM-dd HH:mm:ss.SSS',
}

/** The names `date()` accepts instead of a pattern. */
export const DATE_FORMAT_NAMES: readonly string[] = Object.keys(NAMED_FORMATS)

type PatternPart = { text: string } | { letter: string; count: number }

const patternCache = new Map<string, PatternPart[]>()

function parsePattern(pattern: string): PatternPart[] {
  const cached = patternCache.get(pattern)
  if (cached) return cached
  const parts: PatternPart[] = []
  let i = 0
  while (i < pattern.length) {
    const char = pattern.charAt(i)
    if (char === "'") {
      i = readQuoted(pattern, i, parts)
    } else if (/[A-Za-z]/.test(char)) {
      let count = 1
      while (pattern.charAt(i + count) === char) count++
      if (!FIELD_FORMATTERS[char]) {
        throw new RangeError(
          `unsupported letter "${char}" in date pattern "${pattern}" (put literal text in single quotes)`,
        )
      }
      parts.push({ letter: char, count })
      i += count
    } else {
      parts.push({ text: char })
      i++
    }
  }
  if (patternCache.size > 500) patternCache.clear()
  patternCache.set(pattern, parts)
  return parts
}

/** Reads `'text'` starting at `start` (where `''` is a quote); returns the index after it. */
function readQuoted(pattern: string, start: number, parts: PatternPart[]): number {
  if (pattern.charAt(start + 1) === "'") {
    parts.push({ text: "'" })
    return start + 2
  }
  let text = ''
  let i = start + 1
  for (;;) {
    if (i >= pattern.length) throw new RangeError(`unterminated quote in date pattern "${pattern}"`)
    const char = pattern.charAt(i)
    if (char === "'") {
      if (pattern.charAt(i + 1) !== "'") break
      text += "'"
      i += 2
    } else {
      text += char
      i++
    }
  }
  parts.push({ text })
  return i + 1
}

type FieldFormatter = (parts: ZonedParts, count: number, context: FormatContext) => string

interface FormatContext {
  date: Date
  timeZone: string
}

const pad = (value: number, width: number): string => {
  const sign = value < 0 ? '-' : ''
  return sign + String(Math.abs(value)).padStart(width, '0')
}

function formatOffset(offset: number, style: 'hours' | 'basic' | 'extended'): string {
  const sign = offset < 0 ? '-' : '+'
  const hours = pad(Math.floor(Math.abs(offset) / 60), 2)
  const minutes = pad(Math.abs(offset) % 60, 2)
  if (style === 'hours') return minutes === '00' ? `${sign}${hours}` : `${sign}${hours}${minutes}`
  return style === 'basic' ? `${sign}${hours}${minutes}` : `${sign}${hours}:${minutes}`
}

const offsetStyle = (count: number) =>
  count === 1 ? 'hours' : count % 2 === 0 ? 'basic' : 'extended'

const FIELD_FORMATTERS: Record<string, FieldFormatter> = {
  G: () => 'AD',
  y: (p, count) => (count === 2 ? pad(((p.year % 100) + 100) % 100, 2) : pad(p.year, count)),
  u: (p, count) => (count === 2 ? pad(((p.year % 100) + 100) % 100, 2) : pad(p.year, count)),
  M: (p, count) => monthName(p.month, count),
  L: (p, count) => monthName(p.month, count),
  Q: (p, count) => {
    const quarter = Math.ceil(p.month / 3)
    if (count <= 2) return pad(quarter, count)
    return count === 3 ? `Q${quarter}` : `${['1st', '2nd', '3rd', '4th'][quarter - 1]} quarter`
  },
  d: (p, count) => pad(p.day, count),
  D: (p, count) => pad(dayOfYear(p), count),
  E: (p, count) => {
    const name = WEEKDAYS[p.weekday] ?? ''
    return count <= 3 ? name.slice(0, 3) : count === 4 ? name : name.charAt(0)
  },
  a: (p) => (p.hour < 12 ? 'AM' : 'PM'),
  H: (p, count) => pad(p.hour, count),
  k: (p, count) => pad(p.hour === 0 ? 24 : p.hour, count),
  K: (p, count) => pad(p.hour % 12, count),
  h: (p, count) => pad(p.hour % 12 || 12, count),
  m: (p, count) => pad(p.minute, count),
  s: (p, count) => pad(p.second, count),
  S: (p, count) => pad(p.millisecond, 3).padEnd(count, '0').slice(0, count),
  X: (p, count) => (p.offset === 0 ? 'Z' : formatOffset(p.offset, offsetStyle(count))),
  x: (p, count) => formatOffset(p.offset, offsetStyle(count)),
  Z: (p, count) => {
    if (count <= 3) return formatOffset(p.offset, 'basic')
    if (count === 4) return p.offset === 0 ? 'GMT' : `GMT${formatOffset(p.offset, 'extended')}`
    return p.offset === 0 ? 'Z' : formatOffset(p.offset, 'extended')
  },
  V: (_p, _count, context) => context.timeZone,
  z: (_p, count, context) => zoneName(context.date, context.timeZone, count >= 4),
}

function monthName(month: number, count: number): string {
  if (count <= 2) return pad(month, count)
  const name = MONTHS[month - 1] ?? ''
  return count === 3 ? name.slice(0, 3) : count === 4 ? name : name.charAt(0)
}

function dayOfYear(p: ZonedParts): number {
  return Math.round((utc(p.year, p.month - 1, p.day) - utc(p.year, 0, 1)) / 86_400_000) + 1
}

function zoneName(date: Date, timeZone: string, long: boolean): string {
  if (timeZone === 'UTC' || timeZone === 'Z') return long ? 'Coordinated Universal Time' : 'UTC'
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    timeZoneName: long ? 'long' : 'short',
  }).formatToParts(date)
  return parts.find((part) => part.type === 'timeZoneName')?.value ?? timeZone
}

/**
 * Formats a date with a Java-style pattern (`yyyy-MM-dd'T'HH:mm:ss.SSSXXX`) or a named format
 * (`iso`, `iso_date`, `sql`, ...), in an IANA time zone (default UTC).
 */
export function formatDate(date: Date, format = 'iso', timeZone = 'UTC'): string {
  const pattern = NAMED_FORMATS[format.toLowerCase()] ?? format
  const parts = zonedParts(date, timeZone)
  const context: FormatContext = { date, timeZone }
  let out = ''
  for (const part of parsePattern(pattern)) {
    if ('text' in part) out += part.text
    else out += FIELD_FORMATTERS[part.letter]?.(parts, part.count, context) ?? ''
  }
  return out
}

const UNIT_MILLIS: Record<string, number> = {
  MILLIS: 1,
  SECONDS: 1000,
  MINUTES: 60_000,
  HOURS: 3_600_000,
  HALF_DAYS: 43_200_000,
  DAYS: 86_400_000,
  WEEKS: 604_800_000,
}
const UNIT_MONTHS: Record<string, number> = { MONTHS: 1, YEARS: 12, DECADES: 120, CENTURIES: 1200 }
const UNIT_ALIASES: Record<string, string> = {
  MILLISECOND: 'MILLIS',
  MILLISECONDS: 'MILLIS',
  MILLI: 'MILLIS',
  MS: 'MILLIS',
  SECOND: 'SECONDS',
  MINUTE: 'MINUTES',
  HOUR: 'HOURS',
  HALF_DAY: 'HALF_DAYS',
  DAY: 'DAYS',
  WEEK: 'WEEKS',
  MONTH: 'MONTHS',
  YEAR: 'YEARS',
  DECADE: 'DECADES',
  CENTURY: 'CENTURIES',
}

/** The units `dateAdd` accepts (Java ChronoUnit names; singular and lower-case also work). */
export const DATE_UNITS: readonly string[] = [
  ...Object.keys(UNIT_MILLIS),
  ...Object.keys(UNIT_MONTHS),
]

/**
 * Adds `amount` units to a date. Days and shorter are exact durations; months and longer are
 * calendar steps in UTC that clamp the day (January 31 + 1 month = February 28 or 29).
 */
export function addToDate(date: Date, amount: number, unit: string): Date {
  const upper = unit.trim().toUpperCase()
  const name = UNIT_ALIASES[upper] ?? upper
  const millis = UNIT_MILLIS[name]
  if (millis !== undefined) return checked(new Date(date.getTime() + amount * millis))
  const months = UNIT_MONTHS[name]
  if (months === undefined) {
    throw new RangeError(`unknown unit "${unit}" (use one of ${DATE_UNITS.join(', ')})`)
  }
  const total = date.getUTCMonth() + amount * months
  const year = date.getUTCFullYear() + Math.floor(total / 12)
  const month = ((total % 12) + 12) % 12
  const result = new Date(date.getTime())
  result.setUTCFullYear(year, month, Math.min(date.getUTCDate(), daysInMonth(year, month)))
  return checked(result)
}

function checked(date: Date): Date {
  if (Number.isNaN(date.getTime())) throw new RangeError('the resulting date is out of range')
  return date
}
