import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll } from 'vitest'

/** The SDK package directory. */
export const sdkDir = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/**
 * A scratch directory for the tests of one file, under the repo's node_modules so that packages
 * made there resolve their dependencies (`@kite/sdk`, yaml, ...) as in a real workspace. Made
 * before the tests, removed after them; returns the path (read it inside tests).
 */
export function useScratchDir(prefix: string): () => string {
  const root = join(sdkDir, '../../node_modules/.cache/kite-sdk-tests')
  let dir = ''
  beforeAll(async () => {
    await mkdir(root, { recursive: true })
    dir = await mkdtemp(join(root, `${prefix}-`))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })
  return () => dir
}
