import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { RegistryError } from './errors.js'

/**
 * Accounts, tokens, explicit package owners and the audit log: what governs who may do what.
 * One SQLite file beside the catalog (`governance.db`). Unlike the catalog it is not an index
 * of storage and is never rebuilt; its tables are only ever added to (`CREATE … IF NOT EXISTS`).
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS accounts (
  name TEXT PRIMARY KEY,
  email TEXT NOT NULL,
  created TEXT NOT NULL,
  deleted TEXT
);
CREATE TABLE IF NOT EXISTS tokens (
  key TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  preview TEXT NOT NULL,
  user TEXT NOT NULL,
  name TEXT NOT NULL,
  credential TEXT NOT NULL,
  readonly INTEGER NOT NULL,
  cidr TEXT NOT NULL,
  created TEXT NOT NULL,
  expires TEXT NOT NULL,
  revoked TEXT
);
CREATE INDEX IF NOT EXISTS tokens_by_user ON tokens (user);
CREATE TABLE IF NOT EXISTS owners (
  name TEXT NOT NULL,
  user TEXT NOT NULL,
  since TEXT NOT NULL,
  PRIMARY KEY (name, user)
);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  time TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  package TEXT,
  version TEXT,
  subject TEXT,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS audit_by_package ON audit (package);
`

/** What the audit log records. */
export type AuditAction =
  | 'publish'
  | 'unpublish'
  | 'deprecate'
  | 'owner.add'
  | 'owner.rm'
  | 'token.create'
  | 'token.revoke'
  | 'account.delete'

export interface AuditEntry {
  id: number
  time: string
  actor: string
  action: AuditAction
  package: string | null
  version: string | null
  subject: string | null
  detail: string | null
}

/** A token as `npm token list` shows it: never the secret, only its first characters. */
export interface TokenInfo {
  key: string
  token: string
  name: string
  user: string
  readonly: boolean
  cidr_whitelist: string[] | null
  created: string
  updated: string
  expires: string
}

/** A valid token's holder and the verdaccio credential it stands for. */
export interface TokenHolder {
  key: string
  user: string
  readonly: boolean
  credential: string
}

interface TokenRow {
  key: string
  preview: string
  user: string
  name: string
  credential: string
  readonly: number
  cidr: string
  created: string
  expires: string
}

const TOKEN_PREFIX = 'kite_'

export class Governance {
  private readonly db: Database.Database

  constructor(path: string) {
    try {
      mkdirSync(dirname(path), { recursive: true })
      this.db = new Database(path)
      this.db.pragma('journal_mode = WAL')
      this.db.pragma('synchronous = NORMAL')
      this.db.exec(SCHEMA)
    } catch (error) {
      throw new RegistryError(
        `cannot open the accounts database ${path}: ${(error as Error).message}`,
        { code: 'STORAGE_FAILED', kind: 'operational', cause: error },
      )
    }
  }

  close(): void {
    if (this.db.open) this.db.close()
  }

  // --- accounts -------------------------------------------------------------------------------

  recordAccount(name: string, email: string): void {
    this.db
      .prepare(
        `INSERT INTO accounts (name, email, created) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET email = CASE WHEN excluded.email = '' THEN accounts.email ELSE excluded.email END, deleted = NULL`,
      )
      .run(name, email, new Date().toISOString())
  }

  /** The account's e-mail ('' when unknown), or undefined for a deleted account. */
  emailOf(name: string): string | undefined {
    const row = this.db
      .prepare<[string], { email: string; deleted: string | null }>(
        'SELECT email, deleted FROM accounts WHERE name = ?',
      )
      .get(name)
    if (row?.deleted) return undefined
    return row?.email ?? ''
  }

  isDeleted(name: string): boolean {
    return Boolean(
      this.db
        .prepare<[string], { deleted: string | null }>(
          'SELECT deleted FROM accounts WHERE name = ?',
        )
        .get(name)?.deleted,
    )
  }

  /** Marks the account deleted and revokes every token it holds. */
  deleteAccount(name: string): number {
    const now = new Date().toISOString()
    return this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO accounts (name, email, created, deleted) VALUES (?, '', ?, ?)
           ON CONFLICT (name) DO UPDATE SET deleted = excluded.deleted`,
        )
        .run(name, now, now)
      return this.db
        .prepare('UPDATE tokens SET revoked = ? WHERE user = ? AND revoked IS NULL')
        .run(now, name).changes
    })()
  }

  // --- tokens ---------------------------------------------------------------------------------

  /** Issues a new token for `user`; only its hash is stored. Returns the secret once. */
  issueToken(options: {
    user: string
    credential: string
    ttlMs: number
    name?: string
    readonly?: boolean
    cidr?: string[]
  }): { token: string; info: TokenInfo } {
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`
    const key = randomBytes(16).toString('hex')
    const created = new Date()
    const expires = new Date(created.getTime() + options.ttlMs)
    const row: TokenRow = {
      key,
      preview: token.slice(0, TOKEN_PREFIX.length + 6),
      user: options.user,
      name: options.name ?? 'npm login',
      credential: options.credential,
      readonly: options.readonly ? 1 : 0,
      cidr: JSON.stringify(options.cidr ?? []),
      created: created.toISOString(),
      expires: expires.toISOString(),
    }
    this.db
      .prepare(
        `INSERT INTO tokens (key, hash, preview, user, name, credential, readonly, cidr, created, expires)
         VALUES (@key, @hash, @preview, @user, @name, @credential, @readonly, @cidr, @created, @expires)`,
      )
      .run({ ...row, hash: hashToken(token) })
    return { token, info: infoOf(row) }
  }

