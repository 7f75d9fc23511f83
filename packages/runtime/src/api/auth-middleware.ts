import type { Context, MiddlewareHandler } from 'hono'
import { getCookie } from 'hono/cookie'
import type { AuthService, Principal } from '../auth/auth-service.js'
import { RuntimeError } from '../errors.js'
import { OPEN_PRINCIPAL, setAuthState } from './auth-state.js'
import { API_PREFIX } from './routes.js'

/** The UI's session cookie. */
export const SESSION_COOKIE = 'kite_session'
/** The header every cookie-authenticated change must carry (a cross-site form cannot set it). */
export const CSRF_HEADER = 'x-kite-csrf'

/** The routes anyone may call: the index, health, the login routes and webhooks (their key). */
export function isPublicRoute(method: string, path: string): boolean {
  const route = path.startsWith(API_PREFIX) ? path.slice(API_PREFIX.length) : undefined
  if (route === undefined) return true
  if (
    (method === 'GET' || method === 'HEAD') &&
    (route === '' || route === '/' || route === '/health')
  )
    return true
  return route.startsWith('/auth/') || route.startsWith('/executions/webhook/')
}

/** Routes only admins may call, whatever the method (they list who may log in). */
const ADMIN_ONLY = [`${API_PREFIX}/users`, `${API_PREFIX}/tokens`]
const reads = (method: string) => method === 'GET' || method === 'HEAD'

/** Whether a role may call a route: viewers read (but not users and tokens), admins do all. */
export function roleAllows(role: Principal['role'], method: string, path: string): boolean {
  if (role === 'admin') return true
  return (
    reads(method) && !ADMIN_ONLY.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))
  )
}

export interface AuthMiddlewareOptions {
  auth: AuthService
  /** Whether a runtime without users answers openly (only on loopback). */
  openWithoutUsers: boolean
}

/**
 * SPEC 10's rules on every `/api/v1` request: a bearer token (API tokens, `KITE_ADMIN_TOKEN`) or
 * the UI's session cookie names the principal; cookie-authenticated changes need `X-Kite-Csrf: 1`;
 * once any user exists every route but the public ones needs a principal (401) whose role allows
 * it (403). Without users the API stays open, as before, when `openWithoutUsers`.
 */
export function createAuthMiddleware(options: AuthMiddlewareOptions): MiddlewareHandler {
  const { auth } = options
  return async (c, next) => {
    const { method, path } = c.req
    const { principal, presented } = await identify(c, auth)
    const required = !options.openWithoutUsers || (await auth.hasUsers())
    setAuthState(c.req.raw, {
      ...(principal || !required ? { principal: principal ?? OPEN_PRINCIPAL } : {}),
      required,
    })
    if (isPublicRoute(method, path) || !required) return next()
    if (!principal) {
      throw new RuntimeError(
        !(await auth.hasUsers())
          ? 'this runtime has no users and listens beyond loopback, so it answers nobody: add an admin with `kite users add NAME --role admin --data DIR`'
          : presented
            ? `the ${presented} is not valid (unknown, expired or revoked): log in again at /ui/ or create a token with \`kite tokens create\``
            : "sign in first: log in at /ui/, or send Authorization: Bearer <token> (a token comes from the UI's Users page, or from `kite tokens create` run with an admin's token)",
        { code: 'UNAUTHENTICATED' },
      )
    }
    if (!roleAllows(principal.role, method, path)) {
      throw new RuntimeError(
        `user "${principal.name}" is a ${principal.role} and may only read: ${method} ${path} needs an admin`,
        { code: 'FORBIDDEN' },
      )
    }
    return next()
  }
}

/** The principal of the request's bearer token or session cookie, and which one it presented. */
async function identify(
  c: Context,
  auth: AuthService,
): Promise<{ principal?: Principal; presented?: 'token' | 'session' }> {
  const authorization = c.req.header('authorization')
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization)
    const principal = match?.[1] ? await auth.authenticateToken(match[1]) : undefined
    return { ...(principal ? { principal } : {}), presented: 'token' }
  }
  const session = getCookie(c, SESSION_COOKIE)
  if (session === undefined) return {}
  const principal = await auth.authenticateSession(session)
  if (principal && !reads(c.req.method) && c.req.header(CSRF_HEADER) !== '1') {
    throw new RuntimeError(
      `a change made with the session cookie needs the header X-Kite-Csrf: 1 (the UI sends it): ${c.req.method} ${c.req.path} refused`,
      { code: 'FORBIDDEN' },
    )
  }
  return { ...(principal ? { principal } : {}), presented: 'session' }
}
