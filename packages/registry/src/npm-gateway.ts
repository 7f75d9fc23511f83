import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from '@kite/sdk'
import type { TarballLimits } from '@kite/sdk/tarball'
import type { Catalog } from './catalog.js'
import { type SyncHints, syncPackage } from './catalog-sync.js'
import type { StoredEvent } from './catalog-types.js'
import { RegistryError, statusOf } from './errors.js'
import type { EventHub } from './event-hub.js'
import type { AuditAction, Governance } from './governance.js'
import type { PackageStorage } from './package-storage.js'
import {
  checkNewName,
  checkPublish,
  checkScope,
  isRecord,
  readPublishBody,
} from './publish-checks.js'

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void

/** Longest a write may hold the write lock (a publish of a 100 MB tarball takes seconds). */
const WRITE_LOCK_TIMEOUT_MS = 120_000

export interface NpmGatewayOptions {
  catalog: Catalog
  storage: PackageStorage
  hub: EventHub
  logger: Logger
  /** verdaccio's request listener (its express app), which serves the npm protocol. */
  verdaccio: RequestListener
  /** The account behind a request's credentials, as verdaccio sees it; undefined if anonymous. */
  whoami(req: IncomingMessage): Promise<string | undefined>
  /** Largest request body accepted (a publish carries its tarball in base64). */
  maxBodyBytes: number
  /** What a tarball may hold (SPEC 5). */
  limits: TarballLimits
  /** Scopes owned by accounts set in the config, e.g. `{ '@kite': ['kite-publisher'] }`. */
  scopeOwners: Readonly<Record<string, readonly string[]>>
  /** Accounts, owners and the audit log. */
  governance: Governance
  /** Whether an account of this name exists (and is not deleted). */
  accountExists?(name: string): boolean
}

/** What a write request does to which package. */
export interface WriteTarget {
  name: string
  action: 'publish' | 'change' | 'remove' | 'remove-tarball' | 'dist-tag' | 'upload' | 'other'
}

/** The body parser verdaccio uses skips requests that carry this flag, so a parsed body passes. */
interface ParsedRequest extends IncomingMessage {
  body?: unknown
  _body?: boolean
}

/**
 * Sits in front of verdaccio. Reads go straight through. Every write to a package (publish,
 * deprecate, unpublish, dist-tags) is authenticated through verdaccio, checked for
 * maintainership and — for publishes — for a valid tarball and plugin manifest *before*
 * verdaccio stores anything; after verdaccio answers 2xx the catalog is synced from storage and
 * the resulting events are published, before the response reaches the client. Writes are
 * serialized, so two publishes can never claim the same group at once.
 */
