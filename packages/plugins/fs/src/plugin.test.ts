import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runBundle } from '@kite/sdk/testing'
import { afterAll, describe, expect, it } from 'vitest'
import plugin from './index.js'

describe('the plugin', () => {
  it('provides its tasks and trigger under kite.fs', () => {
    expect(plugin.group).toBe('kite.fs')
    expect(plugin.tasks.map((task) => task.name)).toEqual([
      'Read',
      'Write',
      'List',
      'Copy',
      'Move',
      'Delete',
    ])
    expect(plugin.find('kite.fs.FileCreated')?.kind).toBe('trigger')
  })
})

describe('the built package, in a plain node process', () => {
  const packageDir = new URL('..', import.meta.url)
  const created: string[] = []
  afterAll(async () => {
    for (const dir of created) await rm(dir, { recursive: true, force: true })
  })

  it('lists files from the bundle, with the bundled glob matcher', async () => {
    const root = await realpath(await mkdtemp(join(tmpdir(), 'kite-fs-bundle-')))
    created.push(root)
    await mkdir(join(root, 'a', 'b'), { recursive: true })
    await writeFile(join(root, 'a', 'b', 'x.json'), '{}')
    await writeFile(join(root, 'a', 'y.txt'), 'y')
    const { manifest, value } = await runBundle(
      packageDir,
      'kite.fs.List',
      { path: root, pattern: '**/*.json', recursive: true },
      { pluginConfig: { allowedRoots: [root] } },
    )
    expect(manifest).toMatchObject({ name: '@kite/plugin-fs', group: 'kite.fs' })
    expect(manifest.tasks.length + manifest.triggers.length).toBe(7)
    const { files } = value as { files: Array<{ path: string }> }
    expect(files.map((file) => file.path)).toEqual([join(root, 'a', 'b', 'x.json')])
  })
})
