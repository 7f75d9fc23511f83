import { definePlugin, defineTask, z } from '@kite/sdk'
import { describe, expect, it } from 'vitest'
import { apiCalls, expectRefused, type Json, runOf } from '../../test/fixtures/api-calls.js'
import { echo, flowable, flowYaml, pause, task } from '../../test/fixtures/flows.js'
import { useTestServer } from '../../test/fixtures/test-server.js'
import { definePluginVersion } from '../plugins/plugin-sources.js'

const kite = useTestServer('kite-replay-')

const { api, getJson, save, saveAndRun, waitFor } = apiCalls(kite)
const replay = (id: string, body?: unknown, contentType = 'application/json') =>
  api(`/executions/${id}/replay`, {
    method: 'POST',
    ...(body === undefined
      ? {}
      : {
          headers: { 'content-type': contentType },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        }),
  })
const helloVersion = (version: string) =>
  definePluginVersion({
    name: '@test/kite-plugin-versioned',
    version,
    plugin: definePlugin({
      group: 'test.versioned',
      title: 'Versioned',
      tasks: [
        defineTask({
          name: 'Hello',
          properties: z.object({ name: z.string().default('world') }),
          outputs: z.object({ message: z.string(), version: z.string() }),
          run: (props) => ({ message: `Hello, ${props.name}!`, version }),
        }),
      ],
    }),
  })

