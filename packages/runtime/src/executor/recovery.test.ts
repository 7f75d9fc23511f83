import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  createTestRuntime,
  startParentOfPausedChild,
  type TestRuntime,
  useRestartableRuntimes,
  waitUntil,
} from '../../test/fixtures/test-runtime.js'
import { createSqliteStore } from '../storage/sqlite-store.js'

const runtimes = useRestartableRuntimes('kite-recovery-')
const { start, stop } = runtimes

/** Saves and starts the flow on `t`; answers the execution id once task `taskId` has a run. */
async function startUntilTask(t: TestRuntime, source: string, taskId: string): Promise<string> {
  const { flow } = await t.runtime.engine.saveFlow(source)
  const started = await t.runtime.engine.start({ namespace: flow.namespace, flowId: flow.id })
  const hasRun = async () =>
    (await t.runtime.engine.getExecution(started.id))?.taskRunList.some(
      (run) => run.taskId === taskId,
    ) === true
  await waitUntil(hasRun)
  return started.id
}

/**
 * Stops `t` and writes the execution back as KILLING (its state when the stop came), straight
 * into the store: a runtime would recover its attempts before the commit. As if the stop came
 * between the KILLING commit and the end of the kill.
 */
async function stopAfterKillingCommit(t: TestRuntime, executionId: string): Promise<void> {
  const running = await t.runtime.engine.getExecution(executionId)
  if (!running) throw new Error(`no execution ${executionId}`)
  await stop(t)
  const { taskRunList: _runs, ...summary } = running
  const store = await createSqliteStore({ file: join(runtimes.dataDir, 'kite.db') })
  await store.commit({
    execution: { ...summary, state: { ...summary.state, current: 'KILLING' } },
  })
  await store.close()
}

const flow = (retry: string) => `
id: survivor
namespace: test.recovery
tasks:
  - id: first
    type: test.fixtures.Echo
    value: before
  - id: slow
    type: test.fixtures.Slow
    ms: 300
${retry}
  - id: last
    type: test.fixtures.Echo
    value: "{{ outputs.first.value }} and after"
`

