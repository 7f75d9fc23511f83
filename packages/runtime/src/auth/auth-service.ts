import { randomBytes } from 'node:crypto'
import { RuntimeError } from '../errors.js'
import {
  ADMIN_TOKEN_OWNER,
  type AuthStore,
  type StoredToken,
  type UserRole,
} from '../storage/auth-store.js'
import { createLoginLimiter, type LoginLimiter, type LoginLimits } from './login-limiter.js'
import {
  checkPassword,
  hashPassword,
  randomSecret,
  sameSecret,
  secretHash,
  verifyPassword,
} from './passwords.js'

/** User names: lower-case letters, digits, `.`, `_` and `-`, starting with a letter or digit. */
export const USER_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/

/** Who a request comes from. `open` is nobody in particular, on a runtime without users. */
export interface Principal {
  kind: 'session' | 'token' | 'admin-token' | 'open'
  name: string
  role: UserRole
}

/** A user as the API shows it (never the hash). */
export interface UserInfo {
  name: string
  role: UserRole
  createdAt: string
}

export interface AuthServiceOptions {
  store: AuthStore
  /** `KITE_ADMIN_TOKEN`: an admin token that lives outside the store. */
  adminToken?: string
  /** How long a UI session lasts (default 12 hours). */
  sessionTtlMs?: number
  loginLimits?: LoginLimits
}

/** What login answers: the cookie's value (shown once) and who logged in. */
export interface LoginResult {
  session: string
  user: { name: string; role: UserRole }
  expiresAt: Date
}

/** Last-used dates are written at most this often per token (not on every request). */
const TOUCH_EVERY_MS = 60_000
/** Without users, the count is read again at most this often (another node may add one). */
const RECHECK_USERS_MS = 1000
export const DEFAULT_SESSION_TTL_MS = 12 * 60 * 60_000

export type AuthService = ReturnType<typeof createAuthService>

/**
 * Users, API tokens, UI sessions and the login, over the store's auth tables. Passwords are
 * scrypt hashes with a salt each; tokens and session ids are 256-bit secrets stored as SHA-256,
 * looked up on every request so a revoked token or ended session stops working at once.
 */