  /** The holder of a token that is known, not revoked, not expired and of a live account. */
  checkToken(token: string, now = new Date()): TokenHolder | undefined {
    const row = this.db
      .prepare<[string], TokenRow & { revoked: string | null }>(
        'SELECT * FROM tokens WHERE hash = ?',
      )
      .get(hashToken(token))
    if (!row || row.revoked || row.expires <= now.toISOString()) return undefined
    if (this.isDeleted(row.user)) return undefined
    return {
      key: row.key,
      user: row.user,
      readonly: row.readonly === 1,
      credential: row.credential,
    }
  }

  /** Every live token of `user`, newest first. */
  listTokens(user: string, now = new Date()): TokenInfo[] {
    return this.db
      .prepare<[string, string], TokenRow>(
        'SELECT * FROM tokens WHERE user = ? AND revoked IS NULL AND expires > ? ORDER BY created DESC, key',
      )
      .all(user, now.toISOString())
      .map(infoOf)
  }

  /** Revokes `user`'s token with this key; false when there is none. */
  revokeToken(user: string, key: string): boolean {
    return (
      this.db
        .prepare('UPDATE tokens SET revoked = ? WHERE key = ? AND user = ? AND revoked IS NULL')
        .run(new Date().toISOString(), key, user).changes > 0
    )
  }

  // --- owners ---------------------------------------------------------------------------------

  /** Owners set with `npm owner`, or undefined when the package never had them changed. */
  ownersOf(name: string): string[] | undefined {
    const rows = this.db
      .prepare<[string], { user: string }>(
        'SELECT user FROM owners WHERE name = ? ORDER BY since, user',
      )
      .all(name)
    return rows.length > 0 ? rows.map((row) => row.user) : undefined
  }

  setOwners(name: string, users: readonly string[], since: (user: string) => string): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM owners WHERE name = ?').run(name)
      const insert = this.db.prepare('INSERT INTO owners (name, user, since) VALUES (?, ?, ?)')
      for (const user of users) insert.run(name, user, since(user))
    })()
  }

  /** Every package whose owners were set explicitly, with them. */
  allOwners(): Map<string, string[]> {
    const out = new Map<string, string[]>()
    for (const row of this.db
      .prepare<[], { name: string; user: string }>(
        'SELECT name, user FROM owners ORDER BY name, since, user',
      )
      .all()) {
      out.set(row.name, [...(out.get(row.name) ?? []), row.user])
    }
    return out
  }

  forgetOwners(name: string): void {
    this.db.prepare('DELETE FROM owners WHERE name = ?').run(name)
  }

  // --- audit ----------------------------------------------------------------------------------

  audit(entry: {
    actor: string
    action: AuditAction
    package?: string
    version?: string
    subject?: string
    detail?: string
  }): void {
    this.db
      .prepare(
        'INSERT INTO audit (time, actor, action, package, version, subject, detail) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        new Date().toISOString(),
        entry.actor,
        entry.action,
        entry.package ?? null,
        entry.version ?? null,
        entry.subject ?? null,
        entry.detail ?? null,
      )
  }

  /** The audit entries about these packages, or done by or to `user`, oldest first. */
  auditFor(packages: readonly string[], user?: string, limit = 1000): AuditEntry[] {
    const marks = packages.map(() => '?').join(', ')
    const byPackage = packages.length > 0 ? `package IN (${marks})` : '0'
    const byUser = user ? 'OR ((package IS NULL) AND (actor = ? OR subject = ?))' : ''
    const params: string[] = [...packages, ...(user ? [user, user] : [])]
    return this.db
      .prepare<string[], AuditEntry>(
        `SELECT * FROM audit WHERE ${byPackage} ${byUser} ORDER BY id LIMIT ${Math.max(1, Math.min(limit, 10_000))}`,
      )
      .all(...params)
  }
}

export function isKiteToken(token: string): boolean {
  return token.startsWith(TOKEN_PREFIX)
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

function infoOf(row: TokenRow): TokenInfo {
  const cidr = JSON.parse(row.cidr) as string[]
  return {
    key: row.key,
    token: row.preview,
    name: row.name,
    user: row.user,
    readonly: row.readonly === 1,
    cidr_whitelist: cidr.length > 0 ? cidr : null,
    created: row.created,
    updated: row.created,
    expires: row.expires,
  }
}
