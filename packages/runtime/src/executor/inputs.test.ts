import { describe, expect, it } from 'vitest'
import { coerceInput } from './inputs.js'
import { decideRetry, retryDelay } from './retry.js'

describe('coerceInput', () => {
  it('accepts typed values and their text forms', () => {
    expect(coerceInput('INT', '42')).toEqual({ ok: true, value: 42 })
    expect(coerceInput('INT', 4.5)).toMatchObject({ ok: false })
    expect(coerceInput('FLOAT', '4.5')).toEqual({ ok: true, value: 4.5 })
    expect(coerceInput('FLOAT', '')).toMatchObject({ ok: false })
    expect(coerceInput('BOOLEAN', 'false')).toEqual({ ok: true, value: false })
    expect(coerceInput('STRING', 7)).toEqual({ ok: true, value: '7' })
    expect(coerceInput('STRING', { a: 1 })).toMatchObject({
      ok: false,
      message: 'expected a string, got {"a":1}',
    })
    expect(coerceInput('JSON', '[1,2]')).toEqual({ ok: true, value: [1, 2] })
    expect(coerceInput('JSON', '{nope')).toMatchObject({ ok: false })
    expect(coerceInput('DATETIME', '2024-05-01')).toEqual({
      ok: true,
      value: '2024-05-01T00:00:00.000Z',
    })
    expect(coerceInput('ENUM', 'b', ['a', 'b'])).toEqual({ ok: true, value: 'b' })
    expect(coerceInput('FILE', 'kite:///a/b')).toEqual({ ok: true, value: 'kite:///a/b' })
    expect(coerceInput('FILE', 'text')).toEqual({ ok: true, value: { content: 'text' } })
  })
})

describe('retry', () => {
  const constant = {
    type: 'constant' as const,
    interval: 'PT1S',
    maxAttempts: 3,
    warningOnRetry: false,
  }
  const exponential = {
    type: 'exponential' as const,
    interval: 'PT1S',
    delayFactor: 2,
    maxInterval: 'PT5S',
    maxAttempts: 10,
    warningOnRetry: false,
  }

  it('counts every attempt in maxAttempts', () => {
    expect(decideRetry(constant, 1, 0, 0)).toEqual({ retry: true, delayMs: 1000 })
    expect(decideRetry(constant, 2, 0, 0)).toEqual({ retry: true, delayMs: 1000 })
    expect(decideRetry(constant, 3, 0, 0)).toEqual({
      retry: false,
      reason: 'all 3 attempts failed',
    })
    expect(decideRetry(undefined, 1, 0, 0)).toMatchObject({ retry: false })
  })

  it('grows exponential delays up to maxInterval, and respects maxDuration', () => {
    expect([1, 2, 3, 4].map((failures) => retryDelay(exponential, failures))).toEqual([
      1000, 2000, 4000, 5000,
    ])
    expect(decideRetry({ ...constant, maxDuration: 'PT1.5S' }, 1, 0, 1000)).toMatchObject({
      retry: false,
    })
    expect(decideRetry({ ...constant, maxDuration: 'PT3S' }, 1, 0, 1000)).toMatchObject({
      retry: true,
    })
  })
})
