// The active scheduler reads every trigger's `$control` row by key alone each tick
// (`triggerStateList({ key })`): migration 0008 gives that read an index, so it no longer reads
// the whole trigger_state table.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createSqliteStore } from './sqlite-store.js'
import type { Store } from './store.js'

describe('trigger state read by key, on SQLite', () => {
  let dir: string
  let store: Store
  let raw: Database.Database
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kite-trigger-state-'))
    store = await createSqliteStore({ file: join(dir, 'kite.db') })
    raw = new Database(join(dir, 'kite.db'))
  })
  afterEach(async () => {
    raw.close()
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('finds the rows of one key through its index', async () => {
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
