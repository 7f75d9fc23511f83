import { runBundle } from '@kite/sdk/testing'
import { describe, expect, it } from 'vitest'

// npm test builds every package before testing; by hand: npx turbo run build --filter=@kite/plugin-crypto
const packageDir = new URL('..', import.meta.url)

describe('the built bundle, in a plain node process', () => {
  it('has a valid manifest and hashes', async () => {
    const { manifest, value } = await runBundle(packageDir, 'kite.crypto.Hash', { value: 'abc' })
    expect(manifest.tasks.map((task) => task.type)).toEqual([
      'kite.crypto.Hash',
      'kite.crypto.Hmac',
      'kite.crypto.Encrypt',
      'kite.crypto.Decrypt',
    ])
    expect(value).toEqual({
      hash: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    })
  })

  it('names the types it has when asked for one it lacks', async () => {
    await expect(runBundle(packageDir, 'kite.crypto.Sign')).rejects.toMatchObject({
      code: 'BUNDLE_INVALID',
      message: expect.stringContaining(
        'lists no type "kite.crypto.Sign" (it lists kite.crypto.Hash, kite.crypto.Hmac',
      ),
    })
  })
})
