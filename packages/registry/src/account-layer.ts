import { readFileSync, writeFileSync } from 'node:fs'
import { type IncomingMessage, request, type ServerResponse } from 'node:http'
import type { Logger } from '@kite/sdk'
import type { Catalog } from './catalog.js'
import { RegistryError } from './errors.js'
import { type Governance, isKiteToken } from './governance.js'
import { readBody, sendFailure, sendJson, splitPackagePath } from './npm-gateway.js'
import type { PackageStorage } from './package-storage.js'
import { UI_BASE } from './ui/layout.js'

/** Where the audit log and account deletion live. */
const AUDIT_PATH = `${UI_BASE}/api/v1/audit`
const ACCOUNTS_PATH = `${UI_BASE}/api/v1/accounts/`
const USER_PATH = '/-/user/org.couchdb.user:'
const TOKENS_PATH = '/-/npm/v1/tokens'
const MAX_ACCOUNT_BODY = 64 * 1024

export interface AccountLayerOptions {
  governance: Governance
  catalog: Catalog
  storage: PackageStorage
  logger: Logger
  /** verdaccio alone, on a loopback port of its own (passwords are checked there). */
  verdaccio: { host: string; port: number }
  /** The htpasswd file verdaccio keeps accounts in. */
  htpasswd: string
  /** How long a token from `npm login` or `npm token create` lives. */
  tokenTtlMs: number
}

/** The account a request's token belongs to, set by the layer for those after it. */
export interface AuthenticatedRequest extends IncomingMessage {
  kiteUser?: string
}

type Next = () => void

/**
 * The first thing every request meets. Kite issues its own tokens (`kite_…`, stored hashed with
 * an expiry) and keeps verdaccio's credential behind them, so a token is revoked, expired or
 * killed with its account at once, and every token — the login one too — is in
 * `npm token list`. A bearer token Kite did not issue, or no longer honours, is refused (401).
 * It also answers npm's user lookup (for `npm owner add`), puts each package's owners in its
 * packument (for `npm owner ls`), and serves the audit log and account deletion.
 */
