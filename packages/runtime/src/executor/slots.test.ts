import { afterEach, describe, expect, it } from 'vitest'
import { gauge } from '../../test/fixtures/plugins.js'
import { createTestRuntime, type TestRuntime } from '../../test/fixtures/test-runtime.js'
import { createWorkerSlots } from './slots.js'

describe('worker slots', () => {
  it('hands out at most `size` slots and passes a released one to the first waiter', async () => {
    const slots = createWorkerSlots(2)
    const a = await slots.acquire()
    await slots.acquire()
    const order: string[] = []
    const third = slots.acquire().then((release) => {
      order.push('third')
      return release
    })
    const fourth = slots.acquire().then(() => order.push('fourth'))
    expect(slots.waiting).toBe(2)
    a()
    a()
    const releaseThird = await third
    expect(order).toEqual(['third'])
    expect(slots.inUse).toBe(2)
    releaseThird()
    await fourth
    expect(order).toEqual(['third', 'fourth'])
    expect(slots.waiting).toBe(0)
  })

  it('lets a waiter leave the line when its signal fires, with the signal reason', async () => {
    const slots = createWorkerSlots(1)
    const release = await slots.acquire()
    const controller = new AbortController()
    const waiting = slots.acquire(controller.signal)
    controller.abort(new Error('killed'))
    await expect(waiting).rejects.toThrow('killed')
    expect(slots.waiting).toBe(0)
    release()
    expect(slots.inUse).toBe(0)
    await expect(slots.acquire(controller.signal)).rejects.toThrow('killed')
  })

  it('refuses a size that is not a whole number of at least 1', () => {
    expect(() => createWorkerSlots(0)).toThrow(
      'worker.slots must be a whole number of at least 1, not 0',
    )
    expect(() => createWorkerSlots(1.5)).toThrow('not 1.5')
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
    // Only the task that had the slot was ever recorded; the waiting one left the line.
    expect(done.taskRunList.filter((run) => run.type === 'test.fixtures.Gauge')).toHaveLength(1)
  })
})
