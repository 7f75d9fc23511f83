import { OpenAPIHono } from '@hono/zod-openapi'
import type { Context, MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { type AuthServiceOptions, createAuthService } from '../auth/auth-service.js'
import { isRuntimeError, messageOf, type RuntimeErrorCode } from '../errors.js'
import type { RuntimeLogger } from '../executor/engine.js'
import type { Runtime } from '../runtime.js'
import { createAuthMiddleware } from './auth-middleware.js'
import { API_PREFIX, createApiRoutes } from './routes.js'
import { createUiRoutes } from './ui.js'

/** Default largest request body: 1 MiB (flows and inputs are far smaller). */
export const DEFAULT_BODY_LIMIT = 1024 * 1024

export interface ApiOptions {
  runtime: Runtime
  /** Largest request body in bytes. */
  bodyLimit?: number
  logger?: RuntimeLogger
  version?: string
  /** An admin token outside the store (default `KITE_ADMIN_TOKEN`). */
  adminToken?: string
  /** Whether the API answers openly while no user exists (default true; `createServer` allows it on loopback only). */
  openWithoutUsers?: boolean
  /** Session lifetime and login limits. */
  auth?: Pick<AuthServiceOptions, 'sessionTtlMs' | 'loginLimits'>
  /** The built web UI served at `/ui/` (default: `resolveUiDir()`). */
  uiDir?: string
}

const STATUS: Record<RuntimeErrorCode, ContentfulStatusCode> = {
  FLOW_INVALID: 422,
  INPUTS_INVALID: 422,
  CONFIG_INVALID: 422,
  PROPERTIES_INVALID: 422,
  EXPRESSION: 422,
  PLUGIN_NOT_FOUND: 422,
  PLUGIN_VERSION: 422,
  PLUGIN_INVALID: 422,
  PLUGIN_CONFLICT: 409,
  PLUGIN_PERMISSION: 403,
  FLOW_NOT_FOUND: 404,
  EXECUTION_NOT_FOUND: 404,
  NOT_FOUND: 404,
  REGISTRY_UNAVAILABLE: 502,
  STORAGE: 404,
  FLOW_EXISTS: 409,
  FLOW_DISABLED: 409,
  EXECUTION_STATE: 409,
  EXECUTION_EXISTS: 409,
  REQUEST_INVALID: 400,
  UNAUTHORIZED: 401,
  UNAUTHENTICATED: 401,
  LOGIN_FAILED: 401,
  FORBIDDEN: 403,
  RATE_LIMITED: 429,
  USER_EXISTS: 409,
  USER_NOT_FOUND: 404,
  TOKEN_NOT_FOUND: 404,
  LAST_ADMIN: 409,
  UNSUPPORTED_MEDIA_TYPE: 415,
  SECRET_NOT_FOUND: 422,
  BODY_TOO_LARGE: 413,
  TASK_FAILED: 500,
  TASK_TIMEOUT: 500,
  TASK_KILLED: 500,
  WORKER_LOST: 500,
  INTERNAL: 500,
}

/**
 * The HTTP API of SPEC section 6 under `/api/v1`. Every error is JSON: `{ message, code }`, plus
 * `errors: [{ path, message, line? }]` for validation errors.
 */
export function createApi(options: ApiOptions) {
  const limit = options.bodyLimit ?? DEFAULT_BODY_LIMIT
  const app = new OpenAPIHono()

  app.onError((error, c) => {
    if (isRuntimeError(error)) {
      const status = STATUS[error.code] ?? 500
      if (status >= 500) options.logger?.error(`${c.req.method} ${c.req.path}: ${error.message}`)
      return c.json(
        {
          message: error.message,
          code: error.code,
          ...(error.issues.length > 0 ? { errors: error.issues } : {}),
        },
        status,
      )
    }
    // Hono's validators raise these for a body that does not parse or a media type we do not take.
    if (error instanceof HTTPException && error.status < 500) {
      const json = error.status === 400
      const form = (c.req.header('content-type') ?? '').startsWith('multipart/form-data')
      const message = json
        ? form
          ? 'the body is not valid multipart/form-data'
          : 'the body is not valid JSON'
        : error.status === 415
          ? `the body must be JSON (Content-Type: application/json), got ${c.req.header('content-type') ?? 'none'}`
          : error.message
      const code = json
        ? 'REQUEST_INVALID'
        : error.status === 415
          ? 'UNSUPPORTED_MEDIA_TYPE'
          : 'REQUEST_INVALID'
      return c.json({ message, code }, error.status)
    }
    options.logger?.error(
      `${c.req.method} ${c.req.path}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    )
    return c.json({ message: `internal error: ${messageOf(error)}`, code: 'INTERNAL' }, 500)
  })
  app.notFound((c) =>
    c.json({ message: `no route for ${c.req.method} ${c.req.path}`, code: 'NOT_FOUND' }, 404),
  )
  const limitOf = (maxSize: number, what: string): MiddlewareHandler => {
    const tooLarge = (c: Context) =>
      c.json(
        {
          message: `the ${what} is larger than the limit of ${formatBytes(maxSize)}`,
          code: 'BODY_TOO_LARGE',
        },
        413,
      )
    const counted = bodyLimit({ maxSize, onError: tooLarge })
    // A body of a stated length (or none) is judged by its headers, as hono's bodyLimit does, but
    // without asking for `c.req.raw.body`: that turns node-server's light request into a full
    // `Request` (a web stream, an AbortController), about a tenth of a small request's cost.
    // Only a streamed (chunked) body is counted as it is read.
    return async (c, next) => {
      if (c.req.header('transfer-encoding') !== undefined) return counted(c, next)
      const length = c.req.header('content-length')
      if (length === undefined || length === '0') {
        markBodyless(c.req.raw)
        return next()
      }
      if (!/^\d+$/.test(length)) return counted(c, next)
      return Number(length) > maxSize ? tooLarge(c) : next()
    }
  }
  const bodies = limitOf(limit, 'request body')
  // FILE inputs come as multipart/form-data on the execution routes, up to executions.maxUploadBytes.
  const uploads = limitOf(
    options.runtime.config.executions.maxUploadBytes,
    'upload (executions.maxUploadBytes)',
  )
  app.use('*', (c, next) =>
    c.req.path.startsWith(`${API_PREFIX}/executions/`) &&
    (c.req.header('content-type') ?? '').startsWith('multipart/form-data')
      ? uploads(c, next)
      : bodies(c, next),
  )

  app.route('/', createUiRoutes(options.uiDir))
  const adminToken = options.adminToken ?? process.env.KITE_ADMIN_TOKEN
  const auth = createAuthService({
    ...options.auth,
    store: options.runtime.store.auth,
    ...(adminToken ? { adminToken } : {}),
  })
  app.use(
    `${API_PREFIX}/*`,
    createAuthMiddleware({ auth, openWithoutUsers: options.openWithoutUsers ?? true }),
  )
  return app.route(
    API_PREFIX,
    createApiRoutes({
      runtime: options.runtime,
      auth,
      ...(options.version ? { version: options.version } : {}),
      ...(adminToken ? { adminToken } : {}),
    }),
  )
}

/**
 * A request with neither Content-Length nor Transfer-Encoding, or a length of 0, has no body
 * (RFC 9112, 6.3), yet node-server gives every POST a body stream, and @hono/zod-openapi's
 * media-type check builds the full `Request`, clones it and reads that stream whenever a route
 * takes a JSON body and none was sent (~0.3 ms of a ~1.5 ms `POST /executions/{ns}/{id}` here).
 * Such a request says `body: null`, as a `Request` made without a body does.
 */
function markBodyless(request: Request): void {
  Object.defineProperty(request, 'body', { value: null, configurable: true })
}

/** The API app; `@kite/client` is typed from it (`hc<KiteApp>`). */
export type KiteApp = ReturnType<typeof createApi>

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${Number((bytes / 1024 / 1024).toFixed(1))} MiB`
    : `${Math.round(bytes / 1024)} KiB`
}