export function createAccountLayer(options: AccountLayerOptions) {
  const { governance, catalog } = options

  const route = async (req: AuthenticatedRequest, res: ServerResponse, next: Next) => {
    const url = req.url ?? '/'
    const path = url.split('?')[0] ?? '/'
    const method = req.method ?? 'GET'
    const authorization = req.headers.authorization ?? ''
    const bearer = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1]
    if (bearer) {
      const holder = isKiteToken(bearer) ? governance.checkToken(bearer) : undefined
      const loggingIn = path.startsWith(USER_PATH)
      if (!holder && loggingIn) {
        // npm sends the stale token along with a new login: the login decides, not the token.
        delete req.headers.authorization
      } else if (!holder) {
        throw new RegistryError(
          'the token is unknown, revoked, expired or of a deleted account; log in again with npm login',
          { code: 'UNAUTHENTICATED' },
        )
      }
      if (holder?.readonly && !['GET', 'HEAD', 'OPTIONS'].includes(method)) {
        throw new RegistryError(`the token ${holder.key.slice(0, 6)} is read-only`, {
          code: 'NOT_MAINTAINER',
        })
      }
      if (holder) {
        req.headers.authorization = `Bearer ${holder.credential}`
        req.kiteUser = holder.user
      }
    }

    if (path.startsWith(USER_PATH)) {
      const name = decodeURIComponent(path.slice(USER_PATH.length))
      if (method === 'PUT') return login(req, res, name)
      if (method === 'GET') return lookUpUser(res, name)
    }
    if (path === TOKENS_PATH && method === 'GET') {
      const user = requireUser(req)
      const objects = governance.listTokens(user)
      return sendJson(res, 200, { objects, total: objects.length, urls: {} })
    }
    if (path === TOKENS_PATH && method === 'POST') return createToken(req, res)
    if (path.startsWith(`${TOKENS_PATH}/token/`) && method === 'DELETE') {
      const user = requireUser(req)
      const key = decodeURIComponent(path.slice(`${TOKENS_PATH}/token/`.length))
      if (!governance.revokeToken(user, key)) {
        throw new RegistryError(`${user} has no token ${key}`, { code: 'NOT_FOUND' })
      }
      governance.audit({ actor: user, action: 'token.revoke', subject: user, detail: key })
      return sendJson(res, 200, {})
    }
    if (path === AUDIT_PATH && method === 'GET') return sendAudit(req, res, url)
    if (path.startsWith(ACCOUNTS_PATH) && method === 'DELETE') {
      const user = requireUser(req)
      const name = decodeURIComponent(path.slice(ACCOUNTS_PATH.length))
      if (name !== user) {
        throw new RegistryError(`${user} may not delete the account ${name}`, {
          code: 'NOT_MAINTAINER',
        })
      }
      const revoked = deleteAccount(name)
      return sendJson(res, 200, { ok: true, name, revokedTokens: revoked })
    }
    if (method === 'GET' && path === '/-/v1/search') completeSearch(req, res)
    if (method === 'GET' && !path.startsWith('/-/')) {
      const parsed = splitPackagePath(path)
      const accept = req.headers.accept ?? ''
      // Install metadata (the abbreviated packument) has no maintainers: it passes untouched.
      if (parsed && parsed.rest.length === 0 && !accept.includes('application/vnd.npm.install')) {
        const maintainers = catalog.owners.maintainersOf(parsed.name)
        if (maintainers.length > 0) addMaintainers(req, res, maintainers)
      }
    }
    next()
  }

  /** `npm adduser`/`login`: verdaccio checks or creates the account; Kite hands out the token. */
  const login = async (req: IncomingMessage, res: ServerResponse, name: string) => {
    const raw = await readBody(req, MAX_ACCOUNT_BODY)
    let body: { name?: unknown; email?: unknown }
    try {
      body = JSON.parse(raw.toString('utf8')) as typeof body
    } catch {
      throw new RegistryError(`the login request for ${name} is not valid JSON`, {
        code: 'BAD_REQUEST',
      })
    }
    // npm's retry for an existing account carries Basic credentials: verdaccio checks them.
    const answer = await callVerdaccio(
      'PUT',
      `${USER_PATH}${encodeURIComponent(name)}`,
      raw,
      req.headers.authorization,
    )
    const credential = (answer.body as { token?: unknown } | undefined)?.token
    if (answer.status < 200 || answer.status >= 300 || typeof credential !== 'string') {
      return sendJson(res, answer.status, answer.body ?? { error: 'login failed' })
    }
    const user = typeof body.name === 'string' && body.name ? body.name : name
    governance.recordAccount(user, typeof body.email === 'string' ? body.email : '')
    const { token, info } = governance.issueToken({
      user,
      credential,
      ttlMs: options.tokenTtlMs,
    })
    governance.audit({ actor: user, action: 'token.create', subject: user, detail: info.key })
    sendJson(res, answer.status, { ...(answer.body as object), token })
  }

  /** `npm token create`: the password is checked again, as npm does. */
  const createToken = async (req: AuthenticatedRequest, res: ServerResponse) => {
    const user = requireUser(req)
    const raw = await readBody(req, MAX_ACCOUNT_BODY)
    let body: Record<string, unknown>
    try {
      body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>
    } catch {
      throw new RegistryError('the token request is not valid JSON', { code: 'BAD_REQUEST' })
    }
    if (typeof body.password !== 'string' || body.password === '') {
      throw new RegistryError('creating a token needs your password', { code: 'BAD_REQUEST' })
    }
    const cidr = body.cidr_whitelist
    if (cidr !== undefined && (!Array.isArray(cidr) || cidr.some((c) => typeof c !== 'string'))) {
      throw new RegistryError('cidr_whitelist must be a list of CIDR strings', {
        code: 'BAD_REQUEST',
      })
    }
    const days = body.expires
    if (days !== undefined && (typeof days !== 'number' || !Number.isInteger(days) || days < 1)) {
      throw new RegistryError('expires must be a whole number of days, at least 1', {
        code: 'BAD_REQUEST',
      })
    }
    const check = await callVerdaccio(
      'PUT',
      `${USER_PATH}${encodeURIComponent(user)}`,
      Buffer.from(JSON.stringify({ name: user, password: body.password })),
      `Basic ${Buffer.from(`${user}:${body.password}`).toString('base64')}`,
    )
    const credential = (check.body as { token?: unknown } | undefined)?.token
    if (check.status < 200 || check.status >= 300 || typeof credential !== 'string') {
      throw new RegistryError(`wrong password for ${user}`, { code: 'UNAUTHENTICATED' })
    }
    const ttlMs =
      typeof days === 'number'
        ? Math.min(days * 86_400_000, options.tokenTtlMs)
        : options.tokenTtlMs
    const { token, info } = governance.issueToken({
      user,
      credential,
      ttlMs,
      name: typeof body.name === 'string' && body.name ? body.name : 'npm token create',
      readonly: body.readonly === true,
      cidr: cidr as string[] | undefined,
    })
    governance.audit({ actor: user, action: 'token.create', subject: user, detail: info.key })
    sendJson(res, 200, { ...info, token })
  }

  const lookUpUser = (res: ServerResponse, name: string) => {
    const email = accountExists(name) ? governance.emailOf(name) : undefined
    if (email === undefined) {
      throw new RegistryError(`there is no account named ${name}`, { code: 'NOT_FOUND' })
    }
    sendJson(res, 200, { _id: `org.couchdb.user:${name}`, name, email })
  }

  /** Owners' view of the audit log: `?package=` one they own, or everything about theirs. */
  const sendAudit = (req: AuthenticatedRequest, res: ServerResponse, url: string) => {
    const user = requireUser(req)
    const query = new URL(url, 'http://x').searchParams
    const name = query.get('package')
    if (name !== null) {
      const owners = catalog.owners.maintainersOf(name)
      if (!owners.includes(user)) {
        throw new RegistryError(`only the owners of ${name} may read its audit log`, {
          code: 'NOT_MAINTAINER',
        })
      }
      return sendJson(res, 200, { entries: governance.auditFor([name]) })
    }
    const mine = catalog.owners
      .knownPackages()
      .filter((p) => catalog.owners.maintainersOf(p).includes(user))
    sendJson(res, 200, { entries: governance.auditFor(mine, user) })
  }

  const accountExists = (name: string) => accountExistsIn(options.htpasswd, governance, name)
  const htpasswdLines = () => readHtpasswd(options.htpasswd)

  /** Removes the password (so the name and password no longer log in) and revokes every token. */
  const deleteAccount = (name: string): number => {
    const lines = htpasswdLines()
    const kept = lines.filter((line) => !line.startsWith(`${name}:`))
    if (kept.length !== lines.length) writeFileSync(options.htpasswd, kept.join('\n'))
    const revoked = governance.deleteAccount(name)
    governance.audit({ actor: name, action: 'account.delete', subject: name })
    return revoked
  }

  const addMaintainers = (req: IncomingMessage, res: ServerResponse, users: string[]) =>
    rewriteJson(req, res, (packument) => {
      packument.maintainers = users.map((name) => ({
        name,
        email: governance.emailOf(name) ?? '',
      }))
    })

  /** `npm search` prints each hit's version and date: verdaccio's answer lacks both. */
  const completeSearch = (req: IncomingMessage, res: ServerResponse) =>
    rewriteJson(req, res, (answer) => {
      if (!Array.isArray(answer.objects)) return
      for (const object of answer.objects as Array<{ package?: Record<string, unknown> }>) {
        const pkg = object.package
        if (!pkg || typeof pkg.name !== 'string') continue
        const stored = options.storage.read(pkg.name)
        const latest = stored?.distTags.latest
        if (!stored || !latest) continue
        pkg.version ??= latest
        pkg.date ??= stored.time[latest] ?? stored.time.modified
      }
    })

  const callVerdaccio = (
    method: string,
    path: string,
    body: Buffer,
    authorization?: string,
  ): Promise<{ status: number; body: unknown }> =>
    new Promise((done, fail) => {
      const call = request(
        {
          ...options.verdaccio,
          path,
          method,
          headers: {
            'content-type': 'application/json',
            'content-length': body.length,
            accept: 'application/json',
            ...(authorization ? { authorization } : {}),
          },
          agent: false,
        },
        (answer) => {
          const chunks: Buffer[] = []
          answer.on('data', (chunk: Buffer) => chunks.push(chunk))
          answer.on('end', () => {
            let parsed: unknown
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'))
            } catch {
              parsed = undefined
            }
            done({ status: answer.statusCode ?? 500, body: parsed })
          })
          answer.on('error', fail)
        },
      )
      call.on('error', fail)
      call.setTimeout(30_000, () => call.destroy(new Error('verdaccio did not answer')))
      call.end(body)
    })

  const handle = (req: IncomingMessage, res: ServerResponse, next: Next): void => {
    route(req as AuthenticatedRequest, res, next).catch((error: unknown) =>
      sendFailure(res, error, options.logger),
    )
  }
  return Object.assign(handle, { deleteAccount })
}

