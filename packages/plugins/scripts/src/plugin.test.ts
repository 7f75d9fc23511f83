import { createTestContext, runBundle } from '@kite/sdk/testing'
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

describe('the built package, in a plain node process', () => {
  const packageDir = new URL('..', import.meta.url)

  it('runs shell commands from the bundle, with the bundled glob matcher', async () => {
    const shared = await createTestContext()
    const { manifest, value } = await runBundle(
      packageDir,
      'kite.scripts.shell.Commands',
      {
        commands: [
          'mkdir -p out/deep',
          'echo a > out/a.csv',
          'echo b > out/deep/b.csv',
          'echo c > c.txt',
        ],
        outputFiles: ['out/**/*.csv'],
      },
      { context: shared },
    )
    expect(manifest).toMatchObject({ name: '@kite/plugin-scripts', group: 'kite.scripts' })
    expect(manifest.tasks).toHaveLength(4)
    const files = (value as { outputFiles: Record<string, string> }).outputFiles
    expect(Object.keys(files).sort()).toEqual(['out/a.csv', 'out/deep/b.csv'])
    expect(await shared.readStorage(files['out/deep/b.csv'] ?? '')).toBe('b\n')
    await shared.cleanup()
  })
})