export function createNpmGateway(options: NpmGatewayOptions): RequestListener {
  const { catalog, storage, hub, logger, verdaccio, governance } = options
  let queue: Promise<void> = Promise.resolve()

  /** Runs writes one at a time; `release` is called when the response is over. */
  const acquire = (): Promise<() => void> => {
    let release!: () => void
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const turn = queue.then(() => release)
    queue = queue.then(() => held)
    return turn
  }

  const forward = (
    req: ParsedRequest,
    res: ServerResponse,
    body: unknown,
    after?: () => Promise<void>,
  ): void => {
    // The stream is consumed; hand verdaccio the parsed body (or an empty one).
    req.body = body ?? {}
    req._body = true
    if (after) {
      const end = res.end
      let ran = false
      // The response waits for the catalog: when npm hears "published", the catalog has it.
      res.end = function (this: ServerResponse, ...args: unknown[]) {
        const finish = () => (end as (...a: unknown[]) => ServerResponse).apply(this, args)
        if (ran || res.statusCode < 200 || res.statusCode >= 300) return finish()
        ran = true
        after()
          .catch((error: unknown) => {
            logger.error(
              `catalog update failed after ${req.method} ${req.url}: ${(error as Error).message}`,
            )
          })
          .finally(finish)
        return this
      } as typeof res.end
    }
    verdaccio(req, res)
  }

  const handleWrite = async (req: ParsedRequest, res: ServerResponse, target: WriteTarget) => {
    const raw = await readBody(req, options.maxBodyBytes)
    if (target.action === 'upload') {
      throw new RegistryError(
        `uploading a tarball on its own is not supported; publish ${target.name} with npm publish`,
        { code: 'BAD_REQUEST' },
      )
    }
    let body: unknown
    if (raw.length > 0 && (req.headers['content-type'] ?? '').includes('json')) {
      try {
        body = JSON.parse(raw.toString('utf8'))
      } catch {
        throw new RegistryError(`the request body for ${target.name} is not valid JSON`, {
          code: 'BAD_REQUEST',
        })
      }
    }
    const user = await options.whoami(req)
    if (!user) {
      // verdaccio's package access rules answer anonymous writes (401) without storing anything.
      forward(req, res, body)
      return
    }
    const release = await acquire()
    // Released when the response is over; a client that left while queued, or a verdaccio that
    // never answers, must not hold every later write hostage.
    let held = true
    const done = () => {
      if (!held) return
      held = false
      clearTimeout(timeout)
      release()
    }
    const timeout = setTimeout(done, WRITE_LOCK_TIMEOUT_MS)
    timeout.unref()
    res.once('close', done)
    if (res.destroyed || req.socket.destroyed) {
      done()
      return
    }
    const maintainers = catalog.owners.maintainersOf(target.name)
    const isStar = target.action === 'publish' && isRecord(body) && !isRecord(body.versions)
    if (maintainers.length > 0 && !maintainers.includes(user) && !isStar) {
      throw new RegistryError(
        `${user} is not a maintainer of ${target.name}; only its maintainers (${maintainers.join(', ')}) may publish, deprecate or unpublish it`,
        { code: 'NOT_MAINTAINER' },
      )
    }
    if (target.action === 'change' && isOwnerChange(body)) {
      changeOwners(target.name, user, body.maintainers)
      sendJson(res, 200, { ok: true, id: target.name })
      return
    }
    const hints: SyncHints = {}
    if (target.action === 'publish' && isRecord(body)) {
      const attachments = isRecord(body._attachments) ? Object.keys(body._attachments) : []
      if (attachments.length > 0) {
        if (maintainers.length === 0 && storage.read(target.name) === undefined) {
          checkNewName(target.name, new Set([...storage.list(), ...catalog.owners.knownPackages()]))
          checkScope(target.name, user, options.scopeOwners, catalog)
        }
        const checked = await checkPublish(
          readPublishBody(target.name, body),
          catalog,
          options.limits,
        )
        const { version, integrity } = checked.body
        const versions = body.versions as Record<string, Record<string, unknown>>
        const metadata = versions[version]
        if (metadata) metadata._npmUser = { name: user }
        hints.publisher = user
        if (checked.plugin) {
          hints.published = {
            version,
            manifest: checked.manifest,
            manifestHash: checked.manifestHash,
            integrity,
            docs: checked.docs,
          }
        }
      } else if (!isStar && storage.read(target.name) === undefined) {
        throw new RegistryError(
          `nothing to publish: the request for ${target.name} carries no tarball`,
          { code: 'BAD_REQUEST' },
        )
      }
    }
    forward(req, res, body, async () => {
      const events = await syncPackage(
        { catalog, storage, logger, limits: options.limits },
        target.name,
        hints,
      )
      if (storage.read(target.name) === undefined) governance.forgetOwners(target.name)
      for (const event of events) {
        governance.audit({
          actor: user,
          action: AUDIT_ACTIONS[event.event],
          package: event.name,
          version: event.version,
          detail: typeof event.deprecated === 'string' ? event.deprecated : undefined,
        })
      }
      hub.publish(events)
    })
  }

  /** `npm owner add|rm`: the package's owners (and so its group's) become exactly `wanted`. */
  const changeOwners = (name: string, user: string, wanted: unknown[]) => {
    const before = catalog.owners.maintainersOf(name)
    if (before.length === 0 && storage.read(name) === undefined) {
      throw new RegistryError(`there is no package ${name}`, { code: 'NOT_FOUND' })
    }
    const names: string[] = []
    for (const entry of wanted) {
      const owner = isRecord(entry) ? entry.name : undefined
      if (typeof owner !== 'string' || owner === '') {
        throw new RegistryError(`every owner of ${name} needs an account name`, {
          code: 'BAD_REQUEST',
        })
      }
      if (!names.includes(owner)) names.push(owner)
    }
    if (names.length === 0) {
      throw new RegistryError(`${name} needs at least one owner; add someone else first`, {
        code: 'BAD_REQUEST',
      })
    }
    for (const owner of names) {
      if (!before.includes(owner) && options.accountExists && !options.accountExists(owner)) {
        throw new RegistryError(`there is no account named ${owner}`, { code: 'NOT_FOUND' })
      }
    }
    const now = new Date().toISOString()
    governance.setOwners(name, names, () => now)
    catalog.owners.setMaintainers(name, names)
    for (const owner of names.filter((o) => !before.includes(o))) {
      governance.audit({ actor: user, action: 'owner.add', package: name, subject: owner })
    }
    for (const owner of before.filter((o) => !names.includes(o))) {
      governance.audit({ actor: user, action: 'owner.rm', package: name, subject: owner })
    }
  }

  return (req, res) => {
    const target = writeTargetOf(req.method ?? 'GET', req.url ?? '/')
    if (!target) {
      verdaccio(req, res)
      return
    }
    handleWrite(req, res, target).catch((error: unknown) => sendFailure(res, error, logger))
  }
}

