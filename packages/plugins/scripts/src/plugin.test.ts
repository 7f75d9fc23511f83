import { readFile } from 'node:fs/promises'
import type { PluginDefinition } from '@kite/sdk'
import { isDefinition, parseManifest } from '@kite/sdk/host'
import { runTask } from '@kite/sdk/testing'
import { describe, expect, it } from 'vitest'
import plugin from './index.js'

describe('the plugin', () => {
  it('provides the script tasks under kite.scripts', () => {
    expect(plugin.group).toBe('kite.scripts')
    expect(plugin.tasks.map((task) => `kite.scripts.${task.name}`)).toEqual([
      'kite.scripts.node.Script',
      'kite.scripts.python.Script',
      'kite.scripts.shell.Commands',
      'kite.scripts.shell.Script',
    ])
  })
})

describe('the built package', () => {
  const dist = new URL('../dist/', import.meta.url)

  it('has a valid manifest', async () => {
    const manifest = parseManifest(
      JSON.parse(await readFile(new URL('kite-plugin.json', dist), 'utf8')),
    )
    expect(manifest).toMatchObject({ name: '@kite/plugin-scripts', group: 'kite.scripts' })
    expect(manifest.tasks).toHaveLength(4)
  })

  it('runs shell commands from the bundle, with the bundled glob matcher', async () => {
    const built = (await import(new URL('index.js', dist).href)) as { default: PluginDefinition }
    const task = built.default.find('kite.scripts.shell.Commands')
    if (!isDefinition(task, 'task')) throw new Error('shell.Commands is missing from the bundle')
    const { outputs, context } = await runTask(task, {
      commands: [
        'mkdir -p out/deep',
        'echo a > out/a.csv',
        'echo b > out/deep/b.csv',
        'echo c > c.txt',
      ],
      outputFiles: ['out/**/*.csv'],
    })
    const files = outputs.outputFiles as Record<string, string>
    expect(Object.keys(files).sort()).toEqual(['out/a.csv', 'out/deep/b.csv'])
    expect(await context.readStorage(files['out/deep/b.csv'] ?? '')).toBe('b\n')
  })
})
