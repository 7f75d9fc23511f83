// The SQLite store's one connection is handed to waiters first come, first served
// (`OneWakeSqliteDialect`): never to two at once, and every waiter gets it.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { Kysely, sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { OneWakeSqliteDialect } from './sqlite-store.js'

let dir: string
let db: Kysely<{ t: { n: number } }>
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kite-sqlite-connection-'))
  db = new Kysely({
    dialect: new OneWakeSqliteDialect({ database: new Database(join(dir, 'x.db')) }),
  })
  await sql`create table t (n integer)`.execute(db)
})
afterEach(async () => {
  await db.destroy()
  await rm(dir, { recursive: true, force: true })
})

describe('the SQLite connection', () => {
  it('goes to one transaction at a time, in the order they asked, and to every one of them', async () => {
    let holders = 0
    let most = 0
    const order: number[] = []
    await Promise.all(
      Array.from({ length: 100 }, (_, index) =>
        db.transaction().execute(async (trx) => {
          holders++
          most = Math.max(most, holders)
          order.push(index)
          await trx.insertInto('t').values({ n: index }).execute()
          // Holds the connection across turns of the event loop, as a batch of commits does.
          await new Promise((resolve) => setImmediate(resolve))
          holders--
        }),
      ),
    )
    expect(most).toBe(1)
    expect(order).toEqual(Array.from({ length: 100 }, (_, index) => index))
    const rows = await db.selectFrom('t').select('n').execute()
    expect(rows).toHaveLength(100)
  })

  it('is released by a transaction that fails, to the next one', async () => {
    const failing = db.transaction().execute(async (trx) => {
      await trx.insertInto('t').values({ n: 1 }).execute()
      throw new Error('on purpose')
    })
    const next = db.transaction().execute((trx) => trx.insertInto('t').values({ n: 2 }).execute())
    await expect(failing).rejects.toThrow('on purpose')
    await next
    expect((await db.selectFrom('t').select('n').execute()).map((row) => row.n)).toEqual([2])
  })
})
