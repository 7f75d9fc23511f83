import { join, resolve } from 'node:path'
import { definePlugin, defineTrigger, z } from '@kite/sdk'
import { describe, expect, it } from 'vitest'
import { echo, flowYaml, task } from '../../test/fixtures/flows.js'
import { fixturesPlugin } from '../../test/fixtures/plugins.js'
import { inTempDir } from '../../test/fixtures/temp-dir.js'
import { useTestServer } from '../../test/fixtures/test-server.js'
import type { ExecutionSummary } from '../executor/execution-model.js'
import { createId } from '../ids.js'
import { definePluginVersion } from '../plugins/plugin-sources.js'
import { createRuntime, type Runtime } from '../runtime.js'
import { RECORD_KEY } from './scheduler.js'

const root = resolve(import.meta.dirname, '../../../..')
const CORE = join(root, 'packages/plugins/core')
const GREETING = join(root, 'examples/plugins/greeting')
const GREETING_V2 = join(root, 'examples/plugins/greeting/v2')

// A polling trigger that fails its first poll and counts how many polls overlap.
let active = 0
let mostAtOnce = 0
let polls = 0
const flaky = defineTrigger({
  name: 'Flaky',
  interval: 'PT0.3S',
  properties: z.object({}),
  outputs: z.object({ poll: z.number() }),
  async poll() {
    polls += 1
    const poll = polls
    active += 1
    mostAtOnce = Math.max(mostAtOnce, active)
    try {
      await new Promise((done) => setTimeout(done, 450))
      if (poll === 1) throw new Error('the source is down')
      return [{ poll }]
    } finally {
      active -= 1
    }
  },
})

const plugins = () => [
  definePluginVersion({
    name: '@test/kite-plugin-fixtures',
    version: '1.0.0',
    plugin: fixturesPlugin,
  }),
  definePluginVersion({
    name: '@test/kite-plugin-flaky',
    version: '1.0.0',
    plugin: definePlugin({ group: 'test.flaky', title: 'Flaky', triggers: [flaky] }),
  }),
]

// biome-ignore lint/suspicious/noExplicitAny: API answers are checked by the assertions below
type Json = any
type JsonResponse = Omit<Response, 'json'> & { json(): Promise<Json> }

async function until<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 8000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((done) => setTimeout(done, 50))
  }
}

const executionsOf = async (runtime: Runtime, namespace: string, flowId: string) =>
  (await runtime.store.listExecutions({ namespace, flowId }, 1, 500)).results
const triggerDates = (executions: ExecutionSummary[]) =>
  executions.map((execution) => String(execution.trigger?.variables.date)).sort()

