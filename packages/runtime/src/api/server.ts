import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { SDK_VERSION } from '@kite/sdk/host'
import { RuntimeError } from '../errors.js'
import { createRuntime, type Runtime, type RuntimeOptions, schedulerStarts } from '../runtime.js'
import { type ApiOptions, createApi, DEFAULT_BODY_LIMIT } from './app.js'

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
  /** An admin token outside the store (default `KITE_ADMIN_TOKEN`). */
  adminToken?: string
  /** Session lifetime and login limits. */
  auth?: ApiOptions['auth']
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
    const host = options.host ?? '127.0.0.1'
    const loopback = isLoopback(host)
    if ((await runtime.store.auth.countUsers()) === 0) {
      if (!loopback) {
        throw new RuntimeError(
          `refusing to listen on ${host} without a user: anyone who reaches the port could read and run every flow. Add an admin first (\`kite users add NAME --role admin --data DIR\`, or --store URL), or listen on 127.0.0.1`,
          { code: 'CONFIG_INVALID', kind: 'operational' },
        )
      }
      options.logger?.warn(
        `no users yet: the API answers anyone on this machine (loopback ${host} only); add one with \`kite users add NAME --role admin\` to require a login`,
      )
    }
    if (options.flowsDir) await runtime.loadFlows(options.flowsDir)
    const app = createApi({
      openWithoutUsers: loopback,
      ...(options.auth ? { auth: options.auth } : {}),
      runtime,
      bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
      ...(options.logger ? { logger: options.logger } : {}),
      version: options.version ?? SDK_VERSION,
      ...(options.adminToken ? { adminToken: options.adminToken } : {}),
    })
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

/** Whether a listening address is reachable from this machine only. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase()
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare)
}
