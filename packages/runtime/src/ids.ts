import { randomBytes } from 'node:crypto'

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

const POOL_SIZE = 22 * 256
let pool = randomBytes(POOL_SIZE)
let offset = 0

/** A random 22-character base62 id (like Kestra's), safe in URLs and storage paths. */
export function createId(): string {
  if (offset + 22 > POOL_SIZE) {
    // Random bytes are drawn in batches: one system call per 256 ids.
    pool = randomBytes(POOL_SIZE)
    offset = 0
  }
  let id = ''
  for (let index = 0; index < 22; index++) id += ALPHABET[pool[offset + index]! % 62]
  offset += 22
  return id
}
