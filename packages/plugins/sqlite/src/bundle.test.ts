import { copyFile, mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { PluginDefinition } from '@kite/sdk'
import { parseManifest } from '@kite/sdk/host'
import { pollTrigger, runTask } from '@kite/sdk/testing'
import { describe, expect, it } from 'vitest'

// npm test builds every package before testing; by hand: npx turbo run build --filter=@kite/plugin-sqlite
const dist = new URL('../dist/', import.meta.url)

describe('the built bundle', () => {
  it('has a valid manifest', async () => {
    const manifest = parseManifest(
      JSON.parse(await readFile(new URL('kite-plugin.json', dist), 'utf8')),
    )
    expect(manifest).toMatchObject({ name: '@kite/plugin-sqlite', group: 'kite.sqlite' })
    expect(manifest.tasks.map((task) => task.type)).toEqual(['kite.sqlite.Query'])
    expect(manifest.triggers.map((entry) => entry.type)).toEqual(['kite.sqlite.Trigger'])
  })

  it('carries SQLite as WebAssembly: writes a file, reads it back and polls it', async () => {
    // Installed the way the runtime installs it: the bundle alone, with only @kite/sdk beside it,
    // so nothing can be found in the repository's node_modules.
    const dir = await mkdtemp(join(tmpdir(), 'kite-sqlite-bundle-'))
    try {
      const installed = join(dir, 'plugin')
      await mkdir(join(installed, 'node_modules', '@kite'), { recursive: true })
      await copyFile(new URL('index.js', dist), join(installed, 'index.js'))
      await symlink(
        fileURLToPath(new URL('../../../sdk', import.meta.url)),
        join(installed, 'node_modules', '@kite', 'sdk'),
      )
      const plugin = (
        (await import(pathToFileURL(join(installed, 'index.js')).href)) as {
          default: PluginDefinition
        }
      ).default
      const query = plugin.find('kite.sqlite.Query')
      const trigger = plugin.find('kite.sqlite.Trigger')
      if (query?.kind !== 'task' || trigger?.kind !== 'trigger') throw new Error('types missing')
      const database = join(dir, 'bundle.db')
      await runTask(query, {
        database,
        sql: "CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('from the bundle')",
      })
      const { outputs } = await runTask(query, {
        database,
        sql: 'SELECT x, sqlite_version() AS version FROM t',
        fetchType: 'FETCH_ONE',
      })
      expect(outputs.value).toMatchObject({
        x: 'from the bundle',
        version: expect.stringMatching(/^3\./),
      })
      const { events } = await pollTrigger(trigger, { database, sql: 'SELECT x FROM t' })
      expect(events).toEqual([{ value: [{ x: 'from the bundle' }], size: 1 }])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
