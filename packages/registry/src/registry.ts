import { mkdirSync } from 'node:fs'
import { createServer, type IncomingMessage, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join, resolve } from 'node:path'
import { getRequestListener } from '@hono/node-server'
import type { Logger } from '@kite/sdk'
import { resolveTarballLimits, type TarballLimits } from '@kite/sdk/tarball'
import { runServer } from 'verdaccio'
import { accountExistsIn, createAccountLayer } from './account-layer.js'
import { openCatalog } from './catalog.js'
import { syncAll } from './catalog-sync.js'
import { RegistryError } from './errors.js'
import { EventHub } from './event-hub.js'
import { Governance } from './governance.js'
import { createKiteApp } from './kite-app.js'
import { createNpmGateway, type RequestListener } from './npm-gateway.js'
import { PackageStorage } from './package-storage.js'
import { UI_BASE } from './ui/layout.js'
import { createVerdaccioConfig } from './verdaccio-config.js'

export interface RegistryOptions {
  /** Port to listen on (default 4873; 0 picks a free one). */
  port?: number
  /** Interface to listen on (default 127.0.0.1). */
  host?: string
  /** Directory holding packages, accounts and the catalog (default `.kite/registry`). */
  storage?: string
  /** An npm registry to proxy packages this registry does not have (default: none). */
  upstream?: string
  /** Where the registry reports problems (default: nowhere). */
  logger?: Logger
  /** Milliseconds between heartbeat comments on the event stream (default 15000). */
  heartbeatMs?: number
  /**
   * What a published tarball may hold (SPEC 5); defaults: 64 MiB unpacked, 1 MiB manifest,
   * 500 types, 65 536 characters per manifest string.
   */
  limits?: Partial<TarballLimits>
  /**
   * Owners of scopes, e.g. `{ '@kite': ['kite-publisher'] }`: only they may create packages in
   * them. A scope not listed belongs to whoever publishes in it first.
   */
  scopeOwners?: Record<string, string[]>
  /**
   * The docs site's URL; every browse-UI page links to it from its header, and the pages of the
   * packages in `docsReference` link to their version's reference page there.
   */
  docsUrl?: string
  /**
   * Packages the docs site has reference pages for: exact names or `@scope/*` (default
   * `['@kite/*']`, the first-party plugins the Kite docs are built from).
   */
  docsReference?: string[]
  /**
   * How long a token from `npm login` or `npm token create` stays valid, in milliseconds
   * (default 30 days). A new `npm login` gives a fresh one.
   */
  tokenTtlMs?: number
}

/** A running registry. */
export interface Registry {
  /** Base URL, e.g. `http://127.0.0.1:4873` (no trailing slash). */
  url: string
  port: number
  host: string
  /** Absolute path of the storage directory. */
  storage: string
  /**
   * Deletes an account (an operator's tool; an account may also delete itself with
   * `DELETE /-/kite/api/v1/accounts/{name}`): its password stops working and every token it
   * holds is revoked at once. Returns how many tokens were revoked.
   */
  deleteAccount(name: string): number
  /** Stops accepting requests, ends event streams, closes the catalog. */
  close(): Promise<void>
}

const SILENT: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {} }
const MAX_BODY_BYTES = 100 * 1024 * 1024
const DEFAULT_TOKEN_TTL_MS = 30 * 24 * 60 * 60 * 1000

/**
 * Starts a Kite registry: the npm protocol at the root (verdaccio, embedded), the catalog API
 * under `/-/kite/api/v1`, its event stream at `/-/kite/api/v1/events` and the browse UI under
 * `/-/kite/` — one process, one port. On start the catalog is reconciled with storage, so a
 * lost catalog is rebuilt from the stored tarballs.
 *
 * @example
 * const registry = await createRegistry({ port: 0, storage: '/tmp/registry' })
 * console.log(registry.url) // http://127.0.0.1:41234
 * await registry.close()
 */