export function createAuthService(options: AuthServiceOptions) {
  const { store } = options
  const ttl = options.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS
  const limiter: LoginLimiter = createLoginLimiter(options.loginLimits)
  const touched = new Map<string, number>()
  let users: { any: boolean; checkedAt: number } | undefined
  // Unknown users cost the same scrypt as known ones, so timing says nothing either.
  let dummyHash: Promise<string> | undefined

  const now = () => new Date().toISOString()

  async function hasUsers(): Promise<boolean> {
    if (users?.any || (users && Date.now() - users.checkedAt < RECHECK_USERS_MS)) return users.any
    users = { any: (await store.countUsers()) > 0, checkedAt: Date.now() }
    return users.any
  }

  function checkName(what: string, name: string): void {
    if (!USER_NAME_PATTERN.test(name)) {
      throw new RuntimeError(
        `${what} "${name.slice(0, 80)}" is not valid: use 1 to 64 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit`,
        { code: 'REQUEST_INVALID' },
      )
    }
  }

  return {
    hasUsers,

    /** The principal of `Authorization: Bearer <token>`, or undefined for an unknown or revoked token. */
    async authenticateToken(token: string): Promise<Principal | undefined> {
      if (options.adminToken && sameSecret(token, options.adminToken)) {
        return { kind: 'admin-token', name: ADMIN_TOKEN_OWNER, role: 'admin' }
      }
      const found = await store.findToken(secretHash(token))
      if (!found) return undefined
      const last = touched.get(found.id) ?? 0
      if (Date.now() - last >= TOUCH_EVERY_MS) {
        touched.set(found.id, Date.now())
        await store.touchToken(found.id, now())
      }
      return { kind: 'token', name: found.owner, role: found.role }
    },

    /** The principal of a session cookie, or undefined when it is unknown, tampered or expired. */
    async authenticateSession(session: string): Promise<Principal | undefined> {
      const found = await store.findSession(secretHash(session), now())
      return found ? { kind: 'session', name: found.userName, role: found.role } : undefined
    },

    /**
     * Checks a username and password and opens a session. Unknown user and wrong password fail
     * alike (`LOGIN_FAILED`) after the same work; too many failures answer `RATE_LIMITED`.
     */
    async login(username: string, password: string, address: string): Promise<LoginResult> {
      const wait = limiter.retryAfter(username, address)
      if (wait > 0) {
        throw new RuntimeError(`too many failed logins: try again in ${wait} seconds`, {
          code: 'RATE_LIMITED',
          cause: { retryAfter: wait },
        })
      }
      // Made before the lookup, so even the first unknown user costs what a known one does.
      dummyHash ??= hashPassword(randomSecret())
      const dummy = await dummyHash
      const user = await store.getUser(username)
      const ok = await verifyPassword(password, user?.passwordHash ?? dummy)
      if (!user || !ok) {
        limiter.failed(username, address)
        throw new RuntimeError('wrong username or password', { code: 'LOGIN_FAILED' })
      }
      limiter.succeeded(username)
      const session = randomSecret()
      const expiresAt = new Date(Date.now() + ttl)
      await store.removeExpiredSessions(now())
      await store.addSession({
        hash: secretHash(session),
        userName: user.name,
        createdAt: now(),
        expiresAt: expiresAt.toISOString(),
      })
      return { session, user: { name: user.name, role: user.role }, expiresAt }
    },

    /** Ends a session server-side (an unknown one is already ended). */
    async logout(session: string): Promise<void> {
      await store.removeSession(secretHash(session))
    },

    async addUser(user: { name: string; role: UserRole; password: string }): Promise<UserInfo> {
      checkName('the user name', user.name)
      checkPassword(user.password)
      const createdAt = now()
      const added = await store.addUser({
        name: user.name,
        role: user.role,
        passwordHash: await hashPassword(user.password),
        createdAt,
      })
      if (!added) {
        throw new RuntimeError(
          `user "${user.name}" exists already; remove it first to replace it`,
          {
            code: 'USER_EXISTS',
          },
        )
      }
      users = { any: true, checkedAt: Date.now() }
      return { name: user.name, role: user.role, createdAt }
    },

    async listUsers(): Promise<UserInfo[]> {
      return (await store.listUsers()).map(({ name, role, createdAt }) => ({
        name,
        role,
        createdAt,
      }))
    },

    /** Removes a user, their sessions and tokens. The last admin stays: nobody could manage users. */
    async removeUser(name: string): Promise<void> {
      const user = await store.getUser(name)
      if (!user) {
        throw new RuntimeError(`user "${name.slice(0, 80)}" not found`, { code: 'USER_NOT_FOUND' })
      }
      if (user.role === 'admin' && (await store.countAdmins()) <= 1) {
        throw new RuntimeError(
          `user "${name}" is the last admin: add another admin before removing it`,
          { code: 'LAST_ADMIN' },
        )
      }
      await store.removeUser(name, now())
      users = undefined
    },

    /** Creates an API token; the token itself is in the answer only, never stored. */
    async createToken(request: {
      name: string
      role: UserRole
      owner: string
    }): Promise<{ token: string; info: StoredToken }> {
      checkName('the token name', request.name)
      const token = randomSecret('kite_')
      const info: StoredToken = {
        id: `tok_${randomBytes(8).toString('hex')}`,
        name: request.name,
        owner: request.owner,
        role: request.role,
        createdAt: now(),
      }
      await store.addToken({ ...info, hash: secretHash(token) })
      return { token, info }
    },

    listTokens: () => store.listTokens(),

    async revokeToken(id: string): Promise<void> {
      if (!(await store.revokeToken(id, now()))) {
        throw new RuntimeError(`no live token with id "${id.slice(0, 80)}"`, {
          code: 'TOKEN_NOT_FOUND',
        })
      }
      touched.delete(id)
    },
  }
}