describe('the scheduler, through the API', () => {
  const kite = useTestServer('kite-scheduler-', {
    plugins,
    pluginDirs: [CORE, GREETING, GREETING_V2],
    scheduler: { tickMs: 100 },
    bodyLimit: 4096,
  })
  const api = (path: string, init: RequestInit = {}): Promise<JsonResponse> =>
    fetch(`${kite.server.url}/api/v1${path}`, init)
  const save = (source: string) =>
    api('/flows', {
      method: 'POST',
      headers: { 'content-type': 'application/x-yaml' },
      body: source,
    })

  it('fires a schedule once per date, with trigger.date, next, previous and inputs', async () => {
    const saved = await save(
      flowYaml(
        'every-second',
        'sched',
        [
          echo(
            'echo',
            '{{ inputs.who }} {{ trigger.date }} {{ trigger.next }} {{ trigger.previous }}',
          ),
        ],
        {
          inputs: [{ id: 'who', type: 'STRING' }],
          triggers: [
            {
              id: 'tick',
              type: 'kite.trigger.Schedule',
              cron: '* * * * * *',
              inputs: { who: 'clock' },
            },
          ],
        },
      ),
    )
    expect(saved.status).toBe(200)
    const first = await until(async () => {
      const [trigger] = (await (await api('/triggers?namespace=sched&flowId=every-second')).json())
        .results as Json[]
      return trigger?.nextDate as string | undefined
    }, 'the first date')
    const firstDate = new Date(first).getTime()
    await new Promise((done) => setTimeout(done, firstDate + 2500 - Date.now()))
    const disabled = await api('/triggers/sched/every-second/tick/disable', { method: 'POST' })
    expect(await disabled.json()).toMatchObject({ enabled: false })
    await new Promise((done) => setTimeout(done, 1200))
    const executions = await executionsOf(kite.server.runtime, 'sched', 'every-second')
    const expected = [0, 1, 2].map((second) => new Date(firstDate + second * 1000).toISOString())
    expect(triggerDates(executions)).toEqual(expected)
    const done = await kite.server.runtime.engine.waitFor(
      executions.find((item) => item.trigger?.variables.date === expected[1])?.id ?? '',
    )
    expect(done.inputs).toEqual({ who: 'clock' })
    expect(done.taskRunList[0]?.outputs?.value).toBe(
      `clock ${expected[1]} ${expected[2]} ${expected[0]}`,
    )
    const listed = (await (await api('/triggers?namespace=sched')).json()).results[0]
    expect(listed).toMatchObject({
      kind: 'schedule',
      cron: '* * * * * *',
      enabled: false,
      lastFired: expect.any(String),
      lastExecutionId: expect.any(String),
    })
    const enabled = await api('/triggers/sched/every-second/tick/enable', { method: 'POST' })
    expect(await enabled.json()).toMatchObject({ enabled: true })
    await until(
      async () =>
        (await executionsOf(kite.server.runtime, 'sched', 'every-second')).length > 3 || undefined,
      'a firing after enabling',
    )
    await api('/triggers/sched/every-second/tick/disable', { method: 'POST' })
  })

  it('stops the triggers of a deleted flow', async () => {
    await save(
      flowYaml('doomed', 'sched', [echo('echo', 1)], {
        triggers: [{ id: 'tick', type: 'kite.trigger.Schedule', cron: '* * * * * *' }],
      }),
    )
    await until(
      async () =>
        (await executionsOf(kite.server.runtime, 'sched', 'doomed')).length > 0 || undefined,
      'a first firing',
    )
    expect((await api('/flows/sched/doomed', { method: 'DELETE' })).status).toBe(204)
    const count = (await executionsOf(kite.server.runtime, 'sched', 'doomed')).length
    await new Promise((wait) => setTimeout(wait, 1500))
    expect(await executionsOf(kite.server.runtime, 'sched', 'doomed')).toHaveLength(count)
    expect((await (await api('/triggers?namespace=sched&flowId=doomed')).json()).total).toBe(0)
  })

  it('passes webhook bodies (JSON or not), headers and parameters; hides wrong keys', async () => {
    expect(
      (
        await save(
          flowYaml(
            'hooked',
            'hooks',
            [
              echo('echo', {
                body: '{{ trigger.body }}',
                header: "{{ trigger.headers['x-source'] }}",
                page: '{{ trigger.parameters.page[0] }}',
              }),
            ],
            { triggers: [{ id: 'hook', type: 'kite.trigger.Webhook', key: 's3cret-key' }] },
          ),
        )
      ).status,
    ).toBe(200)
    const call = (path: string, body: string, type: string) =>
      api(`/executions/webhook/${path}`, {
        method: 'POST',
        headers: { 'content-type': type, 'x-source': 'tests' },
        body,
      })
    const jsonCall = await call(
      'hooks/hooked/s3cret-key?wait=true&page=2',
      '{"who":"Grace"}',
      'application/json',
    )
    expect(jsonCall.status).toBe(200)
    const fromJson = (await jsonCall.json()) as Json
    expect(fromJson.taskRunList[0].outputs.value).toEqual({
      body: { who: 'Grace' },
      header: 'tests',
      page: '2',
    })
    expect(fromJson.trigger).toMatchObject({ id: 'hook', type: 'kite.trigger.Webhook' })
    const textCall = await call(
      'hooks/hooked/s3cret-key?wait=true&page=3',
      'plain words',
      'text/plain',
    )
    expect(((await textCall.json()) as Json).taskRunList[0].outputs.value).toEqual({
      body: 'plain words',
      header: 'tests',
      page: '3',
    })

    const wrongKey = await call('hooks/hooked/wrong', '{}', 'application/json')
    const wrongFlow = await call('hooks/nothing-here/s3cret-key', '{}', 'application/json')
    expect(wrongKey.status).toBe(404)
    expect(wrongFlow.status).toBe(404)
    const wrongKeyBody = await wrongKey.text()
    expect(wrongKeyBody).toBe(await wrongFlow.text())
    expect(wrongKeyBody).not.toContain('hooked')

    const tooLarge = await call('hooks/hooked/s3cret-key', 'x'.repeat(5000), 'text/plain')
    expect(tooLarge.status).toBe(413)

    await api('/triggers/hooks/hooked/hook/disable', { method: 'POST' })
    expect((await call('hooks/hooked/s3cret-key', '{}', 'application/json')).status).toBe(404)
    await api('/triggers/hooks/hooked/hook/enable', { method: 'POST' })
    expect((await call('hooks/hooked/s3cret-key', '{}', 'application/json')).status).toBe(200)
  })

  it('starts a flow when another ends, filtered by an ExecutionStatus condition', async () => {
    expect(
      (
        await save(
          flowYaml(
            'upstream',
            'chain',
            [
              task('maybe', 'test.fixtures.Fail', {
                times: '{{ 1 if inputs.fail else 0 }}',
                key: 'upstream-{{ execution.id }}',
              }),
            ],
            {
              inputs: [{ id: 'fail', type: 'BOOLEAN', defaults: false }],
              outputs: [{ id: 'answer', value: '42' }],
            },
          ),
        )
      ).status,
    ).toBe(200)
    const downstream = await save(
      flowYaml(
        'on-failure',
        'chain',
        [echo('echo', '{{ trigger.flowId }} {{ trigger.state }} {{ trigger.executionId }}')],
        {
          triggers: [
            {
              id: 'after',
              type: 'kite.trigger.Flow',
              preconditions: {
                flows: [{ namespace: 'chain', flowId: 'upstream', states: ['SUCCESS', 'FAILED'] }],
              },
              conditions: [{ type: 'kite.core.condition.ExecutionStatus', in: ['FAILED'] }],
            },
          ],
        },
      ),
    )
    expect(downstream.status).toBe(200)
    const { engine } = kite.server.runtime
    const ok = await engine.start({ namespace: 'chain', flowId: 'upstream' })
    expect((await engine.waitFor(ok.id)).state.current).toBe('SUCCESS')
    const failed = await engine.start({
      namespace: 'chain',
      flowId: 'upstream',
      inputs: { fail: true },
    })
    expect((await engine.waitFor(failed.id)).state.current).toBe('FAILED')
    const [started] = await until(async () => {
      const found = await executionsOf(kite.server.runtime, 'chain', 'on-failure')
      return found.length > 0 ? found : undefined
    }, 'the downstream execution')
    const done = await engine.waitFor(started?.id ?? '')
    expect(done.taskRunList[0]?.outputs?.value).toBe(`upstream FAILED ${failed.id}`)
    expect(done.trigger?.variables).toMatchObject({
      executionId: failed.id,
      namespace: 'chain',
      flowId: 'upstream',
      state: 'FAILED',
    })
    await new Promise((wait) => setTimeout(wait, 300))
    // The successful upstream did not pass the condition: still one downstream execution.
    expect(await executionsOf(kite.server.runtime, 'chain', 'on-failure')).toHaveLength(1)
  })

  it('polls a plugin trigger pinned to a version, with a cursor and a condition', async () => {
    const saved = await save(
      flowYaml('guests', 'polls', [echo('echo', '{{ trigger.name }} {{ trigger.position }}')], {
        triggers: [
          {
            id: 'visitors',
            type: 'acme.greeting.Visitors',
            version: '1.0.0',
            interval: 'PT0.2S',
            names: ['Ada', 'Grace', 'Linus'],
            batchSize: 2,
            conditions: [
              {
                type: 'acme.greeting.NameMatches',
                version: '2.0.0',
                name: '{{ trigger.name }}',
                pattern: 'Ada|Linus',
              },
            ],
          },
        ],
      }),
    )
    expect(saved.status).toBe(200)
    const trigger = await until(async () => {
      const [found] = (await (await api('/triggers?namespace=polls')).json()).results as Json[]
      return found?.state?.cursor === 3 ? found : undefined
    }, 'the cursor to reach the end')
    expect(trigger).toMatchObject({ kind: 'plugin', version: '1.0.0', interval: 'PT0.2S' })
    await new Promise((wait) => setTimeout(wait, 500))
    const executions = await executionsOf(kite.server.runtime, 'polls', 'guests')
    expect(executions.map((item) => item.trigger?.variables.name).sort()).toEqual(['Ada', 'Linus'])
    const one = await kite.server.runtime.engine.waitFor(executions[0]?.id ?? '')
    expect(one.plugins).toContainEqual(
      expect.objectContaining({ type: 'acme.greeting.Visitors', version: '1.0.0' }),
    )

    const reset = await api('/triggers/polls/guests/visitors/reset', { method: 'POST' })
    expect(((await reset.json()) as Json).state).toEqual({})
    await until(
      async () =>
        (await executionsOf(kite.server.runtime, 'polls', 'guests')).length === 4 || undefined,
      'the guest book polled again from the start',
    )
    await api('/triggers/polls/guests/visitors/disable', { method: 'POST' })
  })

  it('logs a poll that throws on the trigger, retries it, and never polls twice at once', async () => {
    const saved = await save(
      flowYaml('flaky', 'polls', [echo('echo', '{{ trigger.poll }}')], {
        triggers: [{ id: 'source', type: 'test.flaky.Flaky' }],
      }),
    )
    expect(saved.status).toBe(200)
    const failing = await until(async () => {
      const [found] = (await (await api('/triggers?namespace=polls&flowId=flaky')).json())
        .results as Json[]
      return found?.lastError ? found : undefined
    }, 'the failed poll')
    expect(failing.lastError.message).toMatch(
      /poll of test\.flaky\.Flaky 1\.0\.0 failed.*the source is down/,
    )
    expect(failing.failures).toBe(1)
    await until(
      async () =>
        (await executionsOf(kite.server.runtime, 'polls', 'flaky')).length >= 2 || undefined,
      'executions after the failure',
    )
    const after = (await (await api('/triggers?namespace=polls&flowId=flaky')).json()).results[0]
    expect(after).toMatchObject({ enabled: true, failures: 0 })
    await api('/triggers/polls/flaky/source/disable', { method: 'POST' })
    expect(mostAtOnce).toBe(1)
  })

  it('refuses bad triggers at save, one error per trigger', async () => {
    const bad = await save(
      flowYaml('bad', 'refused', [echo('echo', 1)], {
        triggers: [
          { id: 'cron', type: 'kite.trigger.Schedule', cron: '61 * * * *' },
          {
            id: 'zone',
            type: 'kite.trigger.Schedule',
            cron: '0 * * * *',
            timezone: 'Mars/Olympus',
          },
          {
            id: 'condition',
            type: 'kite.trigger.Schedule',
            cron: '0 * * * *',
            conditions: [{ type: 'kite.core.condition.NoSuchThing' }],
          },
        ],
      }),
    )
    expect(bad.status).toBe(422)
    const body = (await bad.json()) as Json
    const messages = body.errors.map((error: Json) => `${error.path}: ${error.message}`)
    expect(messages).toEqual([
      expect.stringMatching(/^triggers\[0\]\.cron: trigger "cron": invalid cron "61 \* \* \* \*"/),
      expect.stringMatching(
        /^triggers\[1\]\.timezone: trigger "zone": unknown time zone "Mars\/Olympus"/,
      ),
      expect.stringMatching(/^triggers\[2\]\.conditions\[0\].*kite\.core\.condition\.NoSuchThing/),
    ])

    const hookFlow = (id: string) => `id: ${id}
namespace: refused
triggers:
  - id: hook
    type: kite.trigger.Webhook
    key: shared-key
tasks:
  - id: echo
    type: test.fixtures.Echo
    value: 1
`
    expect((await save(hookFlow('first-hook'))).status).toBe(200)
    const collisionSource = hookFlow('other-hook')
    const collision = await save(collisionSource)
    expect(collision.status).toBe(422)
    expect(((await collision.json()) as Json).errors).toEqual([
      expect.objectContaining({
        path: 'triggers[0].key',
        message:
          'trigger "hook": webhook key "shared-key" is already used by trigger "hook" of flow refused/first-hook; choose another key',
      }),
    ])
    const validated = await api('/flows/validate', {
      method: 'POST',
      headers: { 'content-type': 'application/x-yaml' },
      body: collisionSource,
    })
    expect(validated.status).toBe(422)
    expect((await validated.json()).errors[0].path).toBe('triggers[0].key')
    expect((await api('/triggers/hooks/nope/hook/disable', { method: 'POST' })).status).toBe(404)
  })
})

