import { parseDuration } from '@kite/sdk'
import type { RetryPolicy } from '../flow/flow-model.js'

/** What to do after a failed attempt. */
export type RetryDecision = { retry: true; delayMs: number } | { retry: false; reason: string }

/**
 * Decides whether a task run gets another attempt. `maxAttempts` counts every attempt, the first
 * included (`maxAttempts: 3` = one run and up to two retries). Delays: `constant` waits
 * `interval` each time; `exponential` waits `interval × delayFactor^(n-1)` after the n-th failure,
 * capped at `maxInterval`. With `maxDuration`, no retry starts after that long since the first
 * attempt began.
 */
export function decideRetry(
  policy: RetryPolicy | undefined,
  attemptsMade: number,
  startedAt: number,
  now: number,
): RetryDecision {
  if (!policy) return { retry: false, reason: 'no retry policy' }
  if (attemptsMade >= policy.maxAttempts) {
    return { retry: false, reason: `all ${policy.maxAttempts} attempts failed` }
  }
  const delayMs = retryDelay(policy, attemptsMade)
  if (policy.maxDuration !== undefined) {
    const budget = parseDuration(policy.maxDuration)
    if (now + delayMs - startedAt > budget) {
      return { retry: false, reason: `retrying would exceed maxDuration ${policy.maxDuration}` }
    }
  }
  return { retry: true, delayMs }
}

/** The wait before the next attempt after `failures` failed attempts. */
export function retryDelay(policy: RetryPolicy, failures: number): number {
  const interval = parseDuration(policy.interval)
  if (policy.type === 'constant') return interval
  const delay = interval * policy.delayFactor ** Math.max(0, failures - 1)
  const cap =
    policy.maxInterval === undefined ? Number.POSITIVE_INFINITY : parseDuration(policy.maxInterval)
  return Math.min(delay, cap)
}
