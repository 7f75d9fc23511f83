import { readFile } from 'node:fs/promises'
import type { AnyTask, PluginDefinition } from '@kite/sdk'
import { parseManifest } from '@kite/sdk/host'
import { describe, expect, it } from 'vitest'
import { sharedContext } from './test-helpers.js'

// npm test builds every package before testing; by hand: npx turbo run build --filter=@kite/plugin-compress
const dist = new URL('../dist/', import.meta.url)

describe('the built bundle', () => {
  it('has a valid manifest', async () => {
    const manifest = parseManifest(
      JSON.parse(await readFile(new URL('kite-plugin.json', dist), 'utf8')),
    )
    expect(manifest.tasks.map((task) => task.type)).toEqual([
      'kite.compress.Archive',
      'kite.compress.Extract',
    ])
  })

  it('zips and tars with its bundled fflate and modern-tar', async () => {
    const plugin = ((await import(new URL('index.js', dist).href)) as { default: PluginDefinition })
      .default
    const task = (name: string): AnyTask => {
      const found = plugin.find(`kite.compress.${name}`)
      if (found?.kind !== 'task') throw new Error(`no task ${name} in the bundle`)
      return found
    }
    const { run, read } = await sharedContext()
    for (const format of ['ZIP', 'TAR_GZ']) {
      const archived = await run(task('Archive'), { files: { 'a/b.txt': 'bundled' }, format })
      const extracted = await run(task('Extract'), { from: archived.uri })
      const files = extracted.files as Record<string, string>
      expect(new TextDecoder().decode(await read(String(files['a/b.txt'])))).toBe('bundled')
    }
  })
})
