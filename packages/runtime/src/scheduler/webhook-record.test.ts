import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestRuntime, type TestRuntime } from '../../test/fixtures/test-runtime.js'
import { RECORD_KEY } from './scheduler.js'

const HOOKED = `id: hooked
namespace: hooks.record
triggers:
  - id: hook
    type: kite.trigger.Webhook
    key: record-key
tasks:
  - id: echo
    type: test.fixtures.Echo
    value: "{{ trigger.body }}"
`

const request = (body: unknown) => ({
  namespace: 'hooks.record',
  flowId: 'hooked',
  key: 'record-key',
  body,
  headers: {},
  parameters: {},
})

describe('a webhook firing (the call is accepted when it is answered)', () => {
  let runtime: TestRuntime | undefined
  let reopened: TestRuntime | undefined
  let dataDir: string | undefined
  afterEach(async () => {
    await runtime?.close()
    await reopened?.close()
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
    runtime = undefined
    reopened = undefined
    dataDir = undefined
  })

  it('writes its trigger record a little later, once for many calls, and never before starting', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kite-webhook-record-'))
    runtime = await createTestRuntime({ dataDir })
    const { store, scheduler, engine } = runtime.runtime
    await engine.saveFlow(HOOKED)
    const writes: Array<{ key: string; value: unknown }> = []
    const triggerStateSet = store.triggerStateSet.bind(store)
    store.triggerStateSet = async (namespace, flowId, triggerId, key, value) => {
      if (namespace === 'hooks.record') {
        writes.push({ key, value: structuredClone(value) })
      }
      return triggerStateSet(namespace, flowId, triggerId, key, value)
    }
    const started = []
    for (let call = 0; call < 20; call++) {
      const execution = await scheduler.fireWebhook(request({ call }))
      if (!execution) throw new Error('the webhook started nothing')
      started.push(execution)
    }
    // No record with pending starts was written: the answer (the execution) is the acceptance.
    expect(writes.some(({ value }) => (value as { pending?: unknown }).pending)).toBe(false)
    // Coalesced: 20 firings in well under the window's few rounds write the record a few times.
    const ended = await Promise.all(started.map((execution) => engine.waitFor(execution.id)))
    expect(ended.map((execution) => execution.state.current)).toEqual(Array(20).fill('SUCCESS'))
    expect(ended.map((execution) => execution.taskRunList[0]?.outputs?.value)).toEqual(
      started.map((_, call) => ({ call })),
    )
    expect(writes.length).toBeLessThan(20)
    const last = started.at(-1)?.id
    // Closing writes what is still unwritten; a new process reads it.
    await runtime.close()
    runtime = undefined
    reopened = await createTestRuntime({ dataDir, scheduler: false })
    const record = (await reopened.runtime.store.triggerStateGet(
      'hooks.record',
      'hooked',
      'hook',
      RECORD_KEY,
    )) as { lastExecutionId?: string; lastFired?: string; pending?: unknown }
    expect(record).toMatchObject({ lastExecutionId: last, lastFired: expect.any(String) })
    expect(record.pending).toBeUndefined()
  })

  it('answers a call for an unknown key with nothing and writes no record', async () => {
    runtime = await createTestRuntime()
    await runtime.runtime.engine.saveFlow(HOOKED)
    expect(
      await runtime.runtime.scheduler.fireWebhook({ ...request(null), key: 'wrong' }),
    ).toBeUndefined()
    expect(
      await runtime.runtime.store.triggerStateGet('hooks.record', 'hooked', 'hook', RECORD_KEY),
    ).toBeUndefined()
  })
})

describe('Flow triggers with the trigger index kept between flow saves', () => {
  let runtime: TestRuntime | undefined
  afterEach(async () => {
    await runtime?.close()
    runtime = undefined
  })

  const downstreamOf = async (flowId: string) =>
    (await runtime!.runtime.store.listExecutions({ namespace: 'hooks.chain', flowId }, 1, 100))
      .results

  it('sees a Flow trigger saved after an end was evaluated without one, and forgets a deleted one', async () => {
    runtime = await createTestRuntime()
    const { engine } = runtime.runtime
    const upstream = `id: upstream
namespace: hooks.chain
tasks:
  - id: echo
    type: test.fixtures.Echo
    value: up
`
    // No Flow trigger yet: this end is evaluated (and the index kept) with none.
    expect((await runtime.run(upstream)).state.current).toBe('SUCCESS')
    // Its end is evaluated after it is answered: let that finish before the downstream exists.
    await new Promise((resolve) => setTimeout(resolve, 300))
    await engine.saveFlow(`id: downstream
namespace: hooks.chain
triggers:
  - id: after
    type: kite.trigger.Flow
    preconditions:
      flows:
        - namespace: hooks.chain
          flowId: upstream
          states: [SUCCESS]
tasks:
  - id: echo
    type: test.fixtures.Echo
    value: "{{ trigger.executionId }}"
`)
    const second = await runtime.run(upstream)
    const deadline = Date.now() + 10_000
    while ((await downstreamOf('downstream')).length === 0) {
      if (Date.now() > deadline) throw new Error('the Flow trigger never fired')
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const [fired] = await downstreamOf('downstream')
    const done = await engine.waitFor(fired?.id ?? '')
    expect(done.taskRunList[0]?.outputs?.value).toBe(second.id)
    expect(await engine.deleteFlow('hooks.chain', 'downstream')).toBe(true)
    expect((await runtime.run(upstream)).state.current).toBe('SUCCESS')
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(await downstreamOf('downstream')).toHaveLength(1)
  })
})
