// The SQLite store checkpoints its WAL from a thread of its own, so commits on the main thread
// only append to the WAL (a checkpoint inside a commit took 5–40 ms every ~40 commits).
import { existsSync, statSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type ExecutionSummary, newState } from '../executor/execution-model.js'
import { createSqliteStore } from './sqlite-store.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kite-checkpoint-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const execution = (id: string): ExecutionSummary => ({
  id,
  namespace: 'company.team',
  flowId: 'hello',
  flowRevision: 1,
  state: newState('SUCCESS', new Date().toISOString()) as ExecutionSummary['state'],
  labels: {},
  inputs: { padding: 'x'.repeat(2000) },
  plugins: [],
})

describe('the SQLite store WAL', () => {
  it('is copied into the database by the checkpoint thread, not by commits, and removed on close', async () => {
    const file = join(dir, 'kite.db')
    const store = await createSqliteStore({ file })
    try {
      const before = statSync(file).size
      // ~300 pages: far under the 10,000 at which a commit would checkpoint by itself.
      await Promise.all(
        Array.from({ length: 300 }, (_, index) =>
          store.commit({ execution: execution(`e${index}`) }),
        ),
      )
      const deadline = Date.now() + 5000
      while (statSync(file).size <= before) {
        if (Date.now() > deadline) throw new Error('the WAL was never checkpointed')
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      expect((await store.getExecution('e299'))?.inputs).toEqual({ padding: 'x'.repeat(2000) })
    } finally {
      await store.close()
    }
    expect(existsSync(`${file}-wal`)).toBe(false)
    const reopened = await createSqliteStore({ file })
    try {
      expect((await reopened.getExecution('e0'))?.state.current).toBe('SUCCESS')
    } finally {
      await reopened.close()
    }
  })
})
