import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { pokemonV1, simplePlugin } from '../test/fixtures/plugins.js'
import {
  createUser,
  getJson,
  npm,
  publishPlugin,
  startTestRegistry,
  type TestRegistry,
  writeNpmrc,
} from '../test/helpers.js'

const PKG = '@acme/kite-plugin-pokemon'
const AUDIT = '/-/kite/api/v1/audit'

// Every test drives the real npm CLI several times; on a loaded machine that takes a while.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 })

let t: TestRegistry
let url: string
let cache: string
let aliceRc: string
let bobRc: string
let carolRc: string
let aliceToken: string
let bobToken: string

function run(args: string[], userconfig: string, prompts?: Array<[RegExp, string]>) {
  return npm(args, { cwd: t.dir, userconfig, registry: url, cache, prompts })
}

function authed(token: string, init: RequestInit = {}): RequestInit {
  return { ...init, headers: { ...init.headers, authorization: `Bearer ${token}` } }
}

async function audit(token: string, query = '') {
  const response = await fetch(`${url}${AUDIT}${query}`, authed(token))
  return {
    status: response.status,
    body: (await response.json()) as {
      entries?: Array<{ actor: string; action: string; package: string | null; subject: string }>
      error?: string
    },
  }
}

/** `npm adduser` or `npm login` at its prompts (legacy auth), into a fresh npmrc; its token. */
async function npmLogin(
  command: 'adduser' | 'login',
  rc: string,
  name: string,
  password: string,
): Promise<string> {
  await writeFile(rc, '')
  const result = await run([command, '--auth-type=legacy'], rc, [
    [/Username:/, name],
    [/Password:/, password],
    [/Email/, `${name}@example.com`],
  ])
  expect(result.code, result.stderr).toBe(0)
  return ((await readFile(rc, 'utf8')).match(/_authToken=(\S+)/) as RegExpMatchArray)[1] as string
}

beforeAll(async () => {
  t = await startTestRegistry()
  url = t.registry.url
  cache = join(t.dir, 'npm-cache')
  aliceRc = join(t.dir, 'alice.npmrc')
  aliceToken = await npmLogin('adduser', aliceRc, 'alice', 'correct-horse-9')
  bobToken = await createUser(url, 'bob')
  bobRc = await writeNpmrc(join(t.dir, 'bob.npmrc'), url, bobToken)
  carolRc = await writeNpmrc(join(t.dir, 'carol.npmrc'), url, await createUser(url, 'carol'))
  await publishPlugin(url, aliceToken, { name: PKG, version: '1.0.0', plugin: pokemonV1() })
})

afterAll(async () => {
  await t?.close()
})

describe('owners, like npm owner', () => {
  it('lists the first publisher as owner, with e-mail', async () => {
    const ls = await run(['owner', 'ls', PKG], bobRc)
    expect(ls.code, ls.stderr).toBe(0)
    expect(ls.stdout.trim()).toBe('alice <alice@example.com>')
  })

  it('refuses owner changes by a non-owner, and for an account that does not exist', async () => {
    const refused = await run(['owner', 'add', 'bob', PKG], bobRc)
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toMatch(/bob is not a maintainer of @acme\/kite-plugin-pokemon/)
    const nobody = await run(['owner', 'add', 'nobody-here', PKG], aliceRc)
    expect(nobody.code).not.toBe(0)
    expect(nobody.stderr).toMatch(/404|no account named nobody-here/)
    expect((await run(['owner', 'ls', PKG], bobRc)).stdout.trim()).toBe('alice <alice@example.com>')
  })

  it('adds an owner, who may then publish and owns the group; removes one', async () => {
    const add = await run(['owner', 'add', 'bob', PKG], aliceRc)
    expect(add.code, add.stderr).toBe(0)
    expect(add.stdout).toContain(`+ bob (${PKG})`)
    expect((await run(['owner', 'ls', PKG], carolRc)).stdout.trim().split('\n')).toEqual([
      'alice <alice@example.com>',
      'bob <bob@example.com>',
    ])
    const { body } = await getJson<{ maintainers: string[] }>(`${url}/-/kite/api/v1/plugins/${PKG}`)
    expect(body.maintainers).toEqual(['alice', 'bob'])
    await publishPlugin(url, bobToken, { name: PKG, version: '1.0.1', plugin: pokemonV1() })

    const rm = await run(['owner', 'rm', 'alice', PKG], bobRc)
    expect(rm.code, rm.stderr).toBe(0)
    expect((await run(['owner', 'ls', PKG], carolRc)).stdout.trim()).toBe('bob <bob@example.com>')
    await expect(
      publishPlugin(url, aliceToken, { name: PKG, version: '1.0.2', plugin: pokemonV1() }),
    ).rejects.toThrow(/403 alice is not a maintainer/)
    // The last owner cannot be removed (npm refuses it before asking).
    const last = await run(['owner', 'rm', 'bob', PKG], bobRc)
    expect(last.code).not.toBe(0)
  })

  it('refuses deprecate and unpublish by a non-owner, with the reason', async () => {
    const deprecate = await run(['deprecate', `${PKG}@1.0.0`, 'nope'], carolRc)
    expect(deprecate.code).not.toBe(0)
    expect(deprecate.stderr).toMatch(/carol is not a maintainer/)
    const unpublish = await run(['unpublish', `${PKG}@1.0.0`], carolRc)
    expect(unpublish.code).not.toBe(0)
    expect(unpublish.stderr).toMatch(/carol is not a maintainer/)
    const ok = await run(['deprecate', `${PKG}@1.0.0`, 'use 1.0.1'], bobRc)
    expect(ok.code, ok.stderr).toBe(0)
  })

  it('keeps owners set with npm owner across a restart that rebuilds the catalog', async () => {
    await t.restart()
    url = t.registry.url
    await writeNpmrc(bobRc, url, bobToken)
    await writeNpmrc(aliceRc, url, aliceToken)
    const { body } = await getJson<{ maintainers: string[] }>(`${url}/-/kite/api/v1/plugins/${PKG}`)
    expect(body.maintainers).toEqual(['bob'])
  })
})