describe('the scheduler across a restart', () => {
  it('recovers missed schedules as each flow asks (LAST, NONE, ALL) without duplicates', async () => {
    await inTempDir('kite-scheduler-restart-', async (dataDir) => {
      const flow = (id: string, recover: string) => `id: ${id}
namespace: restart
triggers:
  - id: tick
    type: kite.trigger.Schedule
    cron: "* * * * * *"
    recoverMissedSchedules: ${recover}
tasks:
  - id: echo
    type: test.fixtures.Echo
    value: "{{ trigger.date }}"
`
      const open = () =>
        createRuntime({ dataDir, plugins: plugins(), scheduler: { tickMs: 100, start: false } })
      const first = await open()
      for (const [id, recover] of [
        ['last', 'LAST'],
        ['none', 'NONE'],
        ['all', 'ALL'],
      ] as const) {
        await first.engine.saveFlow(flow(id, recover))
      }
      await first.scheduler.start()
      await until(async () => {
        for (const id of ['last', 'none', 'all']) {
          if ((await executionsOf(first, 'restart', id)).length < 1) return undefined
        }
        return true
      }, 'a firing of each flow')
      await first.close()
      await new Promise((wait) => setTimeout(wait, 3200))

      const second = await open()
      const restartedAt = Date.now()
      await second.scheduler.start()
      await new Promise((wait) => setTimeout(wait, 300))
      await second.close()
      const gaps: Record<string, string[]> = {}
      const reopened = await createRuntime({ dataDir, plugins: plugins(), scheduler: false })
      try {
        for (const id of ['last', 'none', 'all']) {
          const executions = await executionsOf(reopened, 'restart', id)
          const dates = triggerDates(executions)
          expect(new Set(dates).size).toBe(dates.length)
          // Fired by the second process for dates before it started: the recovered ones.
          gaps[id] = triggerDates(
            executions.filter(
              (item) =>
                Date.parse(item.state.startDate) >= restartedAt &&
                Date.parse(String(item.trigger?.variables.date)) < restartedAt,
            ),
          )
        }
      } finally {
        await reopened.close()
      }
      const gap = (id: string) => gaps[id] ?? []
      const lastMissed = new Date(Math.floor((restartedAt - 1) / 1000) * 1000).toISOString()
      expect(gap('last')).toEqual([lastMissed])
      expect(gap('none')).toEqual([])
      const all = gap('all')
      expect(all.length).toBeGreaterThanOrEqual(3)
      expect(all.at(-1)).toBe(lastMissed)
      const seconds = all.map((date) => Date.parse(date) / 1000)
      expect(seconds).toEqual(seconds.map((_, index) => (seconds[0] ?? 0) + index))
    })
  })
})

