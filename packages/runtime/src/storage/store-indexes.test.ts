import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely'
import pg from 'pg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTestDatabase } from '../../test/fixtures/postgres.js'
import { compileClaimQuery, type KiteDatabase } from './kysely-store.js'
import { createPostgresStore } from './postgres-store.js'
import { createSqliteStore } from './sqlite-store.js'
import type { QueuedTaskRun, Store } from './store.js'

// The workers' claim reads the partial index of queued entries (migration 0007), on both
// databases, whatever else the queue holds; and the index it replaced is gone. The active
// scheduler's per-tick read of every trigger's `$control` row, by key alone, uses the index of
// migration 0008 instead of reading the whole trigger_state table.

/** `count` queue entries of one execution, `e0`, `e1`, ... */
const entries = (count: number): QueuedTaskRun[] =>
  Array.from({ length: count }, (_, index) => ({
    id: `e${index}`,
    executionId: 'x',
    taskRunId: `r${index}`,
    attempt: 1,
    payload: '{}',
  }))

/**
 * Fills the queue with `done` entries that were claimed and completed, then `queued` still
 * waiting, through the store's own API; the ids of the waiting ones.
 */
async function fillQueue(store: Store, done: number, queued: number): Promise<string[]> {
  const all = entries(done + queued)
  await store.commit({ enqueue: all })
  const claimed = await store.claimTaskRuns('node-a', done)
  expect(claimed.map((entry) => entry.id)).toEqual(all.slice(0, done).map((entry) => entry.id))
  await store.completeTaskRuns(
    claimed.map(({ id }) => ({ id, result: '{"ok":true,"outputs":{}}' })),
    [],
  )
  return all.slice(done).map((entry) => entry.id)
}

describe('the store indexes on SQLite', () => {
  let dir: string
  let store: Store
  let raw: Database.Database
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kite-store-indexes-'))
    store = await createSqliteStore({ file: join(dir, 'kite.db') })
    raw = new Database(join(dir, 'kite.db'))
  })
  afterEach(async () => {
    raw.close()
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('claims through the partial index of queued entries only', async () => {
    const waiting = await fillQueue(store, 200, 3)
    const indexes = raw
      .prepare(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'task_queue'",
      )
      .all() as Array<{ name: string; sql: string | null }>
    const queued = indexes.find((index) => index.name === 'task_queue_queued')
    expect(queued?.sql).toMatch(/where "state" = 'QUEUED'$/i)
    expect(indexes.map((index) => index.name)).not.toContain('task_queue_state')
    // Only the waiting entries are in it.
    const { count } = raw
      .prepare(
        "SELECT count(*) AS count FROM task_queue INDEXED BY task_queue_queued WHERE state = 'QUEUED'",
      )
      .get() as { count: number }
    expect(count).toBe(3)

    const claim = compileClaimQuery(
      new Kysely<KiteDatabase>({ dialect: new SqliteDialect({ database: raw }) }),
      'sqlite',
    )
    const plan = raw.prepare(`EXPLAIN QUERY PLAN ${claim}`).all(2) as Array<{ detail: string }>
    expect(plan.map((step) => step.detail)).toEqual([
      'SCAN task_queue USING INDEX task_queue_queued',
    ])
    // The oldest first, and a claimed entry leaves the index.
    expect((await store.claimTaskRuns('node-b', 2)).map((entry) => entry.id)).toEqual(
      waiting.slice(0, 2),
    )
    expect(await store.countQueuedTaskRuns()).toBe(1)
    expect(await store.cancelQueuedTaskRun(waiting[0]!)).toBe(false)
    expect(await store.cancelQueuedTaskRun(waiting[2]!)).toBe(true)
    expect(await store.claimTaskRuns('node-b', 5)).toEqual([])
  })

  it('finds the trigger state rows of one key through its index', async () => {
    for (let index = 0; index < 50; index++) {
      await store.triggerStateSet('n', `flow${index}`, 't', 'cursor', index)
      if (index % 10 === 0) {
        await store.triggerStateSet('n', `flow${index}`, 't', '$control', { enabled: false })
      }
    }
    const rows = await store.triggerStateList({ key: '$control' })
    expect(rows.map((row) => row.flowId)).toEqual(['flow0', 'flow10', 'flow20', 'flow30', 'flow40'])
    expect(rows[0]?.value).toEqual({ enabled: false })
    const plan = raw
      .prepare(
        'EXPLAIN QUERY PLAN SELECT * FROM trigger_state WHERE key = ? ORDER BY namespace, flow_id, trigger_id',
      )
      .all('$control') as Array<{ detail: string }>
    expect(plan.map((step) => step.detail).join(' / ')).toMatch(
      /SEARCH trigger_state USING INDEX trigger_state_key \(key=\?\)/,
    )
  })
})

describe('the task queue index on PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>
  let store: Store
  let client: pg.Client
  beforeEach(async () => {
    database = await createTestDatabase()
    store = await createPostgresStore({ url: database.url })
    client = new pg.Client({ connectionString: database.url })
    await client.connect()
  })
  afterEach(async () => {
    await client.end()
    await store.close()
    await database.drop()
  })

  it('claims through the partial index of queued entries only', async () => {
    const waiting = await fillQueue(store, 2000, 3)
    const { rows: indexes } = await client.query<{ indexname: string; indexdef: string }>(
      "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'task_queue'",
    )
    const queued = indexes.find((index) => index.indexname === 'task_queue_queued')
    expect(queued?.indexdef).toMatch(/WHERE \(state = 'QUEUED'::text\)$/)
    expect(indexes.map((index) => index.indexname)).not.toContain('task_queue_state')

    await client.query('ANALYZE task_queue')
    const pool = new pg.Pool({ connectionString: database.url, max: 1 })
    const compiler = new Kysely<KiteDatabase>({ dialect: new PostgresDialect({ pool }) })
    const claim = compileClaimQuery(compiler, 'postgres')
    await compiler.destroy()
    const { rows: plan } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${claim}`, [2])
    const text = plan.map((row) => row['QUERY PLAN']).join('\n')
    expect(text).toMatch(/Index Scan using task_queue_queued on task_queue/)
    expect(text).not.toMatch(/Seq Scan/)
    expect((await store.claimTaskRuns('node-b', 2)).map((entry) => entry.id)).toEqual(
      waiting.slice(0, 2),
    )
    expect(await store.countQueuedTaskRuns()).toBe(1)
  }, 20_000)
})
