import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { echo, flowable, flowYaml, pause, slow } from '../../test/fixtures/flows.js'
import { createTestRuntime, runStates, type TestRuntime } from '../../test/fixtures/test-runtime.js'
import type { Execution } from './execution-model.js'

let t: TestRuntime
beforeEach(async () => {
  t = await createTestRuntime()
})
afterEach(async () => {
  await t.close()
})

/** Each task run's `taskId:STATE`, sorted by task id (parallel runs start in any order). */
const states = (execution: Pick<Execution, 'taskRunList'>) =>
  runStates(execution).split(' ').sort().join(' ')

/** The execution ended `state` with its task runs in `runs`, the flowable's timing out said. */
function expectTimedOut(execution: Execution, state: string, flowable: string, runs: string) {
  expect(execution.state.current).toBe(state)
  expect(states(execution)).toBe(runs)
  expect(t.taskRun(execution, flowable).error).toBe('timed out after PT0.5S')
}

describe('timeout on flowable tasks', () => {
  it('kills the running children of a Sequential and fails it with "timed out after"', async () => {
    const execution = await t.run(
      flowYaml('seq-timeout', 'test.timeout', [
        flowable('group', 'Sequential', [echo('quick', 1), slow('long'), echo('never', 2)], {
          timeout: 'PT0.5S',
          errors: [echo('cleanup', 'cleaned')],
        }),
        echo('after', 3),
      ]),
    )
    expectTimedOut(
      execution,
      'FAILED',
      'group',
      'cleanup:SUCCESS group:FAILED long:KILLED quick:SUCCESS',
    )
    expect(t.taskRun(execution, 'long').attempts.map((attempt) => attempt.state.current)).toEqual([
      'KILLED',
    ])
    expect(await t.logs(execution.id)).toContain(
      'error group: timed out after PT0.5S: its running tasks were killed',
    )
  })

  it('stops a Parallel (running tasks and a Pause inside) and, with allowFailure, goes on', async () => {
    const execution = await t.run(
      flowYaml('par-timeout', 'test.timeout', [
        flowable('fan', 'Parallel', [slow('one'), slow('two'), pause('gate')], {
          timeout: 'PT0.5S',
          allowFailure: true,
        }),
        echo('after', 3),
      ]),
    )
    expectTimedOut(
      execution,
      'WARNING',
      'fan',
      'after:SUCCESS fan:WARNING gate:KILLED one:KILLED two:KILLED',
    )
  })

  it('stops a ForEach after the iteration it was in, and its nested flowables with it', async () => {
    const execution = await t.run(
      flowYaml('each-timeout', 'test.timeout', [
        flowable('each', 'ForEach', [flowable('inner', 'Sequential', [slow('work')])], {
          values: [1, 2, 3],
          timeout: 'PT0.5S',
        }),
      ]),
    )
    expectTimedOut(execution, 'FAILED', 'each', 'each:FAILED inner:KILLED work:KILLED')
  })

  it('changes nothing when the flowable ends in time, and a kill stays a kill', async () => {
    const quick = await t.run(
      flowYaml('in-time', 'test.timeout', [
        flowable('group', 'Sequential', [echo('quick', 1)], { timeout: 'PT1M' }),
      ]),
    )
    expect(quick.state.current).toBe('SUCCESS')
    expect(t.taskRun(quick, 'group').error).toBeUndefined()

    const { engine } = t.runtime
    await engine.saveFlow(
      flowYaml('killed', 'test.timeout', [
        flowable('group', 'Sequential', [slow('long')], { timeout: 'PT1M' }),
      ]),
    )
    const started = await engine.start({ namespace: 'test.timeout', flowId: 'killed' })
    const running = new Promise<void>((resolve) => {
      const stop = engine.subscribe(started.id, async () => {
        const current = await engine.getExecution(started.id)
        if (current?.taskRunList.some((run) => run.taskId === 'long')) {
          stop()
          resolve()
        }
      })
    })
    await running
    await engine.kill(started.id)
    const killed = await engine.waitFor(started.id)
    expect(killed.state.current).toBe('KILLED')
    expect(states(killed)).toBe('group:KILLED long:KILLED')
    expect(killed.taskRunList.find((run) => run.taskId === 'group')?.error).toBeUndefined()
  })
})
