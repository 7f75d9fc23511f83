// A runtime server on loopback with the core plugin and both greeting versions installed from
// their built directories, in a temporary data directory: what the flow and upgrade API tests
// start from.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
// Through the package entry: it loads @hono/zod-openapi before the flow schemas are built.
import { createServer, type KiteServer, type ServerOptions } from '../src/index.js'

export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url))

export interface GreetingServer {
  server: KiteServer
  /** Stops the server and removes its data directory. */
  close(): Promise<void>
}

export async function startGreetingServer(
  options: Partial<ServerOptions> = {},
): Promise<GreetingServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'kite-greeting-server-'))
  const server = await createServer({
    dataDir,
    port: 0,
    pluginDirs: [
      join(REPO_ROOT, 'packages/plugins/core'),
      join(REPO_ROOT, 'examples/plugins/greeting'),
      join(REPO_ROOT, 'examples/plugins/greeting/v2'),
    ],
    ...options,
  })
  return {
    server,
    async close() {
      await server.close()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

/** A flow `demo/greet` with one greeting task `hello`; `lines` are the task's other lines. */
export const greetFlow = (lines: string) => `id: greet
namespace: demo
tasks:
  - id: hello
    type: acme.greeting.Hello
${lines}
`