export async function createRegistry(options: RegistryOptions = {}): Promise<Registry> {
  const host = options.host ?? '127.0.0.1'
  const port = options.port ?? 4873
  const storageDir = resolve(options.storage ?? '.kite/registry')
  const logger = options.logger ?? SILENT
  const packagesDir = join(storageDir, 'packages')
  const { limits, scopeOwners, tokenTtlMs } = checkOptions(options)
  try {
    mkdirSync(packagesDir, { recursive: true })
  } catch (error) {
    throw new RegistryError(
      `cannot create the storage directory ${storageDir}: ${(error as Error).message}`,
      {
        code: 'START_FAILED',
        kind: 'operational',
        cause: error,
      },
    )
  }

  const catalog = await openCatalog(join(storageDir, 'catalog.db'), logger)
  const storage = new PackageStorage(packagesDir)
  const hub = new EventHub()
  const htpasswd = join(storageDir, 'htpasswd')
  let governance: Governance | undefined
  let server: Server | undefined
  let direct: Server | undefined
  try {
    governance = new Governance(join(storageDir, 'governance.db'))
    const rules = governance
    if (catalog.created && storage.list().length > 0) {
      // A rebuilt catalog numbers its events above any id a client can hold from before, so a
      // reconnecting client replays the rebuilt history instead of silently missing it.
      catalog.events.raiseEventIdFloor(Date.now())
      logger.info(`rebuilding the catalog from ${packagesDir}`)
    }
    await syncAll({ catalog, storage, logger, limits })
    // Owners set with `npm owner` outlive a rebuilt catalog.
    for (const [name, owners] of rules.allOwners()) {
      if (storage.read(name)) catalog.owners.setMaintainers(name, owners)
    }

    const verdaccioServer = (await runServer(
      createVerdaccioConfig({ storageDir, packagesDir, upstream: options.upstream }),
    )) as Server
    const verdaccio = verdaccioServer.listeners('request')[0] as RequestListener | undefined
    if (!verdaccio) throw new Error('verdaccio returned a server without a request handler')

    // verdaccio alone on a loopback port: where Kite checks credentials and passwords.
    const alone = createServer(verdaccio)
    direct = alone
    const internal = await new Promise<{ host: string; port: number }>((done, fail) => {
      alone.once('error', fail)
      alone.listen(0, '127.0.0.1', () => {
        alone.off('error', fail)
        done({ host: '127.0.0.1', port: (alone.address() as AddressInfo).port })
      })
    })
    const accountExists = (name: string) => accountExistsIn(htpasswd, rules, name)
    const accounts = createAccountLayer({
      governance: rules,
      catalog,
      storage,
      logger,
      verdaccio: internal,
      htpasswd,
      tokenTtlMs,
    })
    const gateway = createNpmGateway({
      catalog,
      storage,
      hub,
      logger,
      verdaccio,
      maxBodyBytes: MAX_BODY_BYTES,
      limits,
      scopeOwners,
      governance: rules,
      accountExists,
      whoami: (req) => whoami(internal, req),
    })
    const kite = getRequestListener(
      createKiteApp({
        catalog,
        hub,
        logger,
        heartbeatMs: options.heartbeatMs ?? 15_000,
        scopeOwners,
        ...(options.docsUrl ? { docsUrl: options.docsUrl } : {}),
        ...(options.docsReference ? { docsReference: options.docsReference } : {}),
      }).fetch,
    )
    const listening = createServer((req, res) => {
      accounts(req, res, () => {
        const url = req.url ?? '/'
        if (url === '/' || url.startsWith('/?')) {
          res.writeHead(302, { location: `${UI_BASE}/` }).end()
        } else if (
          url === '/favicon.ico' ||
          url === UI_BASE ||
          url.startsWith(`${UI_BASE}/`) ||
          url.startsWith(`${UI_BASE}?`)
        ) {
          void kite(req, res)
        } else {
          gateway(req, res)
        }
      })
    })
    server = listening
    listening.keepAliveTimeout = 60_000
    await new Promise<void>((done, fail) => {
      listening.once('error', fail)
      listening.listen(port, host, () => {
        listening.off('error', fail)
        done()
      })
    }).catch((error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? 'the port is in use' : error.message
      throw new RegistryError(`cannot listen on ${host}:${port}: ${why}`, {
        code: 'START_FAILED',
        kind: 'operational',
        cause: error,
      })
    })
    const actualPort = (listening.address() as AddressInfo).port
    const url = `http://${formatHost(loopbackFor(host))}:${actualPort}`
    logger.info(`registry listening at ${url}`)

    let closing: Promise<void> | undefined
    return {
      url,
      port: actualPort,
      host,
      storage: storageDir,
      deleteAccount(name) {
        return accounts.deleteAccount(name)
      },
      close() {
        closing ??= new Promise<void>((done) => {
          hub.close()
          alone.close()
          alone.closeAllConnections()
          listening.close(() => done())
          listening.closeIdleConnections()
          // Streams and keep-alive sockets would hold close() open; nothing useful is in flight.
          setTimeout(() => listening.closeAllConnections(), 50).unref()
        }).finally(() => {
          catalog.close()
          rules.close()
        })
        return closing
      },
    }
  } catch (error) {
    hub.close()
    server?.close()
    direct?.close()
    catalog.close()
    governance?.close()
    if (error instanceof RegistryError) throw error
    throw new RegistryError(`the registry failed to start: ${(error as Error).message}`, {
      code: 'START_FAILED',
      kind: 'internal',
      cause: error,
    })
  }
}

