import { KiteError } from './errors.js'

const DURATION =
  /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/

const UNIT_MS = [7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000] as const

/**
 * Parses an ISO-8601 duration (`PT10S`, `PT1M30S`, `P1D`, `PT0.5S`) into milliseconds.
 * Years and months are refused: their length depends on the calendar.
 */
export function parseDuration(value: string): number {
  const match = DURATION.exec(value)
  if (!match || value === 'P' || value.endsWith('T')) {
    throw new KiteError(
      `"${value}" is not an ISO-8601 duration such as PT30S, PT5M, PT1H30M or P1D`,
      { code: 'DURATION_INVALID' },
    )
  }
  return UNIT_MS.reduce((total, unit, index) => total + Number(match[index + 1] ?? 0) * unit, 0)
}

/** True when the string parses as a duration. */
export function isDuration(value: string): boolean {
  try {
    parseDuration(value)
    return true
  } catch {
    return false
  }
}
