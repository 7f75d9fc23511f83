import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { PluginDefinition } from '@kite/sdk'
import { isDefinition, parseManifest } from '@kite/sdk/host'
import { runTask } from '@kite/sdk/testing'
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

describe('the built package', () => {
  const dist = new URL('../dist/', import.meta.url)
  const created: string[] = []
  afterAll(async () => {
    for (const dir of created) await rm(dir, { recursive: true, force: true })
  })

  it('has a valid manifest', async () => {
    const manifest = parseManifest(
      JSON.parse(await readFile(new URL('kite-plugin.json', dist), 'utf8')),
    )
    expect(manifest).toMatchObject({ name: '@kite/plugin-fs', group: 'kite.fs' })
    expect(manifest.tasks.length + manifest.triggers.length).toBe(7)
  })

  it('lists files from the bundle, with the bundled glob matcher', async () => {
    const root = await realpath(await mkdtemp(join(tmpdir(), 'kite-fs-bundle-')))
    created.push(root)
    await mkdir(join(root, 'a', 'b'), { recursive: true })
    await writeFile(join(root, 'a', 'b', 'x.json'), '{}')
    await writeFile(join(root, 'a', 'y.txt'), 'y')
    const built = (await import(new URL('index.js', dist).href)) as { default: PluginDefinition }
    const task = built.default.find('kite.fs.List')
    if (!isDefinition(task, 'task')) throw new Error('List is missing from the bundle')
    const { outputs } = await runTask(
      task,
      { path: root, pattern: '**/*.json', recursive: true },
      { pluginConfig: { allowedRoots: [root] } },
    )
    expect(outputs.files.map((file: { path: string }) => file.path)).toEqual([
      join(root, 'a', 'b', 'x.json'),
    ])
  })
})
