import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { silentLogger } from '../executor/engine.js'
import { createSqliteStore } from '../storage/sqlite-store.js'
import type { Store } from '../storage/store.js'
import type { Scheduler } from './scheduler.js'
import { createSchedulerLease, SCHEDULER_LEASE } from './scheduler-lease.js'

// Two nodes competing for the lease over one real store; the schedulers they make only record
// whether they run (what the lease decides), the trigger logic has its own tests.
let dir: string
let store: Store
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kite-lease-'))
  store = await createSqliteStore({ file: join(dir, 'kite.db') })
})
afterEach(async () => {
  await store.close()
  await rm(dir, { recursive: true, force: true })
})

function node(id: string, ttlMs: number) {
  const running: string[] = []
  const lease = createSchedulerLease({
    store,
    nodeId: id,
    ttlMs,
    logger: silentLogger,
    createScheduler: () =>
      ({
        async start() {
          running.push(id)
        },
        async close() {
          running.splice(running.indexOf(id), 1)
        },
      }) as Scheduler,
  })
  return { lease, running }
}

describe('the scheduler lease', () => {
  it('keeps one scheduler active and hands over when it goes', async () => {
    const a = node('a', 300)
    await expect.poll(() => a.lease.active()).toBe(true)
    const b = node('b', 300)
    // b stands by while a renews, well past a lease's length.
    await new Promise((resolve) => setTimeout(resolve, 700))
    expect(b.lease.active()).toBe(false)
    expect(a.running).toEqual(['a'])
    expect((await store.getLease(SCHEDULER_LEASE))?.holder).toBe('a')
    // a stops: it gives the lease up and b takes it.
    await a.lease.close()
    expect(a.running).toEqual([])
    await expect.poll(() => b.lease.active(), { timeout: 5000 }).toBe(true)
    expect(b.running).toEqual(['b'])
    await b.lease.close()
  })

  it('passes the lease on when its holder stops renewing without a goodbye', async () => {
    // A holder that died: its lease row stays until it expires.
    expect(await store.acquireLease(SCHEDULER_LEASE, 'dead', 1500)).toBe(true)
    const b = node('b', 300)
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(b.lease.active()).toBe(false)
    await expect.poll(() => b.lease.active(), { timeout: 5000 }).toBe(true)
    await b.lease.close()
    expect(await store.getLease(SCHEDULER_LEASE)).toBeUndefined()
  })
})