describe('POST /executions/{id}/replay', () => {
  it('runs a new execution from a task run inside a flowable, with the outputs before it', async () => {
    const failed = await saveAndRun(
      flowYaml(
        'chain',
        'replay.api',
        [
          task('first', 'test.fixtures.Add', { a: '{{ inputs.n }}' }),
          flowable('group', 'Sequential', [
            task('before', 'test.fixtures.Attempt'),
            task('target', 'test.fixtures.Fail', { times: 1, key: 'replay-target' }),
          ]),
          echo('after', '{{ outputs.first.sum }}-{{ outputs.target.attempts }}'),
        ],
        { inputs: [{ id: 'n', type: 'INT' }] },
      ),
      { n: 41 },
    )
    expect(failed.state.current).toBe('FAILED')
    const target = runOf(failed, 'target')

    const response = await replay(failed.id, { taskRunId: target.id })
    expect(response.status).toBe(200)
    const started = (await response.json()) as Json
    expect(started.id).not.toBe(failed.id)
    expect(started.replayOf).toEqual({
      executionId: failed.id,
      taskRunId: target.id,
      keepPlugins: false,
    })
    expect(started.plugins.map((plugin: Json) => plugin.type).sort()).toEqual(
      failed.plugins.map((plugin: Json) => plugin.type).sort(),
    )

    const done = await waitFor(started.id)
    expect(done.state.current).toBe('SUCCESS')
    expect(done.inputs).toEqual({ n: 41 })
    expect(done.replayOf.executionId).toBe(failed.id)
    // The task runs before the target were copied (new ids, same outputs, not run again).
    const first = runOf(done, 'first')
    expect(first.id).not.toBe(runOf(failed, 'first').id)
    expect(first.executionId).toBe(done.id)
    expect(first.outputs).toEqual({ sum: 42 })
    expect(first.attempts).toHaveLength(1)
    const group = runOf(done, 'group')
    expect(group.state.current).toBe('SUCCESS')
    expect(runOf(done, 'before').parentTaskRunId).toBe(group.id)
    expect(runOf(done, 'before').outputs).toEqual(runOf(failed, 'before').outputs)
    // The target ran anew in the replay: one attempt, the second call of the fixture.
    const replayed = runOf(done, 'target')
    expect(replayed.id).not.toBe(target.id)
    expect(replayed.parentTaskRunId).toBe(group.id)
    expect(replayed.attempts).toHaveLength(1)
    expect(replayed.outputs).toEqual({ attempts: 2 })
    expect(runOf(done, 'after').outputs).toEqual({ value: '42-2' })
    expect(done.taskRunList.filter((run: Json) => run.taskId === 'target')).toHaveLength(1)

    // The original is untouched.
    const original = await getJson(`/executions/${failed.id}`)
    expect(original.state.current).toBe('FAILED')
    expect(original.taskRunList).toHaveLength(failed.taskRunList.length)
    const logs: Json[] = await getJson(`/executions/${done.id}/logs`)
    expect(logs.map((entry) => entry.message)).toContain(
      `replay of execution ${failed.id} from task "target" (task run ${target.id}), with plugin versions resolved again`,
    )
  })

  it('replays the whole flow without a body, and lists replays like any execution', async () => {
    const ended = await saveAndRun(
      flowYaml('whole', 'replay.api', [task('one', 'test.fixtures.Attempt')]),
    )
    expect(ended.state.current).toBe('SUCCESS')
    const response = await replay(ended.id)
    expect(response.status).toBe(200)
    const started = (await response.json()) as Json
    expect(started.replayOf).toEqual({ executionId: ended.id, keepPlugins: false })
    const done = await waitFor(started.id)
    expect(done.state.current).toBe('SUCCESS')
    expect(runOf(done, 'one').id).not.toBe(runOf(ended, 'one').id)
    const page = await getJson('/executions?namespace=replay.api&flowId=whole')
    expect(page.results.map((execution: Json) => execution.id)).toEqual([done.id, ended.id])
    expect(page.results[0].replayOf.executionId).toBe(ended.id)
  })

  it('resolves plugin versions again unless keepPlugins keeps the original lock', async () => {
    const ended = await saveAndRun(
      flowYaml('versions', 'replay.api', [
        task('hello', 'test.versioned.Hello', { version: 'LATEST', name: 'replay' }),
      ]),
    )
    expect(runOf(ended, 'hello').outputs.version).toBe('2.0.0')
    kite.server.runtime.catalog.add(helloVersion('2.5.0'))
    try {
      const again = (await (await replay(ended.id, {})).json()) as Json
      expect(again.plugins.find((plugin: Json) => plugin.taskIds.includes('hello')).version).toBe(
        '2.5.0',
      )
      const resolved = await waitFor(again.id)
      expect(runOf(resolved, 'hello').outputs.version).toBe('2.5.0')

      const kept = (await (await replay(ended.id, { keepPlugins: true })).json()) as Json
      expect(kept.replayOf.keepPlugins).toBe(true)
      expect(kept.plugins).toEqual(ended.plugins)
      const locked = await waitFor(kept.id)
      expect(runOf(locked, 'hello').outputs.version).toBe('2.0.0')
    } finally {
      kite.server.runtime.catalog.remove('@test/kite-plugin-versioned', '2.5.0')
    }
  })

  it('runs another revision when asked', async () => {
    const revised = (value: string) => flowYaml('revised', 'replay.api', [echo('say', value)])
    const ended = await saveAndRun(revised('one'))
    await save(revised('two'), 'replay.api/revised')
    const same = (await (await replay(ended.id)).json()) as Json
    const latest = (await (
      await replay(ended.id, { revision: ended.flowRevision + 1 })
    ).json()) as Json
    expect(same.flowRevision).toBe(ended.flowRevision)
    expect(latest.flowRevision).toBe(ended.flowRevision + 1)
    expect(runOf(await waitFor(same.id), 'say').outputs).toEqual({ value: 'one' })
    expect(runOf(await waitFor(latest.id), 'say').outputs).toEqual({ value: 'two' })
    await expectRefused(await replay(ended.id, { revision: 99 }), 404, 'revision 99 is gone')
  })

  it('refuses an execution that has not ended (409), unknown ids (404) and bad bodies (400/415)', async () => {
    const paused = await saveAndRun(flowYaml('paused', 'replay.api', [pause('wait')]))
    expect(paused.state.current).toBe('PAUSED')
    await expectRefused(
      await replay(paused.id),
      409,
      `execution ${paused.id} cannot be replayed: it is PAUSED`,
    )
    expect((await api(`/executions/${paused.id}/kill`, { method: 'POST' })).status).toBe(202)
    await waitFor(paused.id)

    const unknownRun = await replay(paused.id, { taskRunId: 'no-such-run' })
    await expectRefused(unknownRun, 404, 'has no task run "no-such-run"')
    await expectRefused(await replay('no-such-execution'), 404, 'no-such-execution')

    for (const body of [
      '{"taskRunId": 3}',
      '{"keepPlugins": "yes"}',
      '{"revision": 0}',
      '{"other": 1}',
      '[1]',
      '{not json',
    ]) {
      const bad = await replay(paused.id, body)
      expect(bad.status, body).toBe(400)
      expect(((await bad.json()) as Json).code).toBe('REQUEST_INVALID')
    }
    const text = await replay(paused.id, 'taskRunId=x', 'text/plain')
    expect([400, 415]).toContain(text.status)
    // Nothing was created by the refused requests, and the server is still up.
    const page = await getJson('/executions?namespace=replay.api&flowId=paused')
    expect(page.total ?? page.results.length).toBe(1)
    expect((await api('/health')).status).toBe(200)
  })
})
