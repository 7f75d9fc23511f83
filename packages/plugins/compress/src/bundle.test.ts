import { createTestContext, runBundle } from '@kite/sdk/testing'
import { describe, expect, it } from 'vitest'

// npm test builds every package before testing; by hand: npx turbo run build --filter=@kite/plugin-compress
const packageDir = new URL('..', import.meta.url)

describe('the built bundle, in a plain node process', () => {
  it('zips and tars with its bundled fflate and modern-tar, as its manifest says', async () => {
    // The files travel through a storage directory the test shares with the bundle's process.
    const shared = await createTestContext()
    try {
      for (const format of ['ZIP', 'TAR_GZ']) {
        const archived = await runBundle(
          packageDir,
          'kite.compress.Archive',
          { files: { 'a/b.txt': 'bundled' }, format },
          { context: shared },
        )
        expect(archived.manifest.tasks.map((task) => task.type)).toEqual([
          'kite.compress.Archive',
          'kite.compress.Extract',
        ])
        const { uri } = archived.value as { uri: string }
        const extracted = await runBundle(
          packageDir,
          'kite.compress.Extract',
          { from: uri },
          { context: shared },
        )
        const { files } = extracted.value as { files: Record<string, string> }
        expect(await shared.readStorage(String(files['a/b.txt']))).toBe('bundled')
      }
    } finally {
      await shared.cleanup()
    }
  })

  it("answers a bad property with the task's own error, from the bundle", async () => {
    await expect(
      runBundle(packageDir, 'kite.compress.Archive', { files: {}, format: 'RAR' }),
    ).rejects.toMatchObject({
      code: 'PROPERTIES_INVALID',
      message: expect.stringMatching(/format/),
    })
  })
})
