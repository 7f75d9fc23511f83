// The temp-directory hook of every package's tests (the runtime, the CLI and the plugins import
// it from here): one directory per test file, made before its tests and removed after them.
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll } from 'vitest'

/** The SDK package directory. */
export const sdkDir = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/**
 * A temp directory for the tests of one file, named after `prefix`, under `root` (the system's
 * temp directory by default). Made before the tests, removed after them; returns the path (read
 * it inside tests).
 */
export function useTempDir(prefix: string, root = tmpdir()): () => string {
  let dir = ''
  beforeAll(async () => {
    await mkdir(root, { recursive: true })
    dir = await mkdtemp(join(root, prefix))
  })
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })
  return () => dir
}

/**
 * A scratch directory under the repo's node_modules, so that packages made there resolve their
 * dependencies (`@kite/sdk`, yaml, ...) as in a real workspace.
 */
export const useScratchDir = (prefix: string): (() => string) =>
  useTempDir(`${prefix}-`, join(sdkDir, '../../node_modules/.cache/kite-sdk-tests'))
