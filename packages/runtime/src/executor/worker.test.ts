import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { gauge } from '../../test/fixtures/plugins.js'
import { createTestRuntime, type TestRuntime } from '../../test/fixtures/test-runtime.js'
import { parseTaskResult } from './worker.js'

describe('reading a recorded task result', () => {
  it('takes what a worker writes and refuses anything else without throwing', () => {
    expect(parseTaskResult('{"ok":true,"outputs":{"a":1}}')).toEqual({
      ok: true,
      outputs: { a: 1 },
    })
    expect(parseTaskResult('{"ok":false,"error":"x","retryable":true}')).toMatchObject({
      ok: false,
    })
    for (const garbage of ['', '{', 'null', '[]', '{"ok":"yes"}', '{"ok":true}', '42']) {
      expect(parseTaskResult(garbage)).toBeUndefined()
    }
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        const result = parseTaskResult(text)
        expect(result === undefined || typeof result.ok === 'boolean').toBe(true)
      }),
    )
  })
})

describe('an engine with worker.slots: 2', () => {
  let runtime: TestRuntime | undefined
  afterEach(async () => {
    await runtime?.close()
    runtime = undefined
  })

  it('runs at most two task runs at once; the others wait and all finish', async () => {
    runtime = await createTestRuntime({ config: { worker: { slots: 2 } } })
    gauge.peak = 0
    const done = await runtime.run(`
id: crowded
namespace: test.slots
tasks:
  - id: all
    type: kite.flow.Parallel
    tasks:
${[1, 2, 3, 4, 5, 6].map((n) => `      - id: g${n}\n        type: test.fixtures.Gauge\n        ms: 60`).join('\n')}
`)
    expect(done.state.current).toBe('SUCCESS')
    expect(gauge.peak).toBe(2)
    expect(done.taskRunList.filter((run) => run.state.current === 'SUCCESS')).toHaveLength(7)
  })

  it('runs local task runs in free slots without looking at the queue after each one', async () => {
    runtime = await createTestRuntime({ config: { worker: { slots: 2 } } })
    const { store } = runtime.runtime
    let claims = 0
    const claimTaskRuns = store.claimTaskRuns.bind(store)
    store.claimTaskRuns = (nodeId, limit) => {
      claims++
      return claimTaskRuns(nodeId, limit)
    }
    for (let round = 0; round < 5; round++) {
      const done = await runtime.run(`
id: sequence
namespace: test.slots
tasks:
${[1, 2, 3].map((n) => `  - id: g${n}\n    type: test.fixtures.Gauge\n    ms: 1`).join('\n')}
`)
      expect(done.state.current).toBe('SUCCESS')
    }
    // 15 task runs, each committed as claimed by this node: only the 1 s poll looks at the queue.
    expect(claims).toBeLessThanOrEqual(3)
  })

  it('kills an execution whose task runs still wait for a slot', async () => {
    runtime = await createTestRuntime({ config: { worker: { slots: 1 } } })
    await runtime.runtime.engine.saveFlow(`
id: waiting
namespace: test.slots
tasks:
  - id: all
    type: kite.flow.Parallel
    tasks:
      - id: first
        type: test.fixtures.Gauge
        ms: 5000
      - id: second
        type: test.fixtures.Gauge
        ms: 5000
`)
    const started = await runtime.runtime.engine.start({
      namespace: 'test.slots',
      flowId: 'waiting',
    })
    const deadline = Date.now() + 5000
    while (
      !(await runtime.runtime.engine.getExecution(started.id))?.taskRunList.some(
        (run) => run.type === 'test.fixtures.Gauge',
      )
    ) {
      if (Date.now() > deadline) throw new Error('no task run started')
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    await runtime.runtime.engine.kill(started.id)
    const done = await runtime.runtime.engine.waitFor(started.id)
    expect(done.state.current).toBe('KILLED')
    // The task run that waited in the queue was withdrawn from it, never run.
    const gauges = done.taskRunList.filter((run) => run.type === 'test.fixtures.Gauge')
    expect(gauges.map((run) => run.state.current)).toEqual(['KILLED', 'KILLED'])
    expect(await runtime.runtime.store.countQueuedTaskRuns()).toBe(0)
  })
})
