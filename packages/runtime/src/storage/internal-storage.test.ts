import { basename } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { useTempDir } from '../../../sdk/test/scratch.js'
import { createInternalStorage, STORAGE_SCHEME } from './internal-storage.js'

const tempDir = useTempDir('kite-storage-')

describe('internal storage', () => {
  it('stores and reads back a file under any name, the name kept at the end of its path', async () => {
    const storage = createInternalStorage(tempDir())
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 24 }), fc.string(), async (name, data) => {
        const uri = await storage.put('ns/flow/executions/e1/t', name, data)
        expect(uri.startsWith(`${STORAGE_SCHEME}ns/flow/executions/e1/t/`)).toBe(true)
        expect(Buffer.from(await storage.get(uri)).toString()).toBe(data)
        const stored = basename(storage.pathOf(uri))
        expect(stored.slice(9)).toBe(basename(name) || 'file')
      }),
      { numRuns: 80 },
    )
  })

  it('refuses URIs that are malformed, of another scheme or leave the storage root', () => {
    const storage = createInternalStorage(tempDir())
    expect(() => storage.pathOf('kite:///ns/100%')).toThrow(/not a valid URI/)
    expect(() => storage.pathOf('file:///etc/passwd')).toThrow(/not a kite:\/\/\/ URI/)
    expect(() => storage.pathOf('kite:///../../etc/passwd')).toThrow(/outside internal storage/)
    expect(() => storage.pathOf('kite:///%2e%2e/secret')).toThrow(/outside internal storage/)
  })
})
