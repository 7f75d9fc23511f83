import { KiteError } from '@kite/sdk'

export const DAYS = [
  'SUNDAY',
  'MONDAY',
  'TUESDAY',
  'WEDNESDAY',
  'THURSDAY',
  'FRIDAY',
  'SATURDAY',
] as const
export type Day = (typeof DAYS)[number]

/** A wall-clock reading: the day of the week and the seconds since midnight. */
export interface WallClock {
  day: Day
  secondOfDay: number
}

const DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i

/**
 * Reads `date` on the wall clock of `timeZone`. A date with an offset (`…Z`, `…+02:00`) is an
 * instant and is converted; a date without one (`2024-05-06`, `2024-05-06T10:00`) is already a
 * wall-clock reading in `timeZone`. No date means now.
 */
export function wallClock(date: string | undefined, timeZone: string): WallClock {
  const format = zoneFormat(timeZone)
  const text = date?.trim()
  if (text === undefined || text === '') return fromInstant(new Date(), format)
  const match = DATE.exec(text)
  if (!match) {
    throw new KiteError(
      `date "${date}" is not an ISO-8601 date or date-time (e.g. 2024-05-06 or 2024-05-06T10:30:00Z)`,
      { code: 'DATE_INVALID', kind: 'user' },
    )
  }
  const [, year, month, day, hour = '0', minute = '0', second = '0', offset] = match
  if (offset !== undefined) {
    const instant = new Date(text.replace(' ', 'T'))
    if (Number.isNaN(instant.getTime())) throw invalidDate(date)
    return fromInstant(instant, format)
  }
  const utc = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)))
  if (utc.getUTCDate() !== Number(day) || Number(hour) > 23 || Number(minute) > 59) {
    throw invalidDate(date)
  }
  return {
    day: DAYS[utc.getUTCDay()] as Day,
    secondOfDay: Number(hour) * 3600 + Number(minute) * 60 + Number(second),
  }
}

/** Parses `HH:mm` or `HH:mm:ss` into seconds since midnight. */
export function parseTimeOfDay(value: string): number | undefined {
  const match = /^(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value)
  if (!match) return undefined
  const [hour, minute, second] = [match[1], match[2], match[3] ?? '0'].map(Number) as [
    number,
    number,
    number,
  ]
  if (hour > 23 || minute > 59 || second > 59) return undefined
  return hour * 3600 + minute * 60 + second
}

function zoneFormat(timeZone: string): Intl.DateTimeFormat {
  try {
    return new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'long',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    })
  } catch (error) {
    throw new KiteError(
      `timezone "${timeZone}" is not a known IANA time zone (e.g. UTC, Europe/Paris, America/New_York)`,
      { code: 'TIMEZONE_INVALID', kind: 'user', cause: error },
    )
  }
}

function fromInstant(instant: Date, format: Intl.DateTimeFormat): WallClock {
  const parts = Object.fromEntries(
    format.formatToParts(instant).map((part) => [part.type, part.value]),
  )
  return {
    day: String(parts.weekday).toUpperCase() as Day,
    secondOfDay: Number(parts.hour) * 3600 + Number(parts.minute) * 60 + Number(parts.second),
  }
}

function invalidDate(date: string | undefined): KiteError {
  return new KiteError(`date "${date}" is not a valid date`, { code: 'DATE_INVALID', kind: 'user' })
}
