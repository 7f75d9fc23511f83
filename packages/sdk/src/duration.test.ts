import { describe, expect, it } from 'vitest'
import { isDuration, parseDuration } from './duration.js'

describe('parseDuration', () => {
  it.each([
    ['PT10S', 10_000],
    ['PT0.5S', 500],
    ['PT1M30S', 90_000],
    ['PT2H', 7_200_000],
    ['P1D', 86_400_000],
    ['P1DT1H', 90_000_000],
    ['P2W', 1_209_600_000],
  ])('%s is %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms)
  })

  it.each(['', 'P', 'PT', '10s', 'P1Y', 'PT1H2', 'pt10s', 'P1DT'])('refuses %j', (text) => {
    expect(() => parseDuration(text)).toThrow(`"${text}" is not an ISO-8601 duration`)
    expect(isDuration(text)).toBe(false)
  })
})
