import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { SDK_VERSION } from '@kite/sdk/host'
import { createRuntime, type Runtime, type RuntimeOptions, schedulerStarts } from '../runtime.js'
import { createApi, DEFAULT_BODY_LIMIT } from './app.js'

export interface ServerOptions extends RuntimeOptions {
  /** Port to listen on (default 8080; 0 picks a free one). */
  port?: number
  /** Interface to listen on (default 127.0.0.1). */
  host?: string
  /** Flows to save at start (every `*.yml`/`*.yaml` below it). */
  flowsDir?: string
  /** Largest request body in bytes (default 1 MiB). */
  bodyLimit?: number
  /** The version reported by `/api/v1/health` and the OpenAPI document. */
  version?: string
  /** Bearer token the admin routes need (default `KITE_ADMIN_TOKEN`). */
  adminToken?: string
}

export interface KiteServer {
  /** `http://host:port`, without a trailing slash. */
  url: string
  port: number
  runtime: Runtime
  /** Stops listening, stops executions (they resume on the next start) and closes the store. */
  close(): Promise<void>
}

/**
 * Starts a runtime with its HTTP API (SPEC section 6): what `kite server local` runs.
 *
 * @example
 * const server = await createServer({ dataDir: '.kite/data', port: 0, pluginDirs: ['examples/plugins/greeting'] })
 * await fetch(`${server.url}/api/v1/health`)
 * await server.close()
 */
export async function createServer(options: ServerOptions): Promise<KiteServer> {
  // Flows are loaded before unfinished executions resume, so both see the same plugins.
  const runtime = await createRuntime({ ...options, recover: false })
  try {
    if (options.flowsDir) await runtime.loadFlows(options.flowsDir)
    const app = createApi({
      runtime,
      bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
      ...(options.logger ? { logger: options.logger } : {}),
      version: options.version ?? SDK_VERSION,
      ...(options.adminToken ? { adminToken: options.adminToken } : {}),
    })
    const host = options.host ?? '127.0.0.1'
    const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
      const created = serve({ fetch: app.fetch, port: options.port ?? 8080, hostname: host }, () =>
        resolve(created),
      )
      created.once('error', reject)
    })
    const port = (server.address() as AddressInfo).port
    await runtime.engine.recover()
    if (schedulerStarts(options)) await runtime.startScheduler()
    let closing: Promise<void> | undefined
    return {
      url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
      port,
      runtime,
      close() {
        closing ??= (async () => {
          await runtime.stopScheduler()
          await runtime.engine.close()
          await new Promise<void>((resolve) => {
            server.close(() => resolve())
            if ('closeAllConnections' in server) server.closeAllConnections()
          })
          await runtime.close()
        })()
        return closing
      },
    }
  } catch (error) {
    await runtime.close()
    throw error
  }
}