describe('npm search', () => {
  it('prints each hit with its version and publish date', async () => {
    const search = await run(['search', 'pokemon', '--parseable'], carolRc)
    expect(search.code, search.stderr).toBe(0)
    const line = search.stdout.split('\n').find((l) => l.startsWith(`${PKG}\t`))
    expect(line, search.stdout).toBeDefined()
    const fields = (line as string).split('\t')
    expect(fields).toContain('1.0.1')
    expect(fields.some((f) => /^\d{4}-\d{2}-\d{2}/.test(f))).toBe(true)
    const text = await run(['search', 'pokemon'], carolRc)
    expect(text.stdout).not.toMatch(/Version undefined|prehistoric/)
  })
})

describe('the audit log', () => {
  it('records publishes, deprecations and owner changes, for owners only', async () => {
    const own = await audit(bobToken, `?package=${encodeURIComponent(PKG)}`)
    expect(own.status).toBe(200)
    expect(own.body.entries?.map((e) => [e.actor, e.action, e.subject ?? null])).toEqual([
      ['alice', 'publish', null],
      ['alice', 'owner.add', 'bob'],
      ['bob', 'publish', null],
      ['bob', 'owner.rm', 'alice'],
      ['bob', 'deprecate', null],
    ])
    const other = await audit(aliceToken, `?package=${encodeURIComponent(PKG)}`)
    expect(other.status).toBe(403)
    expect(other.body.error).toMatch(/only the owners of @acme\/kite-plugin-pokemon/)
    const anonymous = await fetch(`${url}${AUDIT}`)
    expect(anonymous.status).toBe(401)
  })
})

