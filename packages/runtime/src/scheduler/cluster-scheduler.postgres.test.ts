import { describe, expect, it } from 'vitest'
import type { Json } from '../../test/fixtures/api-calls.js'
import { useTestCluster } from '../../test/fixtures/cluster.js'
import { echo, flowYaml } from '../../test/fixtures/flows.js'
import { waitUntil } from '../../test/fixtures/test-runtime.js'
import type { KiteServer } from '../api/server.js'
import { RECORD_KEY } from './scheduler.js'

// The active scheduler of a cluster (SPEC 9) and what happens on other nodes: triggers enabled,
// disabled and reset through an api node (the store is the truth, not the active scheduler's
// memory), and executions that end on an executor node (Flow triggers).

const cluster = useTestCluster('kite-control-api-')
let api: KiteServer | undefined

const EVERY_SECOND = flowYaml('every-second', 'test.control', [echo('echo', 'tick')], {
  triggers: [{ id: 'tick', type: 'kite.trigger.Schedule', cron: '* * * * * *' }],
})

async function call(path: string, method = 'GET'): Promise<Json> {
  const response = await fetch(`${api!.url}/api/v1${path}`, { method })
  expect(response.status).toBe(200)
  return (await response.json()) as Json
}

const fired = async () =>
  (await api!.runtime.store.listExecutions({ namespace: 'test.control' }, 1, 500)).total

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('trigger control through an api node of a cluster on PostgreSQL', () => {
  it('a disable, enable or reset through an api node holds against the active scheduler elsewhere', async () => {
    const schedulerNode = await cluster.node({
      roles: ['scheduler'],
      schedulerLeaseMs: 600,
      scheduler: { tickMs: 50 },
    })
    api = await cluster.api()
    await waitUntil(async () => schedulerNode.runtime.schedulerActive(), 5000)
    await api.runtime.engine.saveFlow(EVERY_SECOND)
    await waitUntil(async () => (await fired()) >= 1, 5000)

    const disabled = await call('/triggers/test.control/every-second/tick/disable', 'POST')
    expect(disabled.enabled).toBe(false)
    // A firing under way as the disable lands may still start; after that, nothing.
    await sleep(1500)
    const atDisable = await fired()
    await sleep(2200)
    // Before the fix the active scheduler fired on, and wrote its record back without the flag.
    expect(await fired()).toBe(atDisable)
    const [listed] = (await call('/triggers?namespace=test.control')).results as Json[]
    expect(listed).toMatchObject({ triggerId: 'tick', enabled: false })
    const record = (await api.runtime.store.triggerStateGet(
      'test.control',
      'every-second',
      'tick',
      RECORD_KEY,
    )) as Json | undefined
    expect(record?.disabled).toBeUndefined()

    // A reset keeps the trigger disabled, and forgets what the active scheduler recorded.
    const reset = await call('/triggers/test.control/every-second/tick/reset', 'POST')
    expect(reset).toMatchObject({ enabled: false, failures: 0 })
    expect(reset.lastFired).toBeUndefined()
    await sleep(1200)
    expect(await fired()).toBe(atDisable)

    const enabledAt = new Date().toISOString()
    const enabled = await call('/triggers/test.control/every-second/tick/enable', 'POST')
    expect(enabled.enabled).toBe(true)
    // The active scheduler's first write after the enable: what it recorded before the reset is
    // gone from its memory too (before the fix it wrote its old lastFired back).
    let first: Json | undefined
    await waitUntil(async () => {
      first = await api!.runtime.store.triggerStateGet(
        'test.control',
        'every-second',
        'tick',
        RECORD_KEY,
      )
      return typeof first?.nextDate === 'string'
    }, 5000)
    if (first?.lastFired !== undefined) expect(first.lastFired >= enabledAt).toBe(true)
    await waitUntil(async () => (await fired()) >= atDisable + 2, 5000)
    // The api node's list reads what the active scheduler recorded since, not its own memory.
    await waitUntil(async () => {
      const [trigger] = (await call('/triggers?namespace=test.control')).results as Json[]
      return trigger?.enabled === true && typeof trigger.lastFired === 'string'
    }, 5000)
  })

  it('keeps a trigger disabled in a record written before control rows, until it is enabled', async () => {
    api = await cluster.api()
    await api.runtime.engine.saveFlow(EVERY_SECOND)
    await api.runtime.store.triggerStateSet('test.control', 'every-second', 'tick', RECORD_KEY, {
      disabled: true,
    })
    const [before] = (await call('/triggers?namespace=test.control')).results as Json[]
    expect(before.enabled).toBe(false)
    expect((await call('/triggers/test.control/every-second/tick/enable', 'POST')).enabled).toBe(
      true,
    )
    const [after] = (await call('/triggers?namespace=test.control')).results as Json[]
    expect(after.enabled).toBe(true)
  })

  it('fires a Flow trigger live when its upstream ends on an executor node', async () => {
    const executorNode = await cluster.node({ roles: ['executor', 'worker'] })
    const schedulerNode = await cluster.node({
      roles: ['scheduler'],
      schedulerLeaseMs: 600,
      scheduler: { tickMs: 50 },
    })
    await waitUntil(async () => schedulerNode.runtime.schedulerActive(), 5000)
    const { engine, store } = executorNode.runtime
    await engine.saveFlow(flowYaml('upstream', 'test.control', [echo('up', 'done')]))
    await engine.saveFlow(
      flowYaml('downstream', 'test.control', [echo('down', '{{ trigger.executionId }}')], {
        triggers: [
          {
            id: 'after',
            type: 'kite.trigger.Flow',
            preconditions: {
              flows: [{ namespace: 'test.control', flowId: 'upstream', states: ['SUCCESS'] }],
            },
          },
        ],
      }),
    )
    // Let the active scheduler index the new flows before the upstream ends.
    await sleep(300)
    const upstream = await engine.start({ namespace: 'test.control', flowId: 'upstream' })
    expect((await engine.waitFor(upstream.id)).state.current).toBe('SUCCESS')
    // Before the fix only a scheduler taking the lease over caught it: here, none ever does.
    let downstream: Json[] = []
    await waitUntil(async () => {
      downstream = (
        await store.listExecutions({ namespace: 'test.control', flowId: 'downstream' }, 1, 10)
      ).results
      return downstream.length > 0
    }, 5000)
    const done = await engine.waitFor(downstream[0]!.id)
    expect(executorNode.taskRun(done, 'down').outputs).toEqual({ value: upstream.id })
    await sleep(500)
    // Once per upstream end, whatever saw it.
    expect(
      (await store.listExecutions({ namespace: 'test.control', flowId: 'downstream' }, 1, 10))
        .total,
    ).toBe(1)
  })
})
