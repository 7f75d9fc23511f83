import type { Kysely } from 'kysely'

/** The two roles: `viewer` reads, `admin` does everything. */
export type UserRole = 'viewer' | 'admin'

/** A user as stored: the password only as its scrypt hash. */
export interface StoredUser {
  name: string
  role: UserRole
  passwordHash: string
  createdAt: string
}

/** An API token as stored: the token itself only as its SHA-256. */
export interface StoredToken {
  id: string
  name: string
  /** The user who created it (`KITE_ADMIN_TOKEN` when made with the admin token). */
  owner: string
  role: UserRole
  createdAt: string
  lastUsedAt?: string
  revokedAt?: string
}

/** A UI session as stored: the cookie's value only as its SHA-256. */
export interface StoredSession {
  userName: string
  role: UserRole
  expiresAt: string
}

/**
 * Users, API tokens and UI sessions (SPEC 10), in the runtime's store: one code path for SQLite
 * and PostgreSQL over the store's kysely instance.
 */
export interface AuthStore {
  countUsers(): Promise<number>
  getUser(name: string): Promise<StoredUser | undefined>
  listUsers(): Promise<StoredUser[]>
  /** False when a user of that name exists already. */
  addUser(user: StoredUser): Promise<boolean>
  /** Removes the user with their sessions, and revokes their tokens; false when there was none. */
  removeUser(name: string, at: string): Promise<boolean>
  countAdmins(): Promise<number>

  addToken(token: StoredToken & { hash: string }): Promise<void>
  /** The live (not revoked) token with this hash (removing a user revokes their tokens). */
  findToken(hash: string): Promise<StoredToken | undefined>
  listTokens(): Promise<StoredToken[]>
  /** False when no live token has this id. */
  revokeToken(id: string, at: string): Promise<boolean>
  touchToken(id: string, at: string): Promise<void>

  addSession(session: {
    hash: string
    userName: string
    createdAt: string
    expiresAt: string
  }): Promise<void>
  /** The session with this hash and its user's current role, unless expired or the user is gone. */
  findSession(hash: string, now: string): Promise<StoredSession | undefined>
  removeSession(hash: string): Promise<void>
  /** Forgets sessions that expired before `now`. */
  removeExpiredSessions(now: string): Promise<void>
}

interface UsersTable {
  name: string
  role: string
  password_hash: string
  created_at: string
}

interface ApiTokensTable {
  id: string
  name: string
  owner: string
  role: string
  hash: string
  created_at: string
  last_used_at: string | null
  revoked_at: string | null
}

interface SessionsTable {
  hash: string
  user_name: string
  created_at: string
  expires_at: string
}

/** The authentication tables, for kysely's types. */
export interface AuthDatabase {
  users: UsersTable
  api_tokens: ApiTokensTable
  sessions: SessionsTable
}

/** The name a token made with `KITE_ADMIN_TOKEN` records as its owner. */
export const ADMIN_TOKEN_OWNER = 'KITE_ADMIN_TOKEN'

const roleOf = (value: string): UserRole => (value === 'admin' ? 'admin' : 'viewer')

const tokenOf = (row: ApiTokensTable): StoredToken => ({
  id: row.id,
  name: row.name,
  owner: row.owner,
  role: roleOf(row.role),
  createdAt: row.created_at,
  ...(row.last_used_at ? { lastUsedAt: row.last_used_at } : {}),
  ...(row.revoked_at ? { revokedAt: row.revoked_at } : {}),
})

const userOf = (row: UsersTable): StoredUser => ({
  name: row.name,
  role: roleOf(row.role),
  passwordHash: row.password_hash,
  createdAt: row.created_at,
})

/** The auth queries over a store's kysely instance (its migrations create the tables). */
export function createAuthStore<T extends AuthDatabase>(database: Kysely<T>): AuthStore {
  // The store's database has more tables; these queries only need these three.
  const db = database as unknown as Kysely<AuthDatabase>
  return {
    async countUsers() {
      const row = await db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .executeTakeFirstOrThrow()
      return Number(row.count)
    },
    async countAdmins() {
      const row = await db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('role', '=', 'admin')
        .executeTakeFirstOrThrow()
      return Number(row.count)
    },
    async getUser(name) {
      const row = await db
        .selectFrom('users')
        .selectAll()
        .where('name', '=', name)
        .executeTakeFirst()
      return row ? userOf(row) : undefined
    },
    async listUsers() {
      const rows = await db.selectFrom('users').selectAll().orderBy('name').execute()
      return rows.map(userOf)
    },
    async addUser(user) {
      const result = await db
        .insertInto('users')
        .values({
          name: user.name,
          role: user.role,
          password_hash: user.passwordHash,
          created_at: user.createdAt,
        })
        .onConflict((conflict) => conflict.column('name').doNothing())
        .executeTakeFirst()
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0
    },
    removeUser(name, at) {
      return db.transaction().execute(async (trx) => {
        await trx.deleteFrom('sessions').where('user_name', '=', name).execute()
        await trx
          .updateTable('api_tokens')
          .set({ revoked_at: at })
          .where('owner', '=', name)
          .where('revoked_at', 'is', null)
          .execute()
        const result = await trx.deleteFrom('users').where('name', '=', name).executeTakeFirst()
        return Number(result.numDeletedRows) > 0
      })
    },

    async addToken(token) {
      await db
        .insertInto('api_tokens')
        .values({
          id: token.id,
          name: token.name,
          owner: token.owner,
          role: token.role,
          hash: token.hash,
          created_at: token.createdAt,
          last_used_at: null,
          revoked_at: null,
        })
        .execute()
    },
    async findToken(hash) {
      const row = await db
        .selectFrom('api_tokens')
        .selectAll()
        .where('hash', '=', hash)
        .where('revoked_at', 'is', null)
        .executeTakeFirst()
      return row ? tokenOf(row) : undefined
    },
    async listTokens() {
      const rows = await db.selectFrom('api_tokens').selectAll().orderBy('created_at').execute()
      return rows.map(tokenOf)
    },
    async revokeToken(id, at) {
      const result = await db
        .updateTable('api_tokens')
        .set({ revoked_at: at })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst()
      return Number(result.numUpdatedRows) > 0
    },
    async touchToken(id, at) {
      await db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute()
    },

    async addSession(session) {
      await db
        .insertInto('sessions')
        .values({
          hash: session.hash,
          user_name: session.userName,
          created_at: session.createdAt,
          expires_at: session.expiresAt,
        })
        .execute()
    },
    async findSession(hash, now) {
      const row = await db
        .selectFrom('sessions')
        .innerJoin('users', 'users.name', 'sessions.user_name')
        .select(['sessions.user_name', 'sessions.expires_at', 'users.role'])
        .where('sessions.hash', '=', hash)
        .where('sessions.expires_at', '>', now)
        .executeTakeFirst()
      return row
        ? { userName: row.user_name, role: roleOf(row.role), expiresAt: row.expires_at }
        : undefined
    },
    async removeSession(hash) {
      await db.deleteFrom('sessions').where('hash', '=', hash).execute()
    },
    async removeExpiredSessions(now) {
      await db.deleteFrom('sessions').where('expires_at', '<=', now).execute()
    },
  }
}
