import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { fixturePlugins } from '../../../test/fixtures/plugins.js'
import {
  type TestRuntime,
  useRestartableRuntimes,
  waitUntil,
} from '../../../test/fixtures/test-runtime.js'
import type { Execution } from '../execution-model.js'

// The real core plugin (its built dist), instead of the fixtures' stand-in for kite.core.
const CORE = join(import.meta.dirname, '../../../../plugins/core')

const { start, stop } = useRestartableRuntimes('kite-sleep-', {
  plugins: fixturePlugins().filter((plugin) => plugin.name !== '@kite/plugin-core'),
  pluginDirs: [CORE],
})

const sleepFlow = (duration: string, extra = '') => `
id: napper
namespace: test.sleep
tasks:
  - id: nap
    type: kite.core.flow.Sleep
    duration: ${duration}
${extra}
  - id: after
    type: test.fixtures.Echo
    value: awake
`

/** The flow with its duration from the input `wait`, whose default is `wait`. */
const sleepFromInput = (wait: string) =>
  sleepFlow('"{{ inputs.wait }}"').replace(
    'tasks:',
    `inputs:\n  - id: wait\n    type: STRING\n    defaults: ${wait}\ntasks:`,
  )

/** Starts the flow and returns once the sleep's task run is committed with its wake-up time. */
async function startSleeping(t: TestRuntime, flow: string): Promise<Execution> {
  const saved = await t.runtime.engine.saveFlow(flow)
  const started = await t.runtime.engine.start({
    namespace: saved.flow.namespace,
    flowId: saved.flow.id,
  })
  let sleeping: Execution | undefined
  await waitUntil(async () => {
    sleeping = await t.runtime.store.getExecution(started.id)
    return sleeping?.taskRunList.some((run) => run.wakeAt !== undefined) === true
  })
  return sleeping!
}

const nap = (execution: Execution) => execution.taskRunList.find((run) => run.taskId === 'nap')!

