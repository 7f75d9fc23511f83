import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import { RuntimeError } from '../errors.js'

/** scrypt's cost parameters (N, r, p): 16 MiB of memory per hash (OWASP's minimum for scrypt). */
const COST = { N: 16384, r: 8, p: 1 }
const KEY_LENGTH = 32
/** Longer passwords are refused: a bound on what the server hashes for anyone who asks. */
export const MAX_PASSWORD_LENGTH = 1024
export const MIN_PASSWORD_LENGTH = 8

function derive(password: string, salt: Buffer, cost: typeof COST): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_LENGTH, { ...cost, maxmem: 64 * 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  )
}

/** Checks a new password's length; the message says what is wrong and what is allowed. */
export function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
    throw new RuntimeError(
      `a password must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters long, got ${password.length}`,
      { code: 'REQUEST_INVALID' },
    )
  }
}

/** `scrypt$N$r$p$<salt>$<key>` (base64url), with a fresh 16-byte salt per password. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await derive(password, salt, COST)
  return [
    'scrypt',
    COST.N,
    COST.r,
    COST.p,
    salt.toString('base64url'),
    key.toString('base64url'),
  ].join('$')
}

/** Whether the password matches the hash, compared in constant time; false for a malformed hash. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = hash.split('$')
  if (scheme !== 'scrypt' || !salt || !key) return false
  const expected = Buffer.from(key, 'base64url')
  const actual = await derive(password, Buffer.from(salt, 'base64url'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  })
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

/** A random secret (256 bits), base64url, with a prefix naming what it is. */
export function randomSecret(prefix = ''): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`
}

/** A random password to print once (`npm start`, `kite users add` without a password). */
export function randomPassword(): string {
  return randomBytes(15).toString('base64url')
}

/** SHA-256 of a high-entropy secret (token, session id): what the store keeps. */
export function secretHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex')
}

/** Constant-time equality of two secrets of any length. */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(Buffer.from(secretHash(a), 'hex'), Buffer.from(secretHash(b), 'hex'))
}