describe('resuming after a stop', () => {
  it('retries a task whose worker was lost when its policy allows, keeping finished task runs', async () => {
    const before = await start()
    const id = await startUntilTask(
      before,
      flow('    retry: { type: constant, interval: PT0.01S, maxAttempts: 2 }'),
      'slow',
    )
    await stop(before)
    const stored = await (await start()).runtime.engine.waitFor(id)
    expect(stored.state.current).toBe('SUCCESS')
    const slow = stored.taskRunList.find((run) => run.taskId === 'slow')!
    expect(slow.attempts.map((attempt) => attempt.state.current)).toEqual(['FAILED', 'SUCCESS'])
    expect(slow.attempts[0]?.error).toContain('worker lost')
    expect(stored.taskRunList.filter((run) => run.taskId === 'first')).toHaveLength(1)
    expect(stored.taskRunList.find((run) => run.taskId === 'last')?.outputs).toEqual({
      value: 'before and after',
    })
  })

  it('resubmits a lost task without a retry policy: the lost attempt is recorded, the key stays', async () => {
    const before = await start()
    const id = await startUntilTask(
      before,
      `
id: resubmitted
namespace: test.recovery
tasks:
  - id: once
    type: test.fixtures.Attempt
    ms: 400
`,
      'once',
    )
    const lostOn = (await before.runtime.engine.getExecution(id))!.taskRunList[0]!.attempts[0]!
      .worker
    await stop(before)
    const after = await start()
    const done = await after.runtime.engine.waitFor(id)
    expect(done.state.current).toBe('SUCCESS')
    const once = after.taskRun(done, 'once')
    expect(once.state.current).toBe('SUCCESS')
    expect(once.attempts.map((attempt) => attempt.state.current)).toEqual(['FAILED', 'SUCCESS'])
    expect(once.attempts[0]).toMatchObject({ workerLost: true, worker: lostOn })
    expect(once.attempts[0]?.error).toContain('worker lost')
    expect(once.attempts[1]?.worker).not.toBe(lostOn)
    expect(once.attempts[1]?.workerLost).toBeUndefined()
    expect(once.outputs).toEqual({
      taskRunId: once.id,
      attempt: 2,
      idempotencyKey: `${done.id}:${once.id}`,
    })
    const logs = (await after.logs(done.id)).join('\n')
    expect(logs).toContain('worker lost')
    expect(logs).toContain('resubmitting after a lost worker (attempt 2)')
  })

  it('fails a task run lost more often than worker.maxResubmissions allows', async () => {
    const config = { worker: { maxResubmissions: 1 } }
    const source = `
id: unlucky
namespace: test.recovery
tasks:
  - id: slow
    type: test.fixtures.Slow
    ms: 5000
`
    const first = await start(config)
    await first.runtime.engine.saveFlow(source)
    const started = await first.runtime.engine.start({
      namespace: 'test.recovery',
      flowId: 'unlucky',
    })
    const attempts = async (t: TestRuntime) =>
      (await t.runtime.engine.getExecution(started.id))?.taskRunList[0]?.attempts.length ?? 0
    await waitUntil(async () => (await attempts(first)) === 1)
    await stop(first)
    const second = await start(config)
    await waitUntil(async () => (await attempts(second)) === 2)
    await stop(second)
    const third = await start(config)
    const done = await third.runtime.engine.waitFor(started.id)
    expect(done.state.current).toBe('FAILED')
    const slow = third.taskRun(done, 'slow')
    expect(slow.attempts.map((attempt) => attempt.workerLost)).toEqual([true, true])
    expect(slow.error).toBe(
      'worker lost: the runtime stopped while this attempt was running (lost 2 times; worker.maxResubmissions is 1)',
    )
  })

  it('ends every task run KILLED when the runtime stopped while a kill was under way', async () => {
    const before = await start()
    await before.runtime.engine.saveFlow(`
id: killing
namespace: test.recovery
tasks:
  - id: group
    type: kite.flow.Sequential
    tasks:
      - id: slow
        type: test.fixtures.Slow
        ms: 5000
  - id: last
    type: test.fixtures.Echo
    value: never
`)
    const started = await before.runtime.engine.start({
      namespace: 'test.recovery',
      flowId: 'killing',
    })
    const slowRun = async (t: TestRuntime) =>
      (await t.runtime.engine.getExecution(started.id))?.taskRunList.find(
        (run) => run.taskId === 'slow',
      )
    await waitUntil(async () => (await slowRun(before))?.attempts[0]?.state.current === 'RUNNING')
    // The stop came between the KILLING commit and the end: the restart finishes the kill.
    await stopAfterKillingCommit(before, started.id)
    const after = await start()
    const done = await after.runtime.engine.waitFor(started.id)
    expect(done.state.current).toBe('KILLED')
    const slow = after.taskRun(done, 'slow')
    expect(slow.state.current).toBe('KILLED')
    expect(slow.state.endDate).toBeDefined()
    expect(slow.attempts.map((attempt) => attempt.state.current)).toEqual(['KILLED'])
    expect(after.taskRun(done, 'group').state.current).toBe('KILLED')
    expect(done.taskRunList.map((run) => run.taskId).sort()).toEqual(['group', 'slow'])
    expect(await after.runtime.store.getQueueEntries([`${slow.id}:1`])).toEqual([])
  })

  it('stops while an execution waits for its subflow child; waiters hear of the stop; the restart goes on', async () => {
    const before = await start()
    const { parentId, childId } = await startParentOfPausedChild(before.runtime, 'test.recovery', {
      parent: 'waiting-parent',
      child: 'paused-child',
    })
    const heard = before.runtime.engine.waitFor(parentId).then(
      (execution) => execution.state.current,
      (error: Error) => error.message,
    )
    // Before the fix, close() waited for ever for the parent's runner.
    await stop(before)
    expect(await heard).toBe('the runtime is shutting down')
    const after = await start()
    await after.runtime.engine.waitFor(childId, { untilPaused: true })
    await after.runtime.engine.resume(childId)
    const done = await after.runtime.engine.waitFor(parentId)
    expect(done.state.current).toBe('SUCCESS')
    expect(after.taskRun(done, 'call').outputs).toMatchObject({ state: 'SUCCESS' })
  })

  it('kills the running subflow child of an execution found KILLING after a restart', async () => {
    const before = await start()
    const { parentId, childId } = await startParentOfPausedChild(before.runtime, 'test.recovery', {
      parent: 'killing-parent',
      child: 'held-child',
    })
    // The stop came after the parent's KILLING commit, before the kill reached its child.
    await stopAfterKillingCommit(before, parentId)
    const after = await start()
    const done = await after.runtime.engine.waitFor(parentId)
    expect(done.state.current).toBe('KILLED')
    expect(after.taskRun(done, 'call').state.current).toBe('KILLED')
    // Before the fix the child stayed PAUSED for ever.
    await waitUntil(
      async () => (await after.runtime.engine.getExecution(childId))?.state.current === 'KILLED',
    )
    const child = (await after.runtime.engine.getExecution(childId))!
    expect(after.taskRun(child, 'wait').state.current).toBe('KILLED')
  })

  it('keeps a paused execution paused across a restart, and resumes it on request', async () => {
    const before = await start()
    const paused = await before.run(
      `
id: paused
namespace: test.recovery
tasks:
  - id: wait
    type: kite.flow.Pause
  - id: after
    type: test.fixtures.Echo
    value: done
`,
      {},
      { untilPaused: true },
    )
    await stop(before)
    const after = await start()
    expect(
      (await after.runtime.engine.waitFor(paused.id, { untilPaused: true })).state.current,
    ).toBe('PAUSED')
    await after.runtime.engine.resume(paused.id)
    const done = await after.runtime.engine.waitFor(paused.id)
    expect(done.state.current).toBe('SUCCESS')
    expect(done.taskRunList.filter((run) => run.taskId === 'wait')).toHaveLength(1)
  })

  it('resumes a ForEach without repeating finished iterations', async () => {
    const before = await start()
    await before.runtime.engine.saveFlow(`
id: loop
namespace: test.recovery
tasks:
  - id: each
    type: kite.flow.ForEach
    values: [10, 10, 400, 10]
    tasks:
      - id: nap
        type: test.fixtures.Slow
        ms: "{{ taskrun.value }}"
        retry: { type: constant, interval: PT0.01S, maxAttempts: 2 }
`)
    const started = await before.runtime.engine.start({
      namespace: 'test.recovery',
      flowId: 'loop',
    })
    await waitUntil(
      async () =>
        ((await before.runtime.engine.getExecution(started.id))?.taskRunList.filter(
          (run) => run.taskId === 'nap',
        ).length ?? 0) === 3,
    )
    await stop(before)
    const done = await (await start()).runtime.engine.waitFor(started.id)
    expect(done.state.current).toBe('SUCCESS')
    const naps = done.taskRunList.filter((run) => run.taskId === 'nap')
    expect(naps.map((run) => run.iteration)).toEqual([0, 1, 2, 3])
    expect(naps.map((run) => run.attempts.length)).toEqual([1, 1, 2, 1])
  })
})

describe('the data directory lock', () => {
  it('refuses a second runtime on the same directory, and takes over a dead process lock', async () => {
    const first = await start()
    await expect(createTestRuntime({ dataDir: runtimes.dataDir })).rejects.toThrow(
      `the data directory ${runtimes.dataDir} is in use by process ${process.pid} (this one); one runtime per data directory`,
    )
    await stop(first)
    const { writeFile } = await import('node:fs/promises')
    await writeFile(join(runtimes.dataDir, 'runtime.lock'), '999999999')
    const second = await start()
    expect(second.runtime.dataDir).toBe(runtimes.dataDir)
  })
})