describe('kite.core.flow.Sleep, waited for by the executor', () => {
  it('succeeds at its wake-up time without a queue entry, a worker slot or a thread', async () => {
    // One worker slot: a Sleep holding it would keep the Echo beside it waiting for 1 s.
    const t = await start({ worker: { slots: 1 } })
    const sleeping = await startSleeping(
      t,
      `
id: side-by-side
namespace: test.sleep
tasks:
  - id: both
    type: kite.flow.Parallel
    tasks:
      - id: nap
        type: kite.core.flow.Sleep
        duration: PT1S
      - id: echo
        type: test.fixtures.Echo
        value: 1
`,
    )
    const waiting = nap(sleeping)
    expect(waiting.state.current).toBe('RUNNING')
    expect(await t.runtime.store.getQueueEntries([`${waiting.id}:1`])).toEqual([])
    const done = await t.runtime.engine.waitFor(sleeping.id)
    expect(done.state.current).toBe('SUCCESS')
    const run = nap(done)
    const attempt = run.attempts[0]!
    expect(run.attempts.map((one) => one.state.current)).toEqual(['SUCCESS'])
    expect(Date.parse(run.wakeAt!) - Date.parse(attempt.state.startDate)).toBe(1000)
    expect(Date.parse(run.state.endDate!)).toBeGreaterThanOrEqual(Date.parse(run.wakeAt!))
    expect(run.outputs).toEqual({})
    const echo = t.taskRun(done, 'echo')
    expect(Date.parse(echo.state.endDate!)).toBeLessThan(Date.parse(run.wakeAt!))
    // The core plugin comes from its directory: a call of it would start a worker thread.
    const host = t.runtime.host as { usage?: () => { peakThreads: number } }
    expect(host.usage).toBeTypeOf('function')
    expect(host.usage?.().peakThreads).toBe(0)
    expect(await t.logs(done.id)).toContain('debug nap: sleeping for PT1S')
  })

  it('renders its duration from an expression, and the next task runs after it', async () => {
    const t = await start()
    const execution = await t.run(sleepFromInput('PT0.2S'))
    expect(execution.state.current).toBe('SUCCESS')
    const run = nap(execution)
    // From its attempt's start (the task run starts a moment earlier: two clock reads).
    const attempt = run.attempts[0]!
    expect(Date.parse(run.wakeAt!) - Date.parse(attempt.state.startDate)).toBe(200)
    expect(Date.parse(t.taskRun(execution, 'after').state.startDate)).toBeGreaterThanOrEqual(
      Date.parse(run.wakeAt!),
    )
  })

  it('ends KILLED at once when the execution is killed', async () => {
    const t = await start()
    const sleeping = await startSleeping(t, sleepFlow('PT60S'))
    const begun = Date.now()
    await t.runtime.engine.kill(sleeping.id)
    const done = await t.runtime.engine.waitFor(sleeping.id)
    expect(Date.now() - begun).toBeLessThan(5000)
    expect(done.state.current).toBe('KILLED')
    expect(nap(done).state.current).toBe('KILLED')
    expect(nap(done).attempts.map((one) => one.state.current)).toEqual(['KILLED'])
    expect(done.taskRunList.map((run) => run.taskId)).toEqual(['nap'])
  })

  it("fails at the task's timeout with the plugin call's message; allowFailure goes on", async () => {
    const t = await start()
    const failed = await t.run(sleepFlow('PT60S', '    timeout: PT0.3S'))
    expect(failed.state.current).toBe('FAILED')
    const run = nap(failed)
    expect(run.state.current).toBe('FAILED')
    expect(run.error).toMatch(/^task "nap" \(@kite\/plugin-core@[\d.]+\): timed out after 300 ms$/)
    expect(run.attempts.map((one) => [one.state.current, one.error])).toEqual([
      ['FAILED', run.error],
    ])
    expect(run.state.duration).toBeLessThan(5000)
    const warned = await t.run(
      sleepFlow('PT60S', '    timeout: PT0.2S\n    allowFailure: true').replace(
        'id: napper',
        'id: napper-allowed',
      ),
    )
    expect(warned.state.current).toBe('WARNING')
    expect(nap(warned).state.current).toBe('WARNING')
    expect(t.taskRun(warned, 'after').outputs).toEqual({ value: 'awake' })
  })

  it('is killed by the timeout of a flowable around it, which fails with its own message', async () => {
    const t = await start()
    const execution = await t.run(`
id: grouped
namespace: test.sleep
tasks:
  - id: group
    type: kite.flow.Sequential
    timeout: PT0.3S
    tasks:
      - id: nap
        type: kite.core.flow.Sleep
        duration: PT60S
`)
    expect(execution.state.current).toBe('FAILED')
    expect(t.taskRun(execution, 'group').error).toBe('timed out after PT0.3S')
    expect(nap(execution).state.current).toBe('KILLED')
    expect(nap(execution).attempts.map((one) => one.state.current)).toEqual(['KILLED'])
  })

  it('refuses a flow whose literal duration is not ISO-8601 when it is saved', async () => {
    const t = await start()
    for (const duration of ['10 seconds', 'P1M', 'PT']) {
      await expect(t.runtime.engine.saveFlow(sleepFlow(`"${duration}"`))).rejects.toMatchObject({
        code: 'FLOW_INVALID',
        message: expect.stringContaining(
          'duration: must be an ISO-8601 duration such as PT30S, PT5M or PT1H',
        ),
      })
    }
    expect(await t.runtime.engine.getFlow('test.sleep', 'napper')).toBeUndefined()
    // A duration given by an expression is checked when it runs (below).
    await t.runtime.engine.saveFlow(sleepFlow('"PT{{ 1 + 1 }}S"'))
  })

  it('fails with a clear message when a rendered duration is not ISO-8601', async () => {
    const t = await start()
    const execution = await t.run(sleepFromInput('10 seconds'))
    expect(execution.state.current).toBe('FAILED')
    expect(nap(execution).error).toBe(
      'task "nap" (kite.core.flow.Sleep): invalid properties:\n- duration: must be an ISO-8601 duration such as PT30S, PT5M or PT1H',
    )
    expect(nap(execution).wakeAt).toBeUndefined()
  })

  it('resumes its wait after a restart: wakes at the recorded time, no attempt lost', async () => {
    const before = await start()
    const sleeping = await startSleeping(before, sleepFlow('PT1.5S'))
    const wakeAt = nap(sleeping).wakeAt!
    await stop(before)
    const after = await start()
    const done = await after.runtime.engine.waitFor(sleeping.id)
    expect(done.state.current).toBe('SUCCESS')
    const run = nap(done)
    expect(run.wakeAt).toBe(wakeAt)
    expect(run.attempts.map((one) => one.state.current)).toEqual(['SUCCESS'])
    expect(run.attempts[0]).not.toHaveProperty('workerLost')
    expect((await after.logs(done.id)).join('\n')).not.toContain('worker lost')
    expect(Date.parse(run.state.endDate!)).toBeGreaterThanOrEqual(Date.parse(wakeAt))
    expect(after.taskRun(done, 'after').outputs).toEqual({ value: 'awake' })
  })

  it('wakes at once after a restart that comes after its wake-up time', async () => {
    const before = await start()
    const sleeping = await startSleeping(before, sleepFlow('PT0.3S'))
    await stop(before)
    await new Promise((resolve) => setTimeout(resolve, 500))
    const after = await start()
    const restarted = Date.now()
    const done = await after.runtime.engine.waitFor(sleeping.id)
    expect(done.state.current).toBe('SUCCESS')
    expect(Date.now() - restarted).toBeLessThan(3000)
    expect(nap(done).attempts.map((one) => one.state.current)).toEqual(['SUCCESS'])
  })

  it('sleeps its whole duration again when a killed execution is restarted', async () => {
    const t = await start()
    const sleeping = await startSleeping(t, sleepFlow('PT1S'))
    await t.runtime.engine.kill(sleeping.id)
    expect((await t.runtime.engine.waitFor(sleeping.id)).state.current).toBe('KILLED')
    const restartedAt = Date.now()
    await t.runtime.engine.restart(sleeping.id)
    const done = await t.runtime.engine.waitFor(sleeping.id)
    expect(done.state.current).toBe('SUCCESS')
    const run = nap(done)
    expect(run.attempts.map((one) => one.state.current)).toEqual(['KILLED', 'SUCCESS'])
    expect(Date.parse(run.wakeAt!)).toBeGreaterThanOrEqual(restartedAt + 1000 - 50)
    expect(Date.parse(run.state.endDate!)).toBeGreaterThanOrEqual(Date.parse(run.wakeAt!))
    expect(t.taskRun(done, 'after').outputs).toEqual({ value: 'awake' })
    expect(await t.logs(done.id)).toContain('info nap: restarted: attempt 2')
  })

  it('stays KILLED when the runtime stopped while the kill was under way', async () => {
    const before = await start()
    const sleeping = await startSleeping(before, sleepFlow('PT60S'))
    await stop(before)
    // The stop came between the KILLING commit and the end: the restart finishes the kill.
    const killing = { ...sleeping, state: { ...sleeping.state, current: 'KILLING' as const } }
    const { taskRunList: _runs, ...summary } = killing
    const direct = await start()
    await direct.runtime.store.commit({ execution: summary })
    await stop(direct)
    const after = await start()
    const done = await after.runtime.engine.waitFor(sleeping.id)
    expect(done.state.current).toBe('KILLED')
    expect(nap(done).attempts.map((one) => one.state.current)).toEqual(['KILLED'])
  })
})
