import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { fixturePlugins } from '../../test/fixtures/plugins.js'
import { useTestServer } from '../../test/fixtures/test-server.js'
import { createApi } from './app.js'
import { isPublicRoute } from './auth-middleware.js'
import { createOpenApiDocument } from './openapi.js'
import { API_PREFIX } from './routes.js'
import { createServer, isLoopback } from './server.js'

const ADMIN_TOKEN = 'the-admin-token-from-the-environment'
const PASSWORD = 'correct horse battery staple'
const LIMITED_USER = 'limited'

const kite = useTestServer('kite-auth-', {
  adminToken: ADMIN_TOKEN,
  auth: { loginLimits: { perUser: 3, perAddress: 1000, windowMs: 60_000 } },
})

// biome-ignore lint/suspicious/noExplicitAny: API answers are checked by the assertions below
type Json = any
type JsonResponse = Omit<Response, 'json'> & { json(): Promise<Json> }
interface Call {
  method?: string
  token?: string
  cookie?: string
  csrf?: boolean
  body?: unknown
  raw?: string
}
const call = (path: string, options: Call = {}): Promise<JsonResponse> =>
  fetch(`${kite.server.url}/api/v1${path}`, {
    method:
      options.method ?? (options.body === undefined && options.raw === undefined ? 'GET' : 'POST'),
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.cookie ? { cookie: options.cookie } : {}),
      ...(options.csrf ? { 'x-kite-csrf': '1' } : {}),
      ...(options.body !== undefined || options.raw !== undefined
        ? { 'content-type': 'application/json' }
        : {}),
    },
    ...(options.raw !== undefined
      ? { body: options.raw }
      : options.body !== undefined
        ? { body: JSON.stringify(options.body) }
        : {}),
  })
const login = (username: string, password: string) =>
  call('/auth/login', { body: { username, password } })
const sessionCookie = (response: Response) => {
  const set = response.headers.get('set-cookie') ?? ''
  return /kite_session=[^;]*/.exec(set)?.[0]
}

/** Every route of the OpenAPI document, with its parameters filled in. */
const ROUTES = Object.entries(createOpenApiDocument('test').paths ?? {}).flatMap(([path, item]) =>
  (['get', 'put', 'post', 'delete', 'patch'] as const)
    .filter((method) => item?.[method])
    .map((method) => ({
      method: method.toUpperCase(),
      // Relative to /api/v1, as `call` takes it.
      path: path.slice(API_PREFIX.length).replaceAll(/\{\w+\}/g, 'x'),
      template: path,
    })),
)
const FLOW = `
id: hello
namespace: company.team
tasks:
  - id: log
    type: test.fixtures.Log
    message: hi
`

let viewerToken: string
let adminToken: string

describe('a runtime without users', () => {
  it('answers openly on loopback and says so in /auth/me', async () => {
    expect(await (await call('/auth/me')).json()).toEqual({ user: null, authRequired: false })
    expect((await call('/flows')).status).toBe(200)
  })

  it('still asks for KITE_ADMIN_TOKEN on the admin routes', async () => {
    const denied = await call('/users', {
      body: { name: 'alice', role: 'admin', password: PASSWORD },
    })
    expect(denied.status).toBe(401)
    expect((await denied.json()).code).toBe('UNAUTHORIZED')
  })

  it('answers nobody when it is not on loopback', async () => {
    const app = createApi({ runtime: kite.server.runtime, openWithoutUsers: false })
    const response = await app.request('/api/v1/flows')
    expect(response.status).toBe(401)
    expect(((await response.json()) as Json).message).toMatch(/no users.*kite users add/)
    expect((await app.request('/api/v1/health')).status).toBe(200)
  })
})