/** Whether `name` is an account verdaccio knows and Kite has not deleted. */
export function accountExistsIn(htpasswd: string, governance: Governance, name: string): boolean {
  return (
    !governance.isDeleted(name) &&
    readHtpasswd(htpasswd).some((line) => line.startsWith(`${name}:`))
  )
}

function readHtpasswd(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n')
  } catch {
    return []
  }
}

/** Lets verdaccio answer, then changes its JSON answer before it leaves. */
function rewriteJson(
  req: IncomingMessage,
  res: ServerResponse,
  change: (body: Record<string, unknown>) => void,
): void {
  // An uncompressed answer is needed to rewrite it.
  delete req.headers['accept-encoding']
  delete req.headers['if-none-match']
  // Headers may go out before the body is rewritten (compression sends them early): the
  // rewritten answer goes without the original's length or etag.
  const setHeader = res.setHeader.bind(res)
  res.setHeader = ((name: string, value: number | string | readonly string[]) => {
    const lower = name.toLowerCase()
    if (lower === 'content-length' || lower === 'etag') return res
    return setHeader(name, value)
  }) as typeof res.setHeader
  const chunks: Buffer[] = []
  const write = res.write.bind(res)
  const end = res.end.bind(res)
  res.write = ((chunk: unknown, encoding?: unknown) => {
    if (chunk) chunks.push(toBuffer(chunk, encoding))
    return true
  }) as typeof res.write
  res.end = ((chunk?: unknown, encoding?: unknown, done?: unknown) => {
    if (chunk && typeof chunk !== 'function') chunks.push(toBuffer(chunk, encoding))
    let body = Buffer.concat(chunks)
    const type = String(res.getHeader('content-type') ?? '')
    if (res.statusCode === 200 && type.includes('json')) {
      try {
        const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>
        change(parsed)
        body = Buffer.from(JSON.stringify(parsed))
      } catch {
        // Not the JSON expected after all: pass it on as it came.
      }
    }
    res.write = write
    return typeof done === 'function' ? end(body, done as () => void) : end(body)
  }) as typeof res.end
}

function requireUser(req: AuthenticatedRequest): string {
  if (!req.kiteUser) {
    throw new RegistryError('this needs an account: log in with npm login', {
      code: 'UNAUTHENTICATED',
    })
  }
  return req.kiteUser
}

function toBuffer(chunk: unknown, encoding: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk
  if (chunk instanceof Uint8Array) return Buffer.from(chunk)
  return Buffer.from(
    String(chunk),
    typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8',
  )
}
