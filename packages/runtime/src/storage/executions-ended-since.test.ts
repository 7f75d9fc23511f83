// The scheduler's start-up replay reads executions by keyset over an index (issue 14): the
// cost follows the rows returned, never the history stored.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type ExecutionSummary, newState } from '../executor/execution-model.js'
import { createSqliteStore } from './sqlite-store.js'
import type { EndedExecutionCursor, Store } from './store.js'

let dir: string
let store: Store
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kite-ended-since-'))
  store = await createSqliteStore({ file: join(dir, 'kite.db') })
})
afterEach(async () => {
  await store.close()
  await rm(dir, { recursive: true, force: true })
})

const execution = (id: string, state: string): ExecutionSummary => ({
  id,
  namespace: 'company.team',
  flowId: 'hello',
  flowRevision: 1,
  state: newState(state, new Date().toISOString()) as ExecutionSummary['state'],
  labels: {},
  inputs: {},
  plugins: [],
})

const tick = () => new Promise((resolve) => setTimeout(resolve, 3))

describe('listExecutionsEndedSince', () => {
  it('pages by keyset through the final executions written since a date, and only those', async () => {
    await store.commit({ execution: execution('old', 'SUCCESS') })
    await tick()
    const since = new Date().toISOString()
    await tick()
    const ended = ['a', 'b', 'c', 'd', 'e']
    for (const [index, id] of ended.entries()) {
      await store.commit({ execution: execution(id, index % 2 ? 'FAILED' : 'SUCCESS') })
    }
    await store.commit({ execution: execution('running', 'RUNNING') })
    await store.commit({ execution: execution('paused', 'PAUSED') })

    const seen: string[] = []
    let after: EndedExecutionCursor | undefined
    for (let pages = 0; pages < 10; pages++) {
      const page = await store.listExecutionsEndedSince(since, {
        ...(after ? { after } : {}),
        limit: 2,
      })
      seen.push(...page.map((row) => row.id))
      after = page.at(-1)
      if (page.length < 2) break
    }
    expect(seen.sort()).toEqual(ended)
    expect(
      await store.listExecutionsEndedSince(new Date(Date.now() + 60_000).toISOString()),
    ).toEqual([])
    // Rewritten later (it ended again after a restart): it moves to the end, once.
    await store.commit({ execution: execution('a', 'SUCCESS') })
    const all = (await store.listExecutionsEndedSince(since)).map((row) => row.id)
    expect(all).toEqual(['b', 'c', 'd', 'e', 'a'])
  })

  it('reads through an index, not a scan of the executions', async () => {
    await store.commit({ execution: execution('x', 'SUCCESS') })
    const raw = new Database(join(dir, 'kite.db'), { readonly: true })
    try {
      const plan = raw
        .prepare(
          `EXPLAIN QUERY PLAN select id, updated_at from executions where updated_at >= ? and state not in ('CREATED', 'RUNNING', 'PAUSED', 'KILLING') and (updated_at > ? or (updated_at = ? and id > ?)) order by updated_at, id limit 200`,
        )
        .all('2026-01-01', '2026-01-01', '2026-01-01', 'x') as { detail: string }[]
      const details = plan.map((row) => row.detail).join('\n')
      expect(details).toMatch(/USING (COVERING )?INDEX executions_updated/)
      expect(details).not.toMatch(/^SCAN executions$/m)
    } finally {
      raw.close()
    }
  })
})