describe('tokens, like npm token', () => {
  it('lists the login token, and revoking it works at once', async () => {
    const rc = join(t.dir, 'dave.npmrc')
    const secret = await npmLogin('login', rc, 'dave', 'dave-horse-9')
    const list = await run(['token', 'list', '--json'], rc)
    expect(list.code, list.stderr).toBe(0)
    const tokens = JSON.parse(list.stdout) as Array<{ key: string; token: string; name: string }>
    expect(tokens).toHaveLength(1)
    expect(tokens[0]?.name).toBe('npm login')
    expect(secret?.startsWith(tokens[0]?.token as string)).toBe(true)

    // A token created with the password is listed beside it.
    const created = await run(['token', 'create', '--password', 'dave-horse-9', '--json'], rc)
    expect(created.code, created.stderr).toBe(0)
    const fresh = (JSON.parse(created.stdout) as { token: string }).token
    expect(JSON.parse((await run(['token', 'list', '--json'], rc)).stdout)).toHaveLength(2)
    const wrong = await run(['token', 'create', '--password', 'not-it'], rc)
    expect(wrong.code).not.toBe(0)
    expect(wrong.stderr).toMatch(/wrong password for dave/)

    const revoke = await run(['token', 'revoke', tokens[0]?.key.slice(0, 8) as string], rc)
    expect(revoke.code, revoke.stderr).toBe(0)
    const after = await run(['whoami'], rc)
    expect(after.code).not.toBe(0)
    expect(after.stderr).toMatch(/revoked/)
    const other = await writeNpmrc(join(t.dir, 'dave2.npmrc'), url, fresh)
    expect((await run(['whoami'], other)).stdout.trim()).toBe('dave')
    const log = await audit(fresh)
    expect(
      log.body.entries?.filter((e) => e.action.startsWith('token.')).map((e) => e.action),
    ).toEqual(['token.create', 'token.create', 'token.revoke'])
  })

  it('refuses an expired token; a new npm login gives a fresh one', async () => {
    await t.restart({ tokenTtlMs: 2000 })
    url = t.registry.url
    const token = await createUser(url, 'erin')
    const rc = await writeNpmrc(join(t.dir, 'erin.npmrc'), url, token)
    expect((await fetch(`${url}/-/whoami`, authed(token))).status).toBe(200)
    await new Promise((resolve) => setTimeout(resolve, 2100))
    const expired = await run(['whoami'], rc)
    expect(expired.code).not.toBe(0)
    expect(expired.stderr).toMatch(/expired/)
    const login = await run(['login', '--auth-type=legacy'], rc, [
      [/Username:/, 'erin'],
      [/Password:/, 'correct-horse-9'],
      [/Email/, 'erin@example.com'],
    ])
    expect(login.code, login.stderr).toBe(0)
    const again = ((await readFile(rc, 'utf8')).match(/_authToken=(\S+)/) as RegExpMatchArray)[1]
    expect(again).not.toBe(token)
    expect((await fetch(`${url}/-/whoami`, authed(again as string))).status).toBe(200)
    await t.restart({ tokenTtlMs: undefined })
    url = t.registry.url
  })

  it('refuses unknown tokens, verdaccio tokens and garbage in token requests', async () => {
    for (const token of ['kite_nothing', 'not-a-kite-token', 'eyJhbGciOiJIUzI1NiJ9.e30.x']) {
      const response = await fetch(`${url}/-/whoami`, authed(token))
      expect(response.status).toBe(401)
      expect(((await response.json()) as { error: string }).error).toMatch(/unknown, revoked/)
    }
    const bad = await fetch(`${url}/-/npm/v1/tokens`, {
      ...authed(bobToken),
      method: 'POST',
      headers: { authorization: `Bearer ${bobToken}`, 'content-type': 'application/json' },
      body: '{not json',
    })
    expect(bad.status).toBe(400)
    const badExpiry = await fetch(`${url}/-/npm/v1/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bobToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ password: 'correct-horse-9', expires: -3 }),
    })
    expect(badExpiry.status).toBe(400)
    const notMine = await fetch(`${url}/-/npm/v1/tokens/token/abc`, {
      ...authed(bobToken),
      method: 'DELETE',
    })
    expect(notMine.status).toBe(404)
    const badLogin = await fetch(`${url}/-/user/org.couchdb.user:zed`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '[[[',
    })
    expect(badLogin.status).toBe(400)
    // Still up and answering.
    expect((await fetch(`${url}/-/whoami`, authed(bobToken))).status).toBe(200)
  })
})

describe('deleting an account', () => {
  it('revokes every token at once; the password stops working', async () => {
    const token = await createUser(url, 'frank')
    const rc = await writeNpmrc(join(t.dir, 'frank.npmrc'), url, token)
    await publishPlugin(url, token, {
      name: '@frank/kite-plugin-f',
      version: '1.0.0',
      plugin: simplePlugin('frank.f'),
    })
    const someoneElse = await fetch(`${url}/-/kite/api/v1/accounts/frank`, {
      ...authed(bobToken),
      method: 'DELETE',
    })
    expect(someoneElse.status).toBe(403)
    const deleted = await fetch(`${url}/-/kite/api/v1/accounts/frank`, {
      ...authed(token),
      method: 'DELETE',
    })
    expect(deleted.status).toBe(200)
    expect(await deleted.json()).toMatchObject({ ok: true, revokedTokens: 1 })
    const whoami = await run(['whoami'], rc)
    expect(whoami.code).not.toBe(0)
    expect(whoami.stderr).toMatch(/401|revoked/)
    const deprecate = await run(['deprecate', '@frank/kite-plugin-f@1.0.0', 'x'], rc)
    expect(deprecate.code).not.toBe(0)
    const lookup = await fetch(`${url}/-/user/org.couchdb.user:frank`)
    expect(lookup.status).toBe(404)
    // The operator can delete an account too.
    expect(t.registry.deleteAccount('bob')).toBeGreaterThan(0)
    expect((await fetch(`${url}/-/whoami`, authed(bobToken))).status).toBe(401)
  })
})
