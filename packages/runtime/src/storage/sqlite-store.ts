import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { RuntimeError } from '../errors.js'
import { createKyselyStore, type KiteDatabase } from './kysely-store.js'
import { migrateStore } from './migrations.js'
import type { Store } from './store.js'

export interface SqliteStoreOptions {
  /** The database file (created with its directory when missing). */
  file: string
}

/**
 * The embedded store: one SQLite file (WAL, `synchronous = NORMAL`) through kysely. Statements
 * are prepared once and reused; `kv()` in expressions reads synchronously.
 */
export async function createSqliteStore(options: SqliteStoreOptions): Promise<Store> {
  mkdirSync(dirname(options.file), { recursive: true })
  let raw: Database.Database
  try {
    raw = new Database(options.file)
    raw.pragma('journal_mode = WAL')
    raw.pragma('synchronous = NORMAL')
    raw.pragma('busy_timeout = 5000')
    raw.pragma('foreign_keys = ON')
  } catch (error) {
    throw new RuntimeError(
      `cannot open the database ${options.file}: ${(error as Error).message}`,
      { code: 'STORAGE', kind: 'operational', cause: error },
    )
  }
  const statements = new Map<string, Database.Statement>()
  const prepare = (text: string): Database.Statement => {
    let statement = statements.get(text)
    if (!statement) {
      statement = raw.prepare(text)
      statements.set(text, statement)
    }
    return statement
  }
  // kysely prepares every query; a statement cache makes that free after the first time.
  const db = new Kysely<KiteDatabase>({
    dialect: new SqliteDialect({ database: { close: () => raw.close(), prepare } }),
  })
  try {
    await migrateStore(db, 'sqlite', options.file)
  } catch (error) {
    await db.destroy()
    throw error
  }
  const kvNow = db
    .selectFrom('kv')
    .select(['value', 'expires_at'])
    .where('namespace', '=', '')
    .where('key', '=', '')
    .compile().sql
  return createKyselyStore(db, {
    dialect: 'sqlite',
    kvGetNow: (namespace, key) =>
      prepare(kvNow).get(namespace, key) as
        | { value: string; expires_at: number | null }
        | undefined,
  })
}
