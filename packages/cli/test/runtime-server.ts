import {
  createServer,
  definePluginVersion,
  type InstalledPlugin,
  type KiteServer,
  type ServerOptions,
} from '@kite/runtime'
import { type AnyTask, definePlugin } from '@kite/sdk'
import { afterAll, beforeAll } from 'vitest'
import { scratchDir } from './kite.js'

/**
 * A runtime server in this process for the `kite` commands a test file runs against it: on
 * port 0 and a scratch data directory named after `prefix`, started before the file's tests
 * (and before the `beforeAll` hooks registered after this call) and closed after them.
 */
export function useRuntimeServer(
  prefix: string,
  options: Omit<ServerOptions, 'dataDir' | 'port'> = {},
): { readonly server: KiteServer; readonly dir: string } {
  const dir = scratchDir(prefix)
  let server: KiteServer | undefined
  beforeAll(async () => {
    server = await createServer({ ...options, dataDir: dir.path, port: 0 })
  })
  afterAll(async () => {
    await server?.close()
  })
  return {
    /** The server's data directory. */
    get dir() {
      return dir.path
    },
    get server() {
      if (!server) throw new Error('the runtime server is not started yet')
      return server
    },
  }
}

/** A plugin version made of `tasks` alone (group `group`), for a test server's `plugins`. */
export function taskPlugin(
  name: string,
  group: string,
  tasks: AnyTask[],
  version = '1.0.0',
): InstalledPlugin {
  const plugin = definePlugin({
    group,
    title: `Test plugin ${group}`,
    description: `Tasks for a CLI test (${group}).`,
    tasks,
  })
  return definePluginVersion({ name, version, plugin })
}
