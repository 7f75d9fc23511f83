import { getConnInfo } from '@hono/node-server/conninfo'
import { z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import { isRuntimeError } from '../errors.js'
import { SESSION_COOKIE } from './auth-middleware.js'
import { authStateOf } from './auth-state.js'
import { authServiceOf, errorAnswer, jsonAnswer, type RouteContext, resource } from './router.js'
import { type ErrorBody, LoginBody, Me, SessionUser } from './schemas.js'

const { route, router } = resource('Authentication')

const login = route('post', '/auth/login', {
  summary: 'Log in (the UI): opens a session',
  description:
    'Sets the cookie `kite_session` (HttpOnly, SameSite=Strict). Unknown user and wrong password get the same answer; failed attempts are limited per username and per client address (in memory, per process).',
  request: {
    body: { required: true, content: { 'application/json': { schema: LoginBody } } },
  },
  responses: {
    200: jsonAnswer(z.object({ user: SessionUser }).openapi('LoginAnswer'), 'Logged in.'),
    400: errorAnswer('The body is not `{ username, password }`.'),
    401: errorAnswer('Wrong username or password (`LOGIN_FAILED`).'),
    429: errorAnswer('Too many failed attempts: try again later (`Retry-After`).'),
  },
})

const logout = route('post', '/auth/logout', {
  summary: 'Log out: ends the session and clears its cookie',
  responses: {
    204: { description: 'Logged out (also when there was no session).' },
    403: errorAnswer('A session cookie without the `X-Kite-Csrf: 1` header.'),
  },
})

const me = route('get', '/auth/me', {
  summary: 'Who is logged in, and whether this runtime asks for a login',
  description: 'Never 401: the UI calls it first to decide whether to show the login page.',
  responses: { 200: jsonAnswer(Me, 'The user (or null) and whether auth is required.') },
})

/** The login failure, the same for an unknown user and a wrong password. */
const LOGIN_FAILED: ErrorBody & { errors: [] } = {
  message: 'wrong username or password',
  code: 'LOGIN_FAILED',
  errors: [],
}

/** `/auth/login`, `/auth/logout` and `/auth/me` (the UI's session; SPEC 10). */
export function createAuthRoutes(context: RouteContext) {
  const service = () => authServiceOf(context)
  return router()
    .openapi(login, async (c) => {
      const { username, password } = c.req.valid('json')
      try {
        const result = await service().login(username, password, clientAddress(c))
        setCookie(c, SESSION_COOKIE, result.session, {
          httpOnly: true,
          sameSite: 'Strict',
          path: '/',
          secure: new URL(c.req.url).protocol === 'https:',
          expires: result.expiresAt,
        })
        return c.json({ user: result.user }, 200)
      } catch (error) {
        if (!isRuntimeError(error)) throw error
        if (error.code === 'LOGIN_FAILED') return c.json(LOGIN_FAILED, 401)
        if (error.code === 'RATE_LIMITED') {
          c.header('Retry-After', String(retryAfterOf(error.cause)))
        }
        throw error
      }
    })
    .openapi(logout, async (c) => {
      const session = getCookie(c, SESSION_COOKIE)
      if (session !== undefined) await service().logout(session)
      deleteCookie(c, SESSION_COOKIE, { path: '/' })
      return c.body(null, 204)
    })
    .openapi(me, (c) => {
      const { principal, required } = authStateOf(c.req.raw)
      const user =
        principal && principal.kind !== 'open'
          ? { name: principal.name, role: principal.role }
          : null
      return c.json({ user, authRequired: required }, 200)
    })
}

/** The seconds the login limiter asks to wait (the RATE_LIMITED error's cause). */
function retryAfterOf(cause: unknown): number {
  const value = (cause as { retryAfter?: unknown } | undefined)?.retryAfter
  return typeof value === 'number' ? value : 60
}

/** The client's address (for the login limit); `unknown` outside a node server (tests' `app.request`). */
function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown'
  } catch {
    return 'unknown'
  }
}
