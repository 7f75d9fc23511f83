import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { definePlugin, defineTask, z } from '@kite/sdk'
import { afterEach, describe, expect, it } from 'vitest'
import { createResolvableTempDir, PACKAGE_ROOT } from '../../test/fixtures/temp-dir.js'
import { definePluginVersion, loadPluginDirectory } from './plugin-sources.js'

const GREETING = join(PACKAGE_ROOT, '..', '..', 'examples', 'plugins', 'greeting')
const dirs: string[] = []
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

async function pluginDir(files: Record<string, string>): Promise<string> {
  const dir = await createResolvableTempDir('plugin')
  dirs.push(dir)
  for (const [name, content] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true })
    await writeFile(join(dir, name), content)
  }
  return dir
}

const pkg = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    name: '@acme/kite-plugin-x',
    version: '1.0.0',
    kite: { manifest: 'dist/kite-plugin.json' },
    ...extra,
  })
const manifest = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    manifestVersion: 1,
    name: '@acme/kite-plugin-x',
    version: '1.0.0',
    group: 'acme.x',
    title: 'X',
    description: '',
    sdkRange: '^0.1.0',
    entry: 'dist/index.js',
    tasks: [
      {
        type: 'acme.x.Hello',
        name: 'Hello',
        title: 'Hello',
        description: '',
        properties: { type: 'object', properties: {} },
        outputs: { type: 'object', properties: {} },
        examples: [],
      },
    ],
    triggers: [],
    conditions: [],
    ...extra,
  })

describe('loadPluginDirectory', () => {
  it('loads a built plugin directory and checks its bundle against its manifest', async () => {
    const plugin = await loadPluginDirectory(GREETING)
    expect(plugin).toMatchObject({
      name: '@acme/kite-plugin-greeting',
      version: '1.0.0',
      code: { kind: 'module', entry: join(GREETING, 'dist', 'index.js') },
      origin: GREETING,
    })
    expect(plugin.manifest.tasks.map((task) => task.type)).toEqual(['acme.greeting.Hello'])
  })

  it('explains what is wrong with a directory that is not a usable plugin', async () => {
    const missing = join(PACKAGE_ROOT, 'does-not-exist')
    await expect(loadPluginDirectory(missing)).rejects.toThrow(/cannot read package.json/)
    await expect(
      loadPluginDirectory(await pluginDir({ 'package.json': '{"name":"x","version":"1.0.0"}' })),
    ).rejects.toThrow(/has no "kite": \{ "manifest"/)
    await expect(loadPluginDirectory(await pluginDir({ 'package.json': pkg() }))).rejects.toThrow(
      /cannot read dist\/kite-plugin.json .*build the plugin first/,
    )
    await expect(
      loadPluginDirectory(
        await pluginDir({
          'package.json': pkg(),
          'dist/kite-plugin.json': manifest({ group: 'Bad' }),
        }),
      ),
    ).rejects.toThrow(/invalid plugin manifest/)
    await expect(
      loadPluginDirectory(
        await pluginDir({
          'package.json': pkg({ version: '1.1.0' }),
          'dist/kite-plugin.json': manifest(),
        }),
      ),
    ).rejects.toThrow(
      /the manifest is for @acme\/kite-plugin-x@1.0.0 but package.json is @acme\/kite-plugin-x@1.1.0/,
    )
    await expect(
      loadPluginDirectory(
        await pluginDir({
          'package.json': pkg(),
          'dist/kite-plugin.json': manifest({ sdkRange: '^9.0.0' }),
        }),
      ),
    ).rejects.toThrow(/built for @kite\/sdk \^9.0.0, but this runtime provides @kite\/sdk 0.1.0/)
    await expect(
      loadPluginDirectory(
        await pluginDir({ 'package.json': pkg(), 'dist/kite-plugin.json': manifest() }),
      ),
    ).rejects.toThrow(/the bundle dist\/index.js is missing/)
  })

  it('refuses a bundle that does not export a plugin, or not the manifest one', async () => {
    const notPlugin = await pluginDir({
      'package.json': pkg(),
      'dist/kite-plugin.json': manifest(),
      'dist/index.js': 'export default { hello: true }\n',
    })
    await expect(loadPluginDirectory(notPlugin)).rejects.toThrow(
      /default export is not a definePlugin/,
    )
    const mismatch = await pluginDir({
      'package.json': pkg(),
      'dist/kite-plugin.json': manifest(),
      'dist/index.js':
        "import { definePlugin } from '@kite/sdk'\nexport default definePlugin({ group: 'acme.x', title: 'X', tasks: [] })\n",
    })
    await expect(loadPluginDirectory(mismatch)).rejects.toThrow(
      /does not match its manifest \(missing acme.x.Hello\)/,
    )
    const broken = await pluginDir({
      'package.json': pkg(),
      'dist/kite-plugin.json': manifest(),
      'dist/index.js': 'export default (\n',
    })
    await expect(loadPluginDirectory(broken)).rejects.toThrow(/cannot import/)
  })
})

describe('definePluginVersion', () => {
  it('builds the manifest with the SDK and refuses what is not a plugin', () => {
    const plugin = definePlugin({
      group: 'acme.y',
      title: 'Y',
      tasks: [defineTask({ name: 'Go', properties: z.object({ n: z.number() }), run: () => {} })],
    })
    const installed = definePluginVersion({ name: '@acme/y', version: '2.0.0', plugin })
    expect(installed.manifest.tasks[0]?.properties.required).toEqual(['n'])
    expect(installed.code).toEqual({ kind: 'definition', plugin })
    expect(() => definePluginVersion({ name: '@acme/y', version: 'two', plugin })).toThrow(
      /not a semver version/,
    )
  })
})
