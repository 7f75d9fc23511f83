// `Store.flowsVersion` is what the scheduler keeps its trigger index by: it must change with every
// stored revision (a save that changes the source, a deletion) and with nothing else.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createSqliteStore } from './sqlite-store.js'
import type { Store } from './store.js'

let dir: string
let store: Store
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kite-flows-version-'))
  store = await createSqliteStore({ file: join(dir, 'kite.db') })
})
afterEach(async () => {
  await store.close()
  await rm(dir, { recursive: true, force: true })
})

describe('flowsVersion', () => {
  it('changes with each stored revision and deletion, not with a save of the same source', async () => {
    const flow = { namespace: 'company.team', id: 'hello', source: 'id: hello\n' }
    expect(await store.flowsVersion()).toBe(0)
    await store.saveFlow(flow)
    const first = await store.flowsVersion()
    expect(first).toBeGreaterThan(0)
    await store.saveFlow(flow)
    expect(await store.flowsVersion()).toBe(first)
    await store.saveFlow({ ...flow, source: 'id: hello\n# changed\n' })
    const second = await store.flowsVersion()
    expect(second).not.toBe(first)
    expect(await store.deleteFlow(flow.namespace, flow.id)).toBe(true)
    const third = await store.flowsVersion()
    expect(third).not.toBe(second)
    // Nothing to delete: nothing stored.
    expect(await store.deleteFlow(flow.namespace, flow.id)).toBe(false)
    expect(await store.flowsVersion()).toBe(third)
  })
})
