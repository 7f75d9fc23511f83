import { describe, expect, it } from 'vitest'
import { apiCalls, expectRefused, type Json, runOf } from '../../test/fixtures/api-calls.js'
import { echo, flowable, flowYaml, pause, task } from '../../test/fixtures/flows.js'
import { useTestServer } from '../../test/fixtures/test-server.js'

const kite = useTestServer('kite-restart-')

const { api, getJson, post, saveAndRun, waitFor } = apiCalls(kite)

describe('POST /executions/{id}/restart', () => {
  it('runs a failed execution again from its failed task run, keeping the successful ones', async () => {
    // `times: 1`: the first attempt fails, the next one succeeds.
    const failed = await saveAndRun(
      flowYaml('flaky', 'restart.api', [
        task('first', 'test.fixtures.Attempt'),
        flowable('group', 'Sequential', [
          task('flaky', 'test.fixtures.Fail', { times: 1, key: 'flaky-1' }),
        ]),
        echo('after', '{{ outputs.flaky.attempts }}'),
      ]),
    )
    expect(failed.state.current).toBe('FAILED')
    expect(runOf(failed, 'after')).toBeUndefined()
    const first = runOf(failed, 'first')

    const response = await post(`/executions/${failed.id}/restart`)
    expect(response.status).toBe(200)
    const restarted = (await response.json()) as Json
    expect(restarted.id).toBe(failed.id)
    expect(['RUNNING', 'SUCCESS']).toContain(restarted.state.current)

    const done = await waitFor(failed.id)
    expect(done.state.current).toBe('SUCCESS')
    // Same revision, same plugin versions.
    expect(done.flowRevision).toBe(failed.flowRevision)
    expect(done.plugins).toEqual(failed.plugins)
    // The successful task run was kept, not run again.
    const keptFirst = runOf(done, 'first')!
    expect(keptFirst.id).toBe(first.id)
    expect(keptFirst.attempts).toHaveLength(1)
    // The failed one has its failed attempt and the restart's attempt.
    const flaky: Json = runOf(done, 'flaky')!
    expect(flaky.id).toBe(runOf(failed, 'flaky').id)
    expect(flaky.attempts.map((attempt: Json) => attempt.state.current)).toEqual([
      'FAILED',
      'SUCCESS',
    ])
    expect(flaky.state.histories.map((entry: Json) => entry.state)).toEqual([
      'CREATED',
      'RUNNING',
      'FAILED',
      'RUNNING',
      'SUCCESS',
    ])
    expect(runOf(done, 'group')!.state.current).toBe('SUCCESS')
    expect(runOf(done, 'after')!.outputs).toEqual({ value: 2 })
    expect(done.state.histories.map((entry: Json) => entry.state)).toEqual([
      'CREATED',
      'RUNNING',
      'FAILED',
      'RUNNING',
      'SUCCESS',
    ])
    const logs: Json[] = await getJson(`/executions/${failed.id}/logs`)
    expect(logs.map((entry) => entry.message)).toContain('restarted from 2 failed task run(s)')

    // Ended SUCCESS: not restartable any more.
    await expectRefused(await post(`/executions/${failed.id}/restart`), 409, 'it is SUCCESS')
  })

  it('restarts a killed execution, refuses one that runs (409) and an unknown id (404)', async () => {
    const paused = await saveAndRun(
      flowYaml('killed', 'restart.api', [echo('before', 1), pause('wait'), echo('after', 2)]),
    )
    expect(paused.state.current).toBe('PAUSED')
    await expectRefused(await post(`/executions/${paused.id}/restart`), 409, 'cannot be restarted')

    expect((await post(`/executions/${paused.id}/kill`)).status).toBe(202)
    const killed = await waitFor(paused.id)
    expect(killed.state.current).toBe('KILLED')

    expect((await post(`/executions/${paused.id}/restart`)).status).toBe(200)
    const pausedAgain = await kite.server.runtime.engine.waitFor(paused.id, { untilPaused: true })
    expect(pausedAgain.state.current).toBe('PAUSED')
    expect(runOf(pausedAgain, 'before').id).toBe(runOf(killed, 'before').id)
    expect((await post(`/executions/${paused.id}/resume`)).status).toBe(200)
    const done = await waitFor(paused.id)
    expect(done.state.current).toBe('SUCCESS')
    expect(runOf(done, 'after').outputs).toEqual({ value: 2 })
    expect(done.taskRunList.filter((run: Json) => run.taskId === 'wait')).toHaveLength(1)

    await expectRefused(
      await post('/executions/no-such-execution/restart'),
      404,
      'no-such-execution',
    )
    // The server is still up.
    expect((await api('/health')).status).toBe(200)
  })

  it('finishes a restart committed just before the runtime stopped, on its next start', async () => {
    const failed = await saveAndRun(
      flowYaml('durable', 'restart.api', [
        task('flaky', 'test.fixtures.Fail', { times: 1, key: 'durable-1' }),
      ]),
    )
    expect(failed.state.current).toBe('FAILED')
    expect((await post(`/executions/${failed.id}/restart`)).status).toBe(200)
    // Stop at once: whatever the restart did not finish is picked up from the store.
    await kite.restart()
    const done = await waitFor(failed.id)
    expect(done.state.current).toBe('SUCCESS')
    const flaky = done.taskRunList.find((run: Json) => run.taskId === 'flaky')
    expect(flaky?.outputs).toEqual({ attempts: 2 })
    expect(flaky?.attempts.at(-1)?.state.current).toBe('SUCCESS')
  })
})
