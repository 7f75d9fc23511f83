import { mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { Worker } from 'node:worker_threads'
import Database from 'better-sqlite3'
import { type Driver, Kysely, SqliteDialect } from 'kysely'
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
    // Checkpoints run in a thread of their own (`startCheckpointer`): a commit that had to copy
    // the WAL into the database and fsync it took 5–40 ms of the main thread every ~40 commits
    // (half of all commit time). This limit only bounds the WAL if that thread falls behind.
    raw.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`)
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
    dialect: new OneWakeSqliteDialect({ database: { close: () => raw.close(), prepare } }),
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
  const checkpointer = startCheckpointer(options.file)
  return createKyselyStore(db, {
    dialect: 'sqlite',
    onClose: () => checkpointer.close(),
    kvGetNow: (namespace, key) =>
      prepare(kvNow).get(namespace, key) as
        | { value: string; expires_at: number | null }
        | undefined,
  })
}

/**
 * kysely's SQLite dialect, waking one waiter per release of its one connection. kysely's own
 * mutex wakes every waiter at each release and all but one wait again: with hundreds of
 * executions queued (a burst of webhooks) that is ~N² wake-ups per round, measured at ~6 % of
 * the runtime's CPU under 50 clients. As there, whoever asks while the connection is free takes
 * it at once; a woken waiter that finds it taken again keeps its place at the head of the line.
 * kysely's own mutex, then always free, stays in place underneath.
 */
export class OneWakeSqliteDialect extends SqliteDialect {
  override createDriver(): Driver {
    const inner = super.createDriver()
    const waiting: Array<() => void> = []
    let held = false
    return {
      init: () => inner.init(),
      async acquireConnection() {
        for (let woken = false; held; woken = true) {
          await new Promise<void>((resolve) =>
            woken ? waiting.unshift(resolve) : waiting.push(resolve),
          )
        }
        held = true
        return inner.acquireConnection()
      },
      async releaseConnection(connection) {
        await inner.releaseConnection(connection)
        held = false
        waiting.shift()?.()
      },
      beginTransaction: (connection, settings) => inner.beginTransaction(connection, settings),
      commitTransaction: (connection) => inner.commitTransaction(connection),
      rollbackTransaction: (connection) => inner.rollbackTransaction(connection),
      savepoint: (connection, name, compile) => inner.savepoint!(connection, name, compile),
      rollbackToSavepoint: (connection, name, compile) =>
        inner.rollbackToSavepoint!(connection, name, compile),
      releaseSavepoint: (connection, name, compile) =>
        inner.releaseSavepoint!(connection, name, compile),
      destroy: () => inner.destroy(),
    }
  }
}

/** WAL pages after which a commit checkpoints by itself (SQLite's default is 1000). */
const AUTOCHECKPOINT_PAGES = 10_000
/** How often the checkpoint thread copies committed WAL frames into the database. */
const CHECKPOINT_EVERY_MS = 200

// The checkpoint thread: its own connection, PASSIVE checkpoints (they never block a writer).
const CHECKPOINTER = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.module)
const db = new Database(workerData.file)
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)') } catch {}
}, workerData.everyMs)
parentPort.once('message', () => {
  clearInterval(timer)
  db.close()
  parentPort.close()
})
`

/**
 * Checkpoints the WAL of `file` every `CHECKPOINT_EVERY_MS` from a worker thread, so the main
 * thread's commits only append to the WAL. `close()` resolves once its connection is closed.
 */
function startCheckpointer(file: string): { close(): Promise<void> } {
  const worker = new Worker(CHECKPOINTER, {
    eval: true,
    workerData: {
      file,
      module: createRequire(import.meta.url).resolve('better-sqlite3'),
      everyMs: CHECKPOINT_EVERY_MS,
    },
  })
  worker.unref()
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
  // Without it commits still checkpoint by themselves (AUTOCHECKPOINT_PAGES): nothing is lost.
  worker.on('error', () => {})
  return {
    close: async () => {
      // Held while it closes: the process waits for it (an unref'd thread would let it end here).
      worker.ref()
      worker.postMessage('close')
      await exited
    },
  }
}
