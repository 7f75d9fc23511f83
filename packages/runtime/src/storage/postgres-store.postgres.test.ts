import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase } from '../../test/fixtures/postgres.js'
import { RuntimeError } from '../errors.js'
import { createPostgresStore, redactStoreUrl } from './postgres-store.js'
import type { Store } from './store.js'

let database: Awaited<ReturnType<typeof createTestDatabase>>
beforeAll(async () => {
  database = await createTestDatabase()
})
afterAll(async () => {
  await database.drop()
})

describe('the postgres store', () => {
  it('hands every entry to exactly one of two concurrent claimers (separate pools)', async () => {
    const one = await createPostgresStore({ url: database.url, maxConnections: 4 })
    const two = await createPostgresStore({ url: database.url, maxConnections: 4 })
    try {
      const count = 300
      const ids = Array.from({ length: count }, (_, index) => `run${index}:1`)
      await one.commit({
        enqueue: ids.map((id) => ({
          id,
          executionId: 'e1',
          taskRunId: id.split(':')[0]!,
          attempt: 1,
          payload: '{}',
        })),
      })
      const claimed = new Map<string, string[]>()
      const claimer = async (store: Store, nodeId: string) => {
        for (;;) {
          const batch = await store.claimTaskRuns(nodeId, 7)
          if (batch.length === 0) return
          for (const { id } of batch) claimed.set(id, [...(claimed.get(id) ?? []), nodeId])
        }
      }
      await Promise.all([
        claimer(one, 'n1'),
        claimer(two, 'n2'),
        claimer(one, 'n3'),
        claimer(two, 'n4'),
      ])
      expect([...claimed.keys()].sort()).toEqual([...ids].sort())
      expect([...claimed.values()].filter((nodes) => nodes.length > 1)).toEqual([])
      expect(await one.countQueuedTaskRuns()).toBe(0)
      const entries = await two.getQueueEntries(ids)
      expect(entries.every((entry) => entry.state === 'RUNNING')).toBe(true)
      // More than one claimer got work: the claims really ran side by side.
      expect(new Set(entries.map((entry) => entry.nodeId)).size).toBeGreaterThan(1)
    } finally {
      await one.close()
      await two.close()
    }
  })

  it('migrates once when several nodes open the same database at once', async () => {
    const fresh = await createTestDatabase()
    try {
      const stores = await Promise.all(
        [1, 2, 3].map(() => createPostgresStore({ url: fresh.url, maxConnections: 2 })),
      )
      await stores[0]!.saveFlow({ namespace: 'a', id: 'f', source: 'v1' })
      expect((await stores[2]!.getFlow('a', 'f'))?.revision).toBe(1)
      await Promise.all(stores.map((store) => store.close()))
    } finally {
      await fresh.drop()
    }
  })

  it('serves kv() from a cache that follows its own writes and refreshes on reads', async () => {
    const one = await createPostgresStore({ url: database.url })
    const two = await createPostgresStore({ url: database.url })
    try {
      expect(one.kvGetNow('ns', 'k')).toBeUndefined()
      await one.kvSet('ns', 'k', { n: 1 })
      expect(one.kvGetNow('ns', 'k')).toEqual({ n: 1 })
      await one.kvSet('ns', 'old', 1, Date.now() - 1)
      expect(one.kvGetNow('ns', 'old')).toBeUndefined()
      // Another node's write reaches this one's cache after a read of the key.
      await two.kvSet('ns', 'k', { n: 2 })
      expect(await one.kvGet('ns', 'k')).toEqual({ n: 2 })
      expect(one.kvGetNow('ns', 'k')).toEqual({ n: 2 })
      expect(await one.kvDelete('ns', 'k')).toBe(true)
      expect(one.kvGetNow('ns', 'k')).toBeUndefined()
      // Epoch-millisecond expiries do not fit in 32 bits: stored and read back as numbers.
      const later = Date.now() + 60_000
      await one.kvSet('ns', 'ttl', 'x', later)
      expect(await two.kvKeys('ns')).toEqual(['ttl'])
    } finally {
      await one.close()
      await two.close()
    }
  })

  it('wakes listeners of other nodes once per commit of queued entries, of results and of a withdrawal', async () => {
    const executor = await createPostgresStore({ url: database.url })
    const worker = await createPostgresStore({ url: database.url })
    try {
      const heard = { queued: 0, results: 0, withdrawn: 0 }
      const next = (channel: keyof typeof heard) =>
        new Promise<void>((resolve) => {
          const before = heard[channel]
          const check = setInterval(() => {
            if (heard[channel] > before) {
              clearInterval(check)
              resolve()
            }
          }, 5)
        })
      const stopQueued = await worker.listen!('queued', () => heard.queued++)
      await executor.listen!('results', () => heard.results++)
      await worker.listen!('withdrawn', () => heard.withdrawn++)
      const entry = (id: string) => ({
        id: `${id}:1`,
        executionId: 'e1',
        taskRunId: id,
        attempt: 1,
        payload: '{}',
      })
      // Two commits asked for together share one transaction: one notification.
      let queued = next('queued')
      await Promise.all([
        executor.commit({ enqueue: [entry('n1')] }),
        executor.commit({ enqueue: [entry('n2')] }),
      ])
      await queued
      await new Promise((resolve) => setTimeout(resolve, 100))
      expect(heard.queued).toBe(1)
      queued = next('queued')
      await executor.commit({ enqueue: [entry('n4')] })
      await queued
      expect(heard.queued).toBe(2)
      const claimed = await worker.claimTaskRuns('w1', 10)
      expect(claimed.map(({ id }) => id).sort()).toEqual(['n1:1', 'n2:1', 'n4:1'])
      const results = next('results')
      await worker.completeTaskRuns([{ id: 'n1:1', result: '{"ok":true,"outputs":{}}' }], [])
      await results
      expect(heard.results).toBe(1)
      // A kill withdraws a claimed entry: its worker hears it.
      const withdrawn = next('withdrawn')
      expect(await executor.withdrawTaskRun('n2:1')).toBe(true)
      await withdrawn
      expect(heard.withdrawn).toBe(1)
      // Stopped listening: nothing more arrives.
      stopQueued()
      await executor.commit({ enqueue: [entry('n5')] })
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(heard.queued).toBe(2)
    } finally {
      await executor.close()
      await worker.close()
    }
  })

  it('refuses a URL that is not postgres:// and a server that is not there, clearly', async () => {
    await expect(createPostgresStore({ url: 'mysql://x@127.0.0.1/db' })).rejects.toThrow(
      'the store URL mysql://x@127.0.0.1/db is not a postgres:// URL',
    )
    const refused = createPostgresStore({ url: 'postgres://u:secret@127.0.0.1:1/none' })
    await expect(refused).rejects.toBeInstanceOf(RuntimeError)
    await expect(refused).rejects.toThrow(
      /^cannot connect to the store postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/none/,
    )
    await expect(refused).rejects.not.toThrow(/secret/)
    const missing = createPostgresStore({ url: `${database.url}_missing` })
    await expect(missing).rejects.toThrow(/cannot connect to the store .*does not exist/)
  })

  it('hides the password when it names a store', () => {
    expect(redactStoreUrl('postgres://kite:pw@db:5432/kite')).toBe(
      'postgres://kite:***@db:5432/kite',
    )
    expect(redactStoreUrl('postgres://db/kite')).toBe('postgres://db/kite')
    expect(redactStoreUrl('::')).toBe('(an unreadable URL)')
  })
})
