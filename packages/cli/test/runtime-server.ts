import { createServer, type KiteServer, type ServerOptions } from '@kite/runtime'
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