const AUDIT_ACTIONS: Record<StoredEvent['event'], AuditAction> = {
  published: 'publish',
  unpublished: 'unpublish',
  deprecated: 'deprecate',
}

/** `npm owner` sends only `_id`, `_rev` and the new `maintainers`. */
function isOwnerChange(body: unknown): body is { maintainers: unknown[] } {
  return isRecord(body) && Array.isArray(body.maintainers) && !('versions' in body)
}

/** Classifies a request as a write to one package, or undefined for reads and account calls. */
export function writeTargetOf(method: string, url: string): WriteTarget | undefined {
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return undefined
  const path = url.split('?')[0] ?? '/'
  if (path.startsWith('/-/package/')) {
    const parsed = splitPackagePath(path.slice('/-/package'.length))
    return parsed ? { name: parsed.name, action: 'dist-tag' } : undefined
  }
  if (path.startsWith('/-/')) return undefined
  const parsed = splitPackagePath(path)
  if (!parsed) return undefined
  const [first] = parsed.rest
  if (method === 'PUT' && parsed.rest.length === 0) return { name: parsed.name, action: 'publish' }
  if (method === 'PUT' && first === '-rev') return { name: parsed.name, action: 'change' }
  if (method === 'PUT' && first === '-') return { name: parsed.name, action: 'upload' }
  if (method === 'DELETE' && first === '-rev') return { name: parsed.name, action: 'remove' }
  if (method === 'DELETE' && first === '-') return { name: parsed.name, action: 'remove-tarball' }
  return { name: parsed.name, action: 'other' }
}

/** Splits `/@scope%2fname/rest…` or `/@scope/name/rest…` or `/name/rest…`. */
export function splitPackagePath(path: string): { name: string; rest: string[] } | undefined {
  const segments = path.replace(/^\/+/, '').split('/')
  let decoded: string[]
  try {
    decoded = segments.map((segment) => decodeURIComponent(segment))
  } catch {
    return undefined
  }
  const [first, second] = decoded
  if (!first) return undefined
  if (first.includes('/')) return { name: first, rest: decoded.slice(1) }
  if (first.startsWith('@')) {
    if (!second) return undefined
    return { name: `${first}/${second}`, rest: decoded.slice(2) }
  }
  return { name: first, rest: decoded.slice(1) }
}

/** Reads a whole request body, failing with BAD_REQUEST past `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        reject(
          new RegistryError(`the request body is larger than ${limit} bytes`, {
            code: 'BAD_REQUEST',
          }),
        )
        req.destroy()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/**
 * Answers a failed request: a RegistryError with its status and code, anything else as a 500
 * `STORAGE_FAILED` (internal failures are logged).
 */
export function sendFailure(res: ServerResponse, error: unknown, logger: Logger): void {
  const known =
    error instanceof RegistryError
      ? error
      : new RegistryError(`the registry failed: ${(error as Error).message}`, {
          code: 'STORAGE_FAILED',
          kind: 'internal',
          cause: error,
        })
  if (known.kind === 'internal') logger.error(known.message)
  sendJson(res, statusOf(known), { error: known.message, code: known.code })
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.end()
    return
  }
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  })
  res.end(text)
}
