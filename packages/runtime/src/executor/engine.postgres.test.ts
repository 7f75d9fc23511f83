import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { echo, flowable, flowYaml, slow, task } from '../../test/fixtures/flows.js'
import { createTestDatabase } from '../../test/fixtures/postgres.js'
import { createTestRuntime, type TestRuntime } from '../../test/fixtures/test-runtime.js'

let database: Awaited<ReturnType<typeof createTestDatabase>>
let t: TestRuntime
beforeAll(async () => {
  database = await createTestDatabase()
  t = await createTestRuntime({ config: { store: { url: database.url } } })
})
afterAll(async () => {
  await t?.close()
  await database?.drop()
})

const FLOW = flowYaml('on-postgres', 'test.postgres', [
  task('set', 'test.fixtures.Kv', { key: 'colour', value: { name: 'teal' } }),
  flowable('fan', 'Parallel', [
    slow('slow', 50),
    flowable(
      'loop',
      'ForEach',
      [task('upper', 'test.fixtures.Return', { format: '{{ taskrun.value | upper }}' })],
      { values: '["a", "b", "c"]', concurrencyLimit: 2 },
    ),
  ]),
  echo(
    'collect',
    "{{ outputs.upper.a.value }}{{ outputs.upper['c'].value }}-{{ kv('colour').name }}",
  ),
])

describe('the engine on a postgres store', () => {
  it('runs a flow end to end: Parallel, ForEach, kv(), outputs and logs kept in PostgreSQL', async () => {
    const execution = await t.run(FLOW)
    expect(execution.state.current).toBe('SUCCESS')
    expect(t.taskRun(execution, 'upper', 'b').outputs).toEqual({ value: 'B' })
    expect(t.taskRun(execution, 'collect').outputs).toEqual({ value: 'AC-teal' })
    expect(await t.runtime.store.kvGet('test.postgres', 'colour')).toEqual({ name: 'teal' })
    // Every task run is stored with its state, and the queue is empty at the end.
    const stored = await t.runtime.store.getExecution(execution.id)
    expect(stored?.taskRunList.map((run) => run.state.current).sort()).toEqual(
      execution.taskRunList.map((run) => run.state.current).sort(),
    )
    expect(stored?.taskRunList.every((run) => run.state.current === 'SUCCESS')).toBe(true)
    expect(await t.runtime.store.countQueuedTaskRuns()).toBe(0)
  })

  it('runs many executions at once through the queue and keeps them across a restart', async () => {
    await t.runtime.engine.saveFlow(FLOW)
    const started = await Promise.all(
      Array.from({ length: 12 }, () =>
        t.runtime.engine.start({ namespace: 'test.postgres', flowId: 'on-postgres', inputs: {} }),
      ),
    )
    const ended = await Promise.all(started.map((one) => t.runtime.engine.waitFor(one.id)))
    expect(ended.map((one) => one.state.current)).toEqual(ended.map(() => 'SUCCESS'))
    await t.close()
    await rm(t.dataDir, { recursive: true, force: true })
    // A new data dir: everything but internal storage lives in the database.
    t = await createTestRuntime({ config: { store: { url: database.url } } })
    const page = await t.runtime.store.listExecutions({ namespace: 'test.postgres' }, 1, 50)
    expect(page.total).toBe(13)
    expect(page.results.every((one) => one.state.current === 'SUCCESS')).toBe(true)
    expect((await t.runtime.store.getFlow('test.postgres', 'on-postgres'))?.revision).toBe(1)
  })

  it('starts one execution when two nodes start the same id at once: the other is refused', async () => {
    const config = { store: { url: database.url } }
    const nodes = [
      await createTestRuntime({ config, roles: ['api'] }),
      await createTestRuntime({ config, roles: ['api'] }),
    ]
    try {
      await nodes[0]!.runtime.engine.saveFlow(FLOW)
      // Two schedulers firing one date (a lease handed over mid-firing) start one derived id.
      const id = 'one-date-two-schedulers'
      const starts = await Promise.allSettled(
        nodes.map((node) =>
          node.runtime.engine.start({ namespace: 'test.postgres', flowId: 'on-postgres', id }),
        ),
      )
      expect(starts.filter((start) => start.status === 'fulfilled')).toHaveLength(1)
      const refused = starts.find((start) => start.status === 'rejected')
      expect(refused?.reason).toMatchObject({ code: 'EXECUTION_EXISTS' })
      const stored = await nodes[1]!.runtime.store.getExecution(id)
      expect(stored?.state.histories.map((entry) => entry.state)).toEqual(['CREATED'])
    } finally {
      for (const node of nodes) await node.close()
    }
  })
})