/** The limits and scope owners, checked; a mistake in them stops the start with its name. */
function checkOptions(options: RegistryOptions): {
  limits: TarballLimits
  scopeOwners: Record<string, string[]>
  tokenTtlMs: number
} {
  const fail = (why: string, cause?: unknown) =>
    new RegistryError(`the registry options are invalid: ${why}`, {
      code: 'START_FAILED',
      kind: 'operational',
      cause,
    })
  let limits: TarballLimits
  try {
    limits = resolveTarballLimits(options.limits)
  } catch (error) {
    throw fail((error as Error).message, error)
  }
  const scopeOwners: Record<string, string[]> = {}
  for (const [scope, owners] of Object.entries(options.scopeOwners ?? {})) {
    if (!/^@[a-z0-9][a-z0-9._~-]*$/.test(scope)) {
      throw fail(`scopeOwners: "${scope}" is not an npm scope such as @kite`)
    }
    if (
      !Array.isArray(owners) ||
      owners.length === 0 ||
      owners.some((o) => typeof o !== 'string' || o === '')
    ) {
      throw fail(`scopeOwners: ${scope} must list at least one account name`)
    }
    scopeOwners[scope] = [...owners]
  }
  const tokenTtlMs = options.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS
  if (!Number.isSafeInteger(tokenTtlMs) || tokenTtlMs < 1000) {
    throw fail(`tokenTtlMs must be a whole number of milliseconds, at least 1000`)
  }
  return { limits, scopeOwners, tokenTtlMs }
}

/** Asks verdaccio who the request's credentials belong to. */
function whoami(
  target: { host: string; port: number },
  req: IncomingMessage,
): Promise<string | undefined> {
  const authorization = req.headers.authorization
  if (!authorization) return Promise.resolve(undefined)
  return new Promise((done) => {
    const call = request(
      {
        host: target.host,
        port: target.port,
        path: '/-/whoami',
        method: 'GET',
        headers: { authorization, accept: 'application/json' },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => {
          if (res.statusCode !== 200) return done(undefined)
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
              username?: unknown
            }
            done(typeof body.username === 'string' && body.username ? body.username : undefined)
          } catch {
            done(undefined)
          }
        })
        res.on('error', () => done(undefined))
      },
    )
    call.on('error', () => done(undefined))
    call.setTimeout(10_000, () => call.destroy())
    call.end()
  })
}

function loopbackFor(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1'
  if (host === '::' || host === '[::]') return '::1'
  return host
}

function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
}
