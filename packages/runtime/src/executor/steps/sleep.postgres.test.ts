import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fixturePlugins } from '../../../test/fixtures/plugins.js'
import { createTestDatabase } from '../../../test/fixtures/postgres.js'
import {
  createTestRuntime,
  type TestRuntime,
  waitUntil,
} from '../../../test/fixtures/test-runtime.js'

// The real core plugin (its built dist), instead of the fixtures' stand-in for kite.core.
const CORE = join(import.meta.dirname, '../../../../plugins/core')

let database: Awaited<ReturnType<typeof createTestDatabase>>
let open: TestRuntime[] = []
beforeEach(async () => {
  database = await createTestDatabase()
})
afterEach(async () => {
  for (const t of open) await t.close()
  open = []
  await database?.drop()
})

/** An executor and worker node of a cluster on the test database, with its own data dir. */
async function node() {
  const t = await createTestRuntime({
    config: { store: { url: database.url } },
    roles: ['api', 'executor', 'worker'],
    scheduler: false,
    plugins: fixturePlugins().filter((plugin) => plugin.name !== '@kite/plugin-core'),
    pluginDirs: [CORE],
  })
  open.push(t)
  return t
}

describe('a Sleep in a cluster on PostgreSQL', () => {
  it('wakes on the executor that took the execution over, at the recorded time', async () => {
    const first = await node()
    await first.runtime.engine.saveFlow(`
id: napper
namespace: test.sleep
tasks:
  - id: nap
    type: kite.core.flow.Sleep
    duration: PT1.5S
  - id: after
    type: test.fixtures.Echo
    value: awake
`)
    const started = await first.runtime.engine.start({ namespace: 'test.sleep', flowId: 'napper' })
    let wakeAt: string | undefined
    await waitUntil(async () => {
      const stored = await first.runtime.store.getExecution(started.id)
      wakeAt = stored?.taskRunList.find((run) => run.taskId === 'nap')?.wakeAt
      return wakeAt !== undefined
    })
    // The first executor goes away mid-sleep; the second takes the execution over.
    open = open.filter((t) => t !== first)
    await first.close()
    const second = await node()
    const done = await second.runtime.engine.waitFor(started.id)
    expect(done.state.current).toBe('SUCCESS')
    const nap = second.taskRun(done, 'nap')
    expect(nap.wakeAt).toBe(wakeAt)
    expect(nap.attempts.map((attempt) => attempt.state.current)).toEqual(['SUCCESS'])
    expect(nap.attempts[0]).not.toHaveProperty('workerLost')
    expect(Date.parse(nap.state.endDate!)).toBeGreaterThanOrEqual(Date.parse(wakeAt!))
    expect(second.taskRun(done, 'after').outputs).toEqual({ value: 'awake' })
    expect(await second.runtime.store.countQueuedTaskRuns()).toBe(0)
  })
})
