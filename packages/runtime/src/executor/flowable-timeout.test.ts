import { afterEach, describe, expect, it } from 'vitest'
import { createTestRuntime, type TestRuntime } from '../../test/fixtures/test-runtime.js'

let t: TestRuntime | undefined
afterEach(async () => {
  await t?.close()
  t = undefined
})

const states = (execution: { taskRunList: { taskId: string; state: { current: string } }[] }) =>
  Object.fromEntries(execution.taskRunList.map((run) => [run.taskId, run.state.current]))

describe('timeout on flowable tasks', () => {
  it('kills the running children of a Sequential and fails it with "timed out after"', async () => {
    t = await createTestRuntime()
    const execution = await t.run(`
id: seq-timeout
namespace: test.timeout
tasks:
  - id: group
    type: kite.flow.Sequential
    timeout: PT0.5S
    tasks:
      - id: quick
        type: test.fixtures.Echo
        value: 1
      - id: long
        type: test.fixtures.Slow
        ms: 60000
      - id: never
        type: test.fixtures.Echo
        value: 2
    errors:
      - id: cleanup
        type: test.fixtures.Echo
        value: cleaned
  - id: after
    type: test.fixtures.Echo
    value: 3
`)
    expect(execution.state.current).toBe('FAILED')
    expect(states(execution)).toEqual({
      group: 'FAILED',
      quick: 'SUCCESS',
      long: 'KILLED',
      cleanup: 'SUCCESS',
    })
    const group = t.taskRun(execution, 'group')
    expect(group.error).toBe('timed out after PT0.5S')
    expect(t.taskRun(execution, 'long').attempts.map((attempt) => attempt.state.current)).toEqual([
      'KILLED',
    ])
    expect(await t.logs(execution.id)).toContain(
      'error group: timed out after PT0.5S: its running tasks were killed',
    )
  })

  it('stops a Parallel (running tasks and a Pause inside) and, with allowFailure, goes on', async () => {
    t = await createTestRuntime()
    const execution = await t.run(`
id: par-timeout
namespace: test.timeout
tasks:
  - id: fan
    type: kite.flow.Parallel
    timeout: PT0.5S
    allowFailure: true
    tasks:
      - id: one
        type: test.fixtures.Slow
        ms: 60000
      - id: two
        type: test.fixtures.Slow
        ms: 60000
      - id: gate
        type: kite.flow.Pause
  - id: after
    type: test.fixtures.Echo
    value: 3
`)
    expect(execution.state.current).toBe('WARNING')
    expect(states(execution)).toEqual({
      fan: 'WARNING',
      one: 'KILLED',
      two: 'KILLED',
      gate: 'KILLED',
      after: 'SUCCESS',
    })
    expect(t.taskRun(execution, 'fan').error).toBe('timed out after PT0.5S')
  })

  it('stops a ForEach after the iteration it was in, and its nested flowables with it', async () => {
    t = await createTestRuntime()
    const execution = await t.run(`
id: each-timeout
namespace: test.timeout
tasks:
  - id: each
    type: kite.flow.ForEach
    values: [1, 2, 3]
    timeout: PT0.5S
    tasks:
      - id: inner
        type: kite.flow.Sequential
        tasks:
          - id: work
            type: test.fixtures.Slow
            ms: 60000
`)
    expect(execution.state.current).toBe('FAILED')
    expect(execution.taskRunList.map((run) => [run.taskId, run.state.current])).toEqual([
      ['each', 'FAILED'],
      ['inner', 'KILLED'],
      ['work', 'KILLED'],
    ])
    expect(t.taskRun(execution, 'each').error).toBe('timed out after PT0.5S')
  })

  it('changes nothing when the flowable ends in time, and a kill stays a kill', async () => {
    t = await createTestRuntime()
    const quick = await t.run(`
id: in-time
namespace: test.timeout
tasks:
  - id: group
    type: kite.flow.Sequential
    timeout: PT1M
    tasks:
      - id: quick
        type: test.fixtures.Echo
        value: 1
`)
    expect(quick.state.current).toBe('SUCCESS')
    expect(t.taskRun(quick, 'group').error).toBeUndefined()

    const { engine } = t.runtime
    await engine.saveFlow(`
id: killed
namespace: test.timeout
tasks:
  - id: group
    type: kite.flow.Sequential
    timeout: PT1M
    tasks:
      - id: long
        type: test.fixtures.Slow
        ms: 60000
`)
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
    expect(states(killed)).toEqual({ group: 'KILLED', long: 'KILLED' })
    expect(killed.taskRunList.find((run) => run.taskId === 'group')?.error).toBeUndefined()
  })
})
