import { createRoute, OpenAPIHono, type RouteConfig, type z } from '@hono/zod-openapi'
import type { AuthService } from '../auth/auth-service.js'
import { RuntimeError, type ValidationIssue } from '../errors.js'
import type { Runtime } from '../runtime.js'
import { authStateOf } from './auth-state.js'
import { ErrorBody } from './schemas.js'

/** What every resource's routes get: the runtime they act on. */
export interface RouteContext {
  readonly runtime: Runtime
  /** The version `/health`, `/api/v1` and the OpenAPI document report. */
  version?: string
  /** `KITE_ADMIN_TOKEN`: on a runtime without users, the admin routes need it (undefined: open). */
  adminToken?: string
  /** Users, tokens and sessions (absent while the OpenAPI document is generated). */
  auth?: AuthService
}

/**
 * A router for one resource. Every resource file (`flows.ts`, `executions.ts`, ...) exports a
 * `create<Resource>Routes(context)` that chains `.openapi(route, handler)` on one of these, and
 * `createApi` mounts them all under `/api/v1` with `.route('/', ...)`: the chain keeps the types
 * `@kite/client` reads, the registry keeps what the OpenAPI document says.
 */
export function createRouter() {
  return new OpenAPIHono({
    defaultHook: (result) => {
      if (!result.success) throw requestInvalid(result.target, result.error.issues)
    },
  })
}

/** A failed parameter or body check as the API's one error shape, with the path of each problem. */
export function requestInvalid(target: string, issues: readonly z.core.$ZodIssue[]): RuntimeError {
  const where = target === 'json' ? 'body' : target
  const list: ValidationIssue[] = issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }))
  const first = list[0]
  return new RuntimeError(
    `invalid request: ${first ? `${first.path}: ${first.message}` : `bad ${where}`}${list.length > 1 ? ` (and ${list.length - 1} more)` : ''}`,
    { code: 'REQUEST_INVALID', issues: list },
  )
}

/** An error answer in the OpenAPI document. */
export const errorAnswer = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorBody } },
})

/** A JSON answer in the OpenAPI document. */
export const jsonAnswer = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
})

/** The note admin routes carry in the document. */
const ADMIN_NOTE =
  'Needs an admin: a user or token with the `admin` role, or `KITE_ADMIN_TOKEN` (401 without one, 403 for a viewer).'

/** The answers of a refused admin route in the document (see `checkAdmin`). */
const ADMIN_ANSWERS = {
  401: errorAnswer('No admin token or login.'),
  403: errorAnswer('The user or token is a viewer.'),
}

/** A route's declaration but its method, path and tag (`resource` gives those). */
type RouteOptions = Omit<RouteConfig, 'method' | 'path' | 'tags'>

/**
 * What one resource file declares its routes with, given its tag (its section in the OpenAPI
 * document), so the file says the tag once: `route(method, path, options)` (`createRoute` with
 * the tag), `adminRoute`
 * (a route that needs an admin: `ADMIN_NOTE` after its description and the 401/403 answers) and
 * `router` (`createRouter`).
 */
export function resource(tag: string) {
  const route = <M extends RouteConfig['method'], P extends string, R extends RouteOptions>(
    method: M,
    path: P,
    config: R,
  ) => createRoute({ ...config, method, path, tags: [tag] })
  const adminRoute = <M extends RouteConfig['method'], P extends string, R extends RouteOptions>(
    method: M,
    path: P,
    config: R,
  ) =>
    route(method, path, {
      ...config,
      description: config.description ? `${config.description} ${ADMIN_NOTE}` : ADMIN_NOTE,
      responses: { ...config.responses, ...ADMIN_ANSWERS },
    })
  return { route, adminRoute, router: createRouter }
}

/** The value a route loads, or the API's 404 error (`notFound`) when there is none. */
export function found<T>(value: T | undefined, notFound: () => RuntimeError): T {
  if (value === undefined) throw notFound()
  return value
}

/** The auth service of an app (the OpenAPI document is built without one, and runs no handler). */
export function authServiceOf(context: RouteContext): AuthService {
  if (!context.auth) {
    throw new RuntimeError('authentication is not set up in this app', { code: 'INTERNAL' })
  }
  return context.auth
}

/**
 * Refuses a request that does not come from an admin. Once users exist the auth middleware has
 * done so already; on a runtime without users it is open, except these routes when
 * `KITE_ADMIN_TOKEN` is configured.
 */
export function checkAdmin(context: RouteContext, request: Request): void {
  const { principal } = authStateOf(request)
  if (principal?.kind === 'open' ? !context.adminToken : principal?.role === 'admin') return
  throw new RuntimeError(
    principal && principal.kind !== 'open'
      ? `user "${principal.name}" is a ${principal.role}: this route needs an admin`
      : 'this route needs an admin: send Authorization: Bearer <KITE_ADMIN_TOKEN> or an admin token',
    { code: principal && principal.kind !== 'open' ? 'FORBIDDEN' : 'UNAUTHORIZED' },
  )
}
