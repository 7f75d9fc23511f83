import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import { RuntimeError } from '../errors.js'
import { createKyselyStore, type KiteDatabase } from './kysely-store.js'
import { migrateStore } from './migrations.js'
import type { Store } from './store.js'

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database`. */
  url: string
  /** Connections in the pool (default 10). */
  maxConnections?: number
}

const INT8 = 20

/** The URL with its password hidden, for messages. */
export function redactStoreUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(an unreadable URL)'
  }
}

/**
 * The PostgreSQL store: the same kysely queries as the SQLite store over a `pg` pool. Queue claims
 * take `FOR UPDATE SKIP LOCKED`, so any number of processes claim from one queue; `kv()` in
 * expressions reads a cache (PostgreSQL cannot be read synchronously).
 */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const where = redactStoreUrl(options.url)
  if (!/^postgres(ql)?:\/\//.test(options.url)) {
    throw new RuntimeError(`the store URL ${where} is not a postgres:// URL`, {
      code: 'STORAGE',
      kind: 'user',
    })
  }
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    // Counts and epoch-millisecond columns are int8: read them as numbers, not strings.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8 && format !== 'binary'
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  })
  // An idle connection the server drops must not end the process; the next query reconnects.
  pool.on('error', () => undefined)
  const db = new Kysely<KiteDatabase>({ dialect: new PostgresDialect({ pool }) })
  try {
    await sql`select 1`.execute(db)
  } catch (error) {
    await db.destroy()
    throw new RuntimeError(
      `cannot connect to the store ${where}: ${(error as Error).message || String(error)}`,
      { code: 'STORAGE', kind: 'operational', cause: error },
    )
  }
  try {
    await migrateStore(db, 'postgres', where)
  } catch (error) {
    await db.destroy()
    throw error
  }
  return createKyselyStore(db, { dialect: 'postgres' })
}
