import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase } from '../../test/fixtures/postgres.js'
import { createAuthService } from '../auth/auth-service.js'
import { createPostgresStore } from './postgres-store.js'
import { createSqliteStore } from './sqlite-store.js'
import type { Store } from './store.js'

// Users, tokens and sessions through the auth service, on both stores: one code path.
const KINDS = [
  {
    name: 'SQLite',
    async open() {
      const dir = await mkdtemp(join(tmpdir(), 'kite-auth-store-'))
      const store = await createSqliteStore({ file: join(dir, 'kite.db') })
      return { store, drop: () => rm(dir, { recursive: true, force: true }) }
    },
  },
  {
    name: 'postgres',
    async open() {
      const database = await createTestDatabase()
      return { store: await createPostgresStore({ url: database.url }), drop: database.drop }
    },
  },
]

const PASSWORD = 'a long enough password'

describe.each(KINDS)('auth on the $name store', (kind) => {
  let store: Store
  let drop: () => Promise<void>
  beforeAll(async () => {
    ;({ store, drop } = await kind.open())
  })
  afterAll(async () => {
    await store.close()
    await drop()
  })

  it('stores users with salted scrypt hashes, never the password', async () => {
    const auth = createAuthService({ store: store.auth })
    expect(await auth.hasUsers()).toBe(false)
    await auth.addUser({ name: 'ada', role: 'admin', password: PASSWORD })
    await auth.addUser({ name: 'bob', role: 'viewer', password: PASSWORD })
    expect(await auth.hasUsers()).toBe(true)
    const [ada, bob] = await store.auth.listUsers()
    expect(ada?.passwordHash).toMatch(/^scrypt\$16384\$8\$1\$/)
    expect(ada?.passwordHash).not.toContain(PASSWORD)
    // A salt each: the same password hashes differently.
    expect(ada?.passwordHash).not.toBe(bob?.passwordHash)
    await expect(
      auth.addUser({ name: 'ada', role: 'viewer', password: PASSWORD }),
    ).rejects.toMatchObject({
      code: 'USER_EXISTS',
    })
  })

  it('opens sessions that name the user and end on logout', async () => {
    const auth = createAuthService({ store: store.auth })
    const { session, user } = await auth.login('bob', PASSWORD, '127.0.0.1')
    expect(user).toEqual({ name: 'bob', role: 'viewer' })
    expect(await auth.authenticateSession(session)).toMatchObject({ name: 'bob', role: 'viewer' })
    await auth.logout(session)
    expect(await auth.authenticateSession(session)).toBeUndefined()
    await expect(auth.login('bob', 'wrong password', '127.0.0.1')).rejects.toMatchObject({
      code: 'LOGIN_FAILED',
    })
    await expect(auth.login('nobody', PASSWORD, '127.0.0.1')).rejects.toMatchObject({
      code: 'LOGIN_FAILED',
      message: 'wrong username or password',
    })
  })

  it('expires sessions', async () => {
    const auth = createAuthService({ store: store.auth, sessionTtlMs: 1 })
    const { session } = await auth.login('ada', PASSWORD, '127.0.0.1')
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(await auth.authenticateSession(session)).toBeUndefined()
  })

  it('creates tokens stored as hashes, revocable at once', async () => {
    const auth = createAuthService({ store: store.auth })
    const { token, info } = await auth.createToken({ name: 'ci', role: 'viewer', owner: 'ada' })
    expect(await auth.authenticateToken(token)).toEqual({
      kind: 'token',
      name: 'ada',
      role: 'viewer',
    })
    const listed = await auth.listTokens()
    expect(listed).toContainEqual(
      expect.objectContaining({ id: info.id, lastUsedAt: expect.any(String) }),
    )
    expect(JSON.stringify(listed)).not.toContain(token)
    await auth.revokeToken(info.id)
    expect(await auth.authenticateToken(token)).toBeUndefined()
    await expect(auth.revokeToken(info.id)).rejects.toMatchObject({ code: 'TOKEN_NOT_FOUND' })
  })

  it('removes a user with their sessions and tokens, but not the last admin', async () => {
    const auth = createAuthService({ store: store.auth })
    const { session } = await auth.login('bob', PASSWORD, '127.0.0.1')
    const { token } = await auth.createToken({ name: 'bobs', role: 'viewer', owner: 'bob' })
    await auth.removeUser('bob')
    expect(await auth.authenticateSession(session)).toBeUndefined()
    expect(await auth.authenticateToken(token)).toBeUndefined()
    await expect(auth.removeUser('ada')).rejects.toMatchObject({ code: 'LAST_ADMIN' })
    await expect(auth.removeUser('bob')).rejects.toMatchObject({ code: 'USER_NOT_FOUND' })
  })
})
