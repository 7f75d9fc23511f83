import { Kysely, PostgresDialect, sql } from 'kysely'
import type pg from 'pg'
import { RuntimeError } from '../errors.js'
import { createKyselyStore, type KiteDatabase, NOTIFY_CHANNELS } from './kysely-store.js'
import { migrateStore } from './migrations.js'
import type { QueueChannel, Store } from './store.js'

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
  const maxConnections = options.maxConnections ?? 10
  // Loaded here, not at start-up: a runtime on SQLite never needs the driver.
  const { default: driver } = await import('pg')
  const pool = new driver.Pool({
    connectionString: options.url,
    max: maxConnections,
    // Counts and epoch-millisecond columns are int8: read them as numbers, not strings.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8 && format !== 'binary'
          ? (value: string) => Number(value)
          : driver.types.getTypeParser(oid, format)) as typeof driver.types.getTypeParser,
    },
  })
  // A connection the server drops must not end the process: idle, the pool reports it here; in
  // use (between a transaction's statements, say), on the connection itself, which kysely does
  // not listen to. Its query fails, and the pool drops it when it is released.
  pool.on('error', () => undefined)
  pool.on('connect', (client) => client.on('error', () => undefined))
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
  const listener = createNotificationListener(driver, options.url)
  return createKyselyStore(db, {
    dialect: 'postgres',
    // Commits of a few executions each, side by side on most of the pool (the rest serves
    // claims and reads): the server merges the fsyncs of concurrent commits by itself.
    commitWriters: Math.max(1, maxConnections - 2),
    commitBatch: 4,
    listen: listener.listen,
    onClose: listener.close,
  })
}

/**
 * LISTEN on one connection of its own, opened at the first `listen`. Notifications are hints (the
 * listeners poll as well): a dropped connection is reopened a second later, listening again.
 */
function createNotificationListener(driver: typeof pg, url: string) {
  const listeners = new Map<string, Set<() => void>>()
  let client: Promise<pg.Client> | undefined
  let closed = false
  const connect = (): Promise<pg.Client> => {
    const connection = new driver.Client({ connectionString: url })
    connection.on('notification', (message) => {
      for (const listener of listeners.get(message.channel) ?? []) listener()
    })
    connection.on('error', () => {
      client = undefined
      connection.end().catch(() => undefined)
      if (!closed) setTimeout(reconnect, 1000).unref()
    })
    return connection.connect().then(async () => {
      for (const name of listeners.keys()) await connection.query(`LISTEN ${name}`)
      return connection
    })
  }
  const reconnect = () => {
    if (closed || client) return
    client = connect()
    client.catch(() => {
      client = undefined
      if (!closed) setTimeout(reconnect, 1000).unref()
    })
  }
  return {
    async listen(channel: QueueChannel, listener: () => void) {
      const name = NOTIFY_CHANNELS[channel]
      let set = listeners.get(name)
      if (!set) {
        set = new Set()
        listeners.set(name, set)
        // A new channel on a connection already open; a new connection listens to every one.
        if (client) await (await client).query(`LISTEN ${name}`)
      }
      set.add(listener)
      if (!client) {
        reconnect()
        await client
      }
      return () => {
        set.delete(listener)
      }
    },
    async close() {
      closed = true
      listeners.clear()
      const connection = await client?.catch(() => undefined)
      client = undefined
      await connection?.end().catch(() => undefined)
    },
  }
}
