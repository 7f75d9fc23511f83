/** How many failed logins are allowed, per username and per client address, in a window. */
export interface LoginLimits {
  /** Failed attempts per username in a window (default 10). */
  perUser: number
  /** Failed attempts per client address in a window (default 50). */
  perAddress: number
  /** The window in milliseconds (default 15 minutes). */
  windowMs: number
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = {
  perUser: 10,
  perAddress: 50,
  windowMs: 15 * 60_000,
}

/** Beyond this many keys, expired windows are swept before a new one is added. */
const MAX_KEYS = 10_000

export interface LoginLimiter {
  /** Seconds until another attempt is allowed, or 0 when one is allowed now. */
  retryAfter(username: string, address: string): number
  /** Counts a failed attempt against both the username and the address. */
  failed(username: string, address: string): void
  /** A successful login forgets the username's failures (not the address's). */
  succeeded(username: string): void
}

/**
 * Failed-login counters in memory (one process: a cluster of runtimes counts per process, and a
 * restart forgets them). A fixed window per key: the first failure opens it, it closes
 * `windowMs` later.
 */
export function createLoginLimiter(
  limits: LoginLimits = DEFAULT_LOGIN_LIMITS,
  now: () => number = Date.now,
): LoginLimiter {
  const windows = new Map<string, { failures: number; endsAt: number }>()
  const live = (key: string) => {
    const window = windows.get(key)
    if (window && window.endsAt <= now()) {
      windows.delete(key)
      return undefined
    }
    return window
  }
  const blockedFor = (key: string, max: number) => {
    const window = live(key)
    return window && window.failures >= max ? Math.ceil((window.endsAt - now()) / 1000) : 0
  }
  const count = (key: string) => {
    const window = live(key)
    if (window) {
      window.failures++
      return
    }
    if (windows.size >= MAX_KEYS) for (const other of windows.keys()) live(other)
    windows.set(key, { failures: 1, endsAt: now() + limits.windowMs })
  }
  return {
    retryAfter: (username, address) =>
      Math.max(
        blockedFor(`user:${username}`, limits.perUser),
        blockedFor(`address:${address}`, limits.perAddress),
      ),
    failed(username, address) {
      count(`user:${username}`)
      count(`address:${address}`)
    },
    succeeded(username) {
      windows.delete(`user:${username}`)
    },
  }
}