describe('a firing recorded before a crash', () => {
  it('completes on the next start: missing executions start, existing ones are not repeated', async () => {
    await inTempDir('kite-scheduler-firing-', async (dataDir) => {
      const open = () => createRuntime({ dataDir, plugins: plugins(), scheduler: { start: false } })
      const first = await open()
      await first.engine.saveFlow(
        flowYaml('guests', 'crash', [echo('echo', '{{ trigger.item }}')], {
          triggers: [{ id: 'poll', type: 'test.fixtures.Poll', source: 'book' }],
        }),
      )
      const trigger = { id: 'poll', type: 'test.fixtures.Poll' }
      const done = await first.engine.start({
        namespace: 'crash',
        flowId: 'guests',
        id: createId(),
        trigger: { ...trigger, variables: { item: 'first' } },
      })
      const missing = createId()
      // What a poll records before starting its executions; the process died right after.
      await first.store.triggerStateSet('crash', 'guests', 'poll', RECORD_KEY, {
        pending: [
          {
            id: createId(),
            starts: [
              { id: done.id, variables: { item: 'first' } },
              { id: missing, variables: { item: 'second' } },
            ],
            state: { cursor: 2 },
          },
        ],
      })
      await first.engine.waitFor(done.id)
      await first.close()

      const second = await open()
      try {
        await second.scheduler.start()
        const started = await second.engine.waitFor(missing)
        expect(started.trigger).toEqual({ ...trigger, variables: { item: 'second' } })
        expect(started.taskRunList[0]?.outputs?.value).toBe('second')
        expect(await executionsOf(second, 'crash', 'guests')).toHaveLength(2)
        const [info] = await second.scheduler.list({ namespace: 'crash' })
        expect(info).toMatchObject({ state: { cursor: 2 }, lastExecutionId: missing })
        const record = await second.store.triggerStateGet('crash', 'guests', 'poll', RECORD_KEY)
        expect(record).not.toHaveProperty('pending')
      } finally {
        await second.close()
      }
    })
  })
})

