import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pollTrigger, runTask } from '@kite/sdk/testing'
import { describe, expect, it } from 'vitest'
import { useDatabases } from '../test/databases.js'
import { query } from './query.js'
import { trigger } from './trigger.js'

const databases = useDatabases('kite-sqlite-trigger-')

const ordersDatabase = () =>
  databases.create(
    'orders',
    'CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, status TEXT)',
  )

const addOrder = (database: string, customer: string, status = 'new') =>
  runTask(query, {
    database,
    sql: 'INSERT INTO orders (customer, status) VALUES (?, ?)',
    parameters: [customer, status],
  })

describe('Trigger', () => {
  it('fires one event with the rows only when the query returns some', async () => {
    const database = await ordersDatabase()
    const sql = 'SELECT id, customer FROM orders WHERE status = :status ORDER BY id'
    const properties = { database, sql, parameters: { status: 'new' } }
    expect((await pollTrigger(trigger, properties)).events).toEqual([])
    await addOrder(database, 'Ada')
    await addOrder(database, 'Grace', 'done')
    await addOrder(database, 'Linus')
    const { events } = await pollTrigger(trigger, properties)
    expect(events).toEqual([
      {
        value: [
          { id: 1, customer: 'Ada' },
          { id: 3, customer: 'Linus' },
        ],
        size: 2,
      },
    ])
  })

  it('remembers a cursor so every row fires once', async () => {
    const database = await ordersDatabase()
    const properties = {
      database,
      sql: 'SELECT id, customer FROM orders WHERE id > :cursor ORDER BY id',
      cursorColumn: 'id',
      initialCursor: 0,
    }
    await addOrder(database, 'Ada')
    await addOrder(database, 'Grace')
    const first = await pollTrigger(trigger, properties)
    expect(first.events).toEqual([
      {
        value: [
          { id: 1, customer: 'Ada' },
          { id: 2, customer: 'Grace' },
        ],
        size: 2,
      },
    ])
    expect(first.context.state.get('cursor')).toBe(2)
    const state = Object.fromEntries(first.context.state)
    expect((await pollTrigger(trigger, properties, { state })).events).toEqual([])
    await addOrder(database, 'Linus')
    const third = await pollTrigger(trigger, properties, { state })
    expect(third.events).toEqual([{ value: [{ id: 3, customer: 'Linus' }], size: 1 }])
    expect(third.context.state.get('cursor')).toBe(3)
  })

  it('filters by the cursor even when the SQL ignores it, and compares text cursors', async () => {
    const database = await ordersDatabase()
    await addOrder(database, 'Ada', '2024-01-01T10:00:00Z')
    await addOrder(database, 'Grace', '2024-01-02T10:00:00Z')
    const { events, context } = await pollTrigger(
      trigger,
      {
        database,
        sql: 'SELECT customer, status AS at FROM orders',
        cursorColumn: 'at',
        fetchType: 'FETCH_ONE',
      },
      { state: { cursor: '2024-01-01T10:00:00Z' } },
    )
    expect(events).toEqual([{ value: { customer: 'Grace', at: '2024-01-02T10:00:00Z' }, size: 1 }])
    expect(context.state.get('cursor')).toBe('2024-01-02T10:00:00Z')
  })

  it('stores the rows with fetchType STORE', async () => {
    const database = await ordersDatabase()
    await addOrder(database, 'Ada')
    const { events, context } = await pollTrigger(trigger, {
      database,
      sql: 'SELECT customer FROM orders',
      fetchType: 'STORE',
    })
    expect(events).toHaveLength(1)
    expect(events[0]?.size).toBe(1)
    expect(await context.readStorage(String(events[0]?.uri))).toBe('{"customer":"Ada"}\n')
  })

  it('fails clearly on a missing file, a cursor column the rows lack, and a query that writes', async () => {
    await expect(
      pollTrigger(trigger, { database: join(databases.dir, 'missing.db'), sql: 'SELECT 1' }),
    ).rejects.toMatchObject({ code: 'DATABASE_NOT_FOUND' })
    const database = await ordersDatabase()
    await addOrder(database, 'Ada')
    await expect(
      pollTrigger(trigger, { database, sql: 'SELECT customer FROM orders', cursorColumn: 'id' }),
    ).rejects.toMatchObject({
      code: 'CURSOR_INVALID',
      message: 'cursorColumn "id" is not a column of the query\'s rows (they have: customer)',
    })
    const before = await readFile(database)
    await expect(
      pollTrigger(trigger, { database, sql: "UPDATE orders SET status = 'seen' RETURNING id" }),
    ).rejects.toMatchObject({ code: 'TRIGGER_READ_ONLY' })
    expect((await readFile(database)).equals(before)).toBe(true)
    await expect(pollTrigger(trigger, { database, sql: 'SELECT * FROM nowhere' })).rejects.toThrow(
      /SQLite error in statement 1: no such table: nowhere/,
    )
  })
})