describe('with users', () => {
  beforeAll(async () => {
    for (const [name, role] of [
      ['alice', 'admin'],
      ['victor', 'viewer'],
      [LIMITED_USER, 'viewer'],
    ]) {
      const added = await call('/users', {
        token: ADMIN_TOKEN,
        body: { name, role, password: PASSWORD },
      })
      expect(added.status, name).toBe(201)
    }
    const viewer = await call('/tokens', {
      token: ADMIN_TOKEN,
      body: { name: 'ci-read', role: 'viewer' },
    })
    const admin = await call('/tokens', {
      token: ADMIN_TOKEN,
      body: { name: 'ci-admin', role: 'admin' },
    })
    expect([viewer.status, admin.status]).toEqual([201, 201])
    viewerToken = (await viewer.json()).token
    adminToken = (await admin.json()).token
    expect(viewerToken).toMatch(/^kite_/)
  })

  it('answers 401 without a token on every route but the public ones', async () => {
    expect(ROUTES.length).toBeGreaterThan(30)
    const publicRoutes: string[] = []
    for (const route of ROUTES) {
      const response = await call(route.path, {
        method: route.method,
        ...(route.method === 'GET' ? {} : { raw: '{}' }),
      })
      const name = `${route.method} ${route.template}`
      if (isPublicRoute(route.method, `/api/v1${route.path}`)) {
        publicRoutes.push(name)
        expect(response.status, name).not.toBe(401)
        await response.body?.cancel()
      } else {
        expect(response.status, name).toBe(401)
        expect((await response.json()).code, name).toBe('UNAUTHENTICATED')
      }
    }
    expect(publicRoutes.sort()).toEqual([
      'GET /api/v1',
      'GET /api/v1/auth/me',
      'GET /api/v1/health',
      'POST /api/v1/auth/login',
      'POST /api/v1/auth/logout',
      'POST /api/v1/executions/webhook/{namespace}/{id}/{key}',
    ])
    expect(await (await call('/auth/me')).json()).toEqual({ user: null, authRequired: true })
  })

  it('lets a viewer read but answers 403 on every route that is not a GET', async () => {
    expect((await call('/flows', { token: viewerToken })).status).toBe(200)
    for (const route of ROUTES.filter((route) => route.method !== 'GET')) {
      if (isPublicRoute(route.method, `/api/v1${route.path}`)) continue
      const name = `${route.method} ${route.template}`
      const response = await call(route.path, {
        method: route.method,
        token: viewerToken,
        raw: '{}',
      })
      expect(response.status, name).toBe(403)
      expect((await response.json()).code, name).toBe('FORBIDDEN')
    }
    expect((await call('/users', { token: viewerToken })).status).toBe(403)
    expect((await call('/tokens', { token: viewerToken })).status).toBe(403)
  })

  it('lets an admin token and KITE_ADMIN_TOKEN change things', async () => {
    const saved = await fetch(`${kite.server.url}/api/v1/flows`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/x-yaml' },
      body: FLOW,
    })
    expect(saved.status).toBe(200)
    const started = await call('/executions/company.team/hello?wait=true', {
      token: ADMIN_TOKEN,
      body: {},
    })
    expect(started.status).toBe(200)
    expect((await started.json()).state.current).toBe('SUCCESS')
    const me = await (await call('/auth/me', { token: adminToken })).json()
    expect(me).toEqual({ user: { name: 'KITE_ADMIN_TOKEN', role: 'admin' }, authRequired: true })
  })

  it('lists tokens without their secrets, with owner and last use', async () => {
    const tokens: Json[] = await (await call('/tokens', { token: adminToken })).json()
    const admin = tokens.find((token) => token.name === 'ci-admin')
    expect(admin).toMatchObject({ owner: 'KITE_ADMIN_TOKEN', role: 'admin' })
    expect(admin.lastUsedAt).toEqual(expect.any(String))
    expect(JSON.stringify(tokens)).not.toContain(adminToken)
    expect(JSON.stringify(tokens)).not.toContain(viewerToken)
  })

  it('stops a revoked token at once', async () => {
    const created = await (
      await call('/tokens', { token: adminToken, body: { name: 'short-lived' } })
    ).json()
    expect(created.role).toBe('admin')
    expect((await call('/flows', { token: created.token })).status).toBe(200)
    const revoked = await call(`/tokens/${created.id}`, { method: 'DELETE', token: adminToken })
    expect(revoked.status).toBe(204)
    const after = await call('/flows', { token: created.token })
    expect(after.status).toBe(401)
    expect((await after.json()).message).toMatch(/token is not valid/)
    expect(
      (await call(`/tokens/${created.id}`, { method: 'DELETE', token: adminToken })).status,
    ).toBe(404)
  })

  it('logs in with a session cookie that is HttpOnly and SameSite=Strict', async () => {
    const response = await login('alice', PASSWORD)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ user: { name: 'alice', role: 'admin' } })
    const set = response.headers.get('set-cookie') ?? ''
    expect(set).toMatch(/kite_session=[\w-]{40,};/)
    expect(set).toMatch(/HttpOnly/)
    expect(set).toMatch(/SameSite=Strict/)
    expect(set).toMatch(/Path=\//)
    expect(set).not.toMatch(/Secure/)
    const cookie = sessionCookie(response)
    expect(await (await call('/auth/me', { cookie })).json()).toEqual({
      user: { name: 'alice', role: 'admin' },
      authRequired: true,
    })
    expect((await call('/flows', { cookie })).status).toBe(200)
  })

  it('asks for X-Kite-Csrf: 1 on changes made with the cookie', async () => {
    const cookie = sessionCookie(await login('alice', PASSWORD))
    const validate = (csrf: boolean) =>
      fetch(`${kite.server.url}/api/v1/flows/validate`, {
        method: 'POST',
        headers: {
          cookie: cookie ?? '',
          'content-type': 'application/x-yaml',
          ...(csrf ? { 'x-kite-csrf': '1' } : {}),
        },
        body: FLOW,
      })
    const without = await validate(false)
    expect(without.status).toBe(403)
    expect(((await without.json()) as Json).message).toMatch(/X-Kite-Csrf: 1/)
    expect((await validate(true)).status).toBe(200)
    // Bearer tokens are not sent by browsers on their own: no header needed.
    expect((await call('/flows/validate', { token: adminToken, raw: '{}' })).status).not.toBe(403)
  })

  it('refuses a tampered or unknown session cookie', async () => {
    const cookie = sessionCookie(await login('alice', PASSWORD)) ?? ''
    const last = cookie.at(-1) === 'A' ? 'B' : 'A'
    for (const tampered of [
      `${cookie.slice(0, -1)}${last}`,
      'kite_session=',
      'kite_session=%00%ff',
    ]) {
      const response = await call('/flows', { cookie: tampered })
      expect(response.status, tampered).toBe(401)
    }
    expect((await call('/flows', { cookie })).status).toBe(200)
  })

  it('ends the session on logout', async () => {
    const cookie = sessionCookie(await login('victor', PASSWORD))
    expect((await call('/flows', { cookie })).status).toBe(200)
    const refused = await call('/auth/logout', { method: 'POST', cookie })
    expect(refused.status).toBe(403)
    const out = await call('/auth/logout', { method: 'POST', cookie, csrf: true })
    expect(out.status).toBe(204)
    expect(out.headers.get('set-cookie')).toMatch(/kite_session=;.*Max-Age=0/)
    expect((await call('/flows', { cookie })).status).toBe(401)
  })

  it('gives the same answer for an unknown user and a wrong password', async () => {
    const unknown = await login('nobody', PASSWORD)
    const wrong = await login('alice', 'not the password')
    expect(unknown.status).toBe(401)
    expect(wrong.status).toBe(401)
    const bodies = [await unknown.text(), await wrong.text()]
    expect(bodies[0]).toBe(bodies[1])
    expect(JSON.parse(bodies[0] ?? '')).toEqual({
      message: 'wrong username or password',
      code: 'LOGIN_FAILED',
      errors: [],
    })
    expect(unknown.headers.get('set-cookie')).toBeNull()
  })

  it('limits failed logins per username, even with the right password after', async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      expect((await login(LIMITED_USER, `wrong ${attempt}`)).status).toBe(401)
    }
    const limited = await login(LIMITED_USER, PASSWORD)
    expect(limited.status).toBe(429)
    expect((await limited.json()).code).toBe('RATE_LIMITED')
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    // Another user is not limited by these failures.
    expect((await login('victor', PASSWORD)).status).toBe(200)
  })

  it('ends the sessions and tokens of a removed user', async () => {
    const added = await call('/users', {
      token: adminToken,
      body: { name: 'temp', role: 'admin', password: PASSWORD },
    })
    expect(added.status).toBe(201)
    const cookie = sessionCookie(await login('temp', PASSWORD))
    const token = (
      await (await call('/tokens', { cookie, csrf: true, body: { name: 'temp-token' } })).json()
    ).token
    expect((await call('/flows', { token })).status).toBe(200)
    expect((await call('/users/temp', { method: 'DELETE', token: adminToken })).status).toBe(204)
    expect((await call('/flows', { cookie })).status).toBe(401)
    expect((await call('/flows', { token })).status).toBe(401)
    const users: Json[] = await (await call('/users', { token: adminToken })).json()
    expect(users.map((user) => user.name)).toEqual(['alice', LIMITED_USER, 'victor'])
    expect(JSON.stringify(users)).not.toMatch(/scrypt/)
  })

  it('keeps the last admin and refuses a duplicate user', async () => {
    const last = await call('/users/alice', { method: 'DELETE', token: adminToken })
    expect(last.status).toBe(409)
    expect((await last.json()).code).toBe('LAST_ADMIN')
    const twice = await call('/users', {
      token: adminToken,
      body: { name: 'victor', role: 'viewer', password: PASSWORD },
    })
    expect(twice.status).toBe(409)
    expect((await call('/users/ghost', { method: 'DELETE', token: adminToken })).status).toBe(404)
  })

  it('answers bad input with a clear 400 and stays up', async () => {
    const cases: Array<[string, Call, RegExp]> = [
      ['/auth/login', { raw: 'not json' }, /not valid JSON/],
      ['/auth/login', { body: { username: 'alice' } }, /body\.password/],
      ['/auth/login', { body: { username: '', password: 'x' } }, /body\.username: is empty/],
      [
        '/auth/login',
        { body: { username: 'alice', password: 'x'.repeat(5000) } },
        /longer than 1024/,
      ],
      [
        '/users',
        { token: adminToken, body: { name: '', role: 'viewer', password: PASSWORD } },
        /body\.name/,
      ],
      [
        '/users',
        { token: adminToken, body: { name: 'Bad Name', role: 'viewer', password: PASSWORD } },
        /lower-case/,
      ],
      [
        '/users',
        { token: adminToken, body: { name: 'bob', role: 'root', password: PASSWORD } },
        /body\.role/,
      ],
      [
        '/users',
        { token: adminToken, body: { name: 'bob', role: 'viewer', password: 'short' } },
        /at least 8/,
      ],
      [
        '/users',
        { token: adminToken, body: { name: 'bob', role: 'viewer', password: 'y'.repeat(2000) } },
        /at most 1024/,
      ],
      ['/tokens', { token: adminToken, body: { name: '../../etc' } }, /body\.name/],
      ['/tokens', { token: adminToken, body: [] }, /body/],
    ]
    for (const [path, options, message] of cases) {
      const response = await call(path, options)
      expect(
        response.status,
        `${path} ${options.raw ?? JSON.stringify(options.body)?.slice(0, 60)}`,
      ).toBe(400)
      expect((await response.json()).message).toMatch(message)
    }
    expect((await call('/health')).status).toBe(200)
  })

  it('never fails inside on any login body (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), fc.string()), async (body) => {
        const response = await call('/auth/login', {
          raw: typeof body === 'string' ? body : JSON.stringify(body),
        })
        expect([400, 401, 429]).toContain(response.status)
        expect(typeof (await response.json()).message).toBe('string')
      }),
      { numRuns: 40 },
    )
    expect((await call('/health')).status).toBe(200)
  })
})

describe('start rules', () => {
  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) {
      expect(isLoopback(host), host).toBe(true)
    }
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com', '128.0.0.1']) {
      expect(isLoopback(host), host).toBe(false)
    }
  })

  it('refuses to listen beyond loopback without a user', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kite-auth-open-'))
    try {
      await expect(
        createServer({ dataDir: dir, port: 0, host: '0.0.0.0', plugins: fixturePlugins() }),
      ).rejects.toThrow(/refusing to listen on 0\.0\.0\.0 without a user.*kite users add/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