describe('flow triggers across a restart', () => {
  it('starts the downstream of an upstream that ended while no scheduler listened, once', async () => {
    await inTempDir('kite-scheduler-flow-', async (dataDir) => {
      const open = () => createRuntime({ dataDir, plugins: plugins(), scheduler: { start: false } })
      const downstreamOf = async (runtime: Runtime) => executionsOf(runtime, 'replay', 'downstream')
      const first = await open()
      await first.engine.saveFlow(
        'id: upstream\nnamespace: replay\ntasks:\n  - id: echo\n    type: test.fixtures.Echo\n    value: 1\n',
      )
      await first.engine.saveFlow(
        flowYaml('downstream', 'replay', [echo('echo', '{{ trigger.executionId }}')], {
          triggers: [
            {
              id: 'after',
              type: 'kite.trigger.Flow',
              preconditions: { flows: [{ namespace: 'replay', flowId: 'upstream' }] },
            },
          ],
        }),
      )
      await first.scheduler.start()
      // The scheduler stops (as if the process died) just before the upstream ends.
      await first.scheduler.close()
      const upstream = await first.engine.start({ namespace: 'replay', flowId: 'upstream' })
      await first.engine.waitFor(upstream.id)
      expect(await downstreamOf(first)).toHaveLength(0)
      await first.close()

      for (let restart = 0; restart < 2; restart++) {
        const runtime = await open()
        try {
          await runtime.scheduler.start()
          const [downstream] = await downstreamOf(runtime)
          expect(downstream?.trigger?.variables.executionId).toBe(upstream.id)
          expect(await downstreamOf(runtime)).toHaveLength(1)
          await runtime.engine.waitFor(downstream?.id ?? '')
        } finally {
          await runtime.close()
        }
      }
    })
  })
})
