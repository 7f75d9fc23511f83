import { describe, expect, it } from 'vitest'
import { createLoginLimiter } from './login-limiter.js'

describe('the login limiter', () => {
  const limits = { perUser: 2, perAddress: 3, windowMs: 10_000 }

  it('blocks a username after its failures until the window ends', () => {
    let now = 0
    const limiter = createLoginLimiter(limits, () => now)
    limiter.failed('ada', 'a')
    expect(limiter.retryAfter('ada', 'b')).toBe(0)
    limiter.failed('ada', 'b')
    expect(limiter.retryAfter('ada', 'c')).toBe(10)
    now = 9_500
    expect(limiter.retryAfter('ada', 'c')).toBe(1)
    now = 10_000
    expect(limiter.retryAfter('ada', 'c')).toBe(0)
  })

  it('blocks an address trying many usernames', () => {
    const limiter = createLoginLimiter(limits, () => 0)
    for (const name of ['a', 'b', 'c']) limiter.failed(name, '10.0.0.1')
    expect(limiter.retryAfter('d', '10.0.0.1')).toBeGreaterThan(0)
    expect(limiter.retryAfter('d', '10.0.0.2')).toBe(0)
  })

  it("forgets a username's failures on success, not the address's", () => {
    const limiter = createLoginLimiter(limits, () => 0)
    limiter.failed('ada', 'x')
    limiter.failed('ada', 'x')
    limiter.succeeded('ada')
    expect(limiter.retryAfter('ada', 'y')).toBe(0)
    limiter.failed('bob', 'x')
    expect(limiter.retryAfter('carl', 'x')).toBeGreaterThan(0)
  })
})
