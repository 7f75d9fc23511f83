import { readFile } from 'node:fs/promises'
import type { PluginDefinition } from '@kite/sdk'
import { parseManifest } from '@kite/sdk/host'
import { runTask } from '@kite/sdk/testing'
import { describe, expect, it } from 'vitest'

// npm test builds every package before testing; by hand: npx turbo run build --filter=@kite/plugin-crypto
const dist = new URL('../dist/', import.meta.url)

describe('the built bundle', () => {
  it('has a valid manifest and hashes', async () => {
    const manifest = parseManifest(
      JSON.parse(await readFile(new URL('kite-plugin.json', dist), 'utf8')),
    )
    expect(manifest.tasks.map((task) => task.type)).toEqual([
      'kite.crypto.Hash',
      'kite.crypto.Hmac',
      'kite.crypto.Encrypt',
      'kite.crypto.Decrypt',
    ])
    const plugin = ((await import(new URL('index.js', dist).href)) as { default: PluginDefinition })
      .default
    const task = plugin.find('kite.crypto.Hash')
    if (task?.kind !== 'task') throw new Error('no Hash task in the bundle')
    const { outputs } = await runTask(task, { value: 'abc' })
    expect(outputs).toEqual({
      hash: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    })
  })
})
