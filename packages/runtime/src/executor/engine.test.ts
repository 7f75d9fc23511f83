import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { echo, flowable, flowYaml, pause, slow, task } from '../../test/fixtures/flows.js'
import {
  createTestRuntime,
  runStates,
  startParentOfPausedChild,
  type TestRuntime,
  waitUntil,
} from '../../test/fixtures/test-runtime.js'
import type { StateInfo } from './execution-model.js'

let t: TestRuntime
beforeAll(async () => {
  t = await createTestRuntime({
    env: {
      KITE_SECRET_TOKEN: 's3cr3t-value',
      KITE_ENV_STAGE: 'test',
      KITE_ENCRYPTION_KEY: 'an-engine-test-key-of-32-characters-or-more',
    },
  })
})
afterAll(async () => {
  await t.close()
})

describe('sequential tasks', () => {
  it('runs tasks in order and passes outputs across tasks', async () => {
    const execution = await t.run(
      flowYaml('seq', 'test.engine', [
        task('a', 'test.fixtures.Add', { a: 1, b: 2 }),
        echo('b', '{{ outputs.a.sum * 10 }}'),
        task('c', 'test.fixtures.Return', {
          format: 'sum is {{ outputs.a.sum }}, echo {{ outputs.b.value }}',
        }),
      ]),
    )
    expect(execution.state.current).toBe('SUCCESS')
    expect(runStates(execution)).toBe('a:SUCCESS b:SUCCESS c:SUCCESS')
    expect(t.taskRun(execution, 'b').outputs).toEqual({ value: 30 })
    expect(t.taskRun(execution, 'c').outputs).toEqual({ value: 'sum is 3, echo 30' })
    expect(t.taskRun(execution, 'a').pluginVersion).toBe('1.0.0')
    expect(execution.plugins).toContainEqual(
      expect.objectContaining({
        type: 'test.fixtures.Add',
        package: '@test/kite-plugin-fixtures',
        version: '1.0.0',
        decidedBy: 'defaultVersion',
        taskIds: ['a'],
      }),
    )
  })
})

describe('inputs', () => {
  const flow = flowYaml(
    'inputs',
    'test.engine',
    [
      echo('show', {
        name: '{{ inputs.name }}',
        count: '{{ inputs.count + 1 }}',
        enabled: '{{ inputs.enabled }}',
        when: '{{ inputs.when }}',
        first: '{{ inputs.data.a[0] }}',
        color: '{{ inputs.color }}',
        ratio: '{{ inputs.ratio }}',
      }),
    ],
    {
      inputs: [
        { id: 'name', type: 'STRING' },
        { id: 'count', type: 'INT', defaults: 3 },
        { id: 'ratio', type: 'FLOAT', required: false },
        { id: 'enabled', type: 'BOOLEAN', defaults: true },
        { id: 'when', type: 'DATETIME', defaults: '2024-05-01T10:00:00Z' },
        { id: 'data', type: 'JSON', defaults: '{"a": [1, 2]}' },
        { id: 'color', type: 'ENUM', values: ['red', 'green'], defaults: 'red' },
        { id: 'password', type: 'SECRET', required: false },
        { id: 'note', type: 'FILE', required: false },
      ],
    },
  )

  it('types inputs and applies defaults', async () => {
    const execution = await t.run(flow, { name: 'Ada', count: '41' })
    expect(execution.state.current).toBe('SUCCESS')
    expect(execution.inputs).toMatchObject({
      name: 'Ada',
      count: 41,
      enabled: true,
      ratio: null,
      color: 'red',
      data: { a: [1, 2] },
    })
    expect(t.taskRun(execution, 'show').outputs?.value).toEqual({
      name: 'Ada',
      count: 42,
      enabled: true,
      when: '2024-05-01T10:00:00.000Z',
      first: 1,
      color: 'red',
      ratio: null,
    })
  })

  it('refuses invalid inputs, naming each one', async () => {
    await t.runtime.engine.saveFlow(flow)
    const attempt = t.runtime.engine.start({
      namespace: 'test.engine',
      flowId: 'inputs',
      inputs: { count: 'many', color: 'blue', enabled: 'maybe', when: 'yesterday', extra: 1 },
    })
    await expect(attempt).rejects.toMatchObject({ code: 'INPUTS_INVALID' })
    const error = await attempt.then(
      () => undefined,
      (caught: unknown) => caught as { issues: Array<{ path: string; message: string }> },
    )
    const byPath = Object.fromEntries(
      (error?.issues ?? []).map((issue) => [issue.path, issue.message]),
    )
    expect(byPath).toEqual({
      'inputs.name': 'input "name" is required',
      'inputs.count': expect.stringContaining('expected an integer, got "many"'),
      'inputs.color': expect.stringContaining('expected one of "red", "green", got "blue"'),
      'inputs.enabled': expect.stringContaining('expected true or false'),
      'inputs.when': expect.stringContaining('ISO-8601'),
      'inputs.extra': expect.stringContaining('unknown input "extra"'),
    })
  })

  it('stores FILE inputs in internal storage and masks SECRET inputs in logs', async () => {
    const execution = await t.run(
      flowYaml(
        'files',
        'test.engine',
        [
          task('log', 'test.fixtures.Log', {
            message: 'file {{ inputs.note }} password {{ inputs.password }}',
          }),
        ],
        {
          inputs: [
            { id: 'note', type: 'FILE' },
            { id: 'password', type: 'SECRET' },
          ],
        },
      ),
      { note: 'hello file', password: 'hunter2-long' },
    )
    expect(execution.state.current).toBe('SUCCESS')
    const uri = String(execution.inputs.note)
    expect(uri).toMatch(
      new RegExp(`^kite:///test.engine/files/executions/${execution.id}/inputs/note/`),
    )
    expect(new TextDecoder().decode(await t.runtime.storage.get(uri))).toBe('hello file')
    const logs = await t.logs(execution.id)
    expect(logs.join('\n')).toContain('password ******')
    expect(logs.join('\n')).not.toContain('hunter2-long')
  })
})

describe('expressions at run time', () => {
  it('fails the task run clearly on an undefined variable', async () => {
    const execution = await t.run(
      flowYaml('undefined-var', 'test.engine', [
        echo('a', 1),
        echo('b', '{{ outputs.a.value.missing }}'),
        echo('c', 'never'),
      ]),
    )
    expect(execution.state.current).toBe('FAILED')
    const b = t.taskRun(execution, 'b')
    expect(b.state.current).toBe('FAILED')
    expect(b.error).toContain('property "value"')
    expect(b.error).toContain('outputs.a.value.missing')
    expect(b.attempts).toHaveLength(1)
    expect(execution.taskRunList.map((run) => run.taskId)).toEqual(['a', 'b'])
    expect((await t.logs(execution.id)).join('\n')).toContain('outputs.a.value.missing')
  })

  it('exposes flow, execution, vars, labels, envs and secret()', async () => {
    const execution = await t.run(
      flowYaml(
        'context',
        'test.engine',
        [
          echo('show', {
            flow: '{{ flow.namespace }}/{{ flow.id }}',
            execution: '{{ execution.id }}',
            greeting: '{{ vars.greeting }}',
            team: '{{ labels.team }}',
            stage: '{{ envs.stage }}',
            task: '{{ task.id }}',
            secretLength: "{{ secret('TOKEN') | length }}",
          }),
        ],
        { labels: { team: 'core' }, variables: { greeting: 'Hello' } },
      ),
    )
    expect(execution.state.current).toBe('SUCCESS')
    expect(t.taskRun(execution, 'show').outputs?.value).toEqual({
      flow: 'test.engine/context',
      execution: execution.id,
      greeting: 'Hello',
      team: 'core',
      stage: 'test',
      task: 'show',
      secretLength: 12,
    })
  })

  it('passes $dynamic: false properties through unrendered', async () => {
    const execution = await t.run(
      flowYaml('raw', 'test.engine', [
        task('raw', 'test.fixtures.Raw', { template: '{{ flow.id }}' }),
      ]),
    )
    expect(t.taskRun(execution, 'raw').outputs).toEqual({
      template: '{{ flow.id }}',
      rendered: 'raw',
    })
  })

  it('guards fetch outputs: reading the absent one names the one that exists', async () => {
    const execution = await t.run(
      flowYaml('fetch-guard', 'test.engine', [
        task('rows', 'test.fixtures.Fetch', { fetchType: 'STORE', rows: [1, 2] }),
        echo('read', '{{ outputs.rows.value }}'),
      ]),
    )
    expect(execution.state.current).toBe('FAILED')
    expect(t.taskRun(execution, 'read').error).toContain(
      'outputs.rows.value does not exist: it produced "uri" instead',
    )
  })
})

describe('secrets, KV and storage', () => {
  it('masks secret values in every log line', async () => {
    const execution = await t.run(
      flowYaml('secrets', 'test.engine', [
        task('read', 'test.fixtures.Secret', { name: 'TOKEN' }),
        task('leak', 'test.fixtures.Log', { message: "token={{ secret('TOKEN') }}" }),
      ]),
    )
    expect(execution.state.current).toBe('SUCCESS')
    expect(t.taskRun(execution, 'read').outputs).toEqual({ length: 12 })
    const logs = (await t.logs(execution.id)).join('\n')
    expect(logs).toContain('the secret is ******')
    expect(logs).toContain('token=******')
    expect(logs).not.toContain('s3cr3t-value')
  })

  it('fails clearly on a missing secret', async () => {
    const execution = await t.run(
      flowYaml('missing-secret', 'test.engine', [
        task('read', 'test.fixtures.Secret', { name: 'NOPE' }),
      ]),
    )
    expect(t.taskRun(execution, 'read').error).toContain('KITE_SECRET_NOPE')
  })

  it('keeps KV per namespace, readable with kv()', async () => {
    const execution = await t.run(
      flowYaml('kv', 'test.kv', [
        task('set', 'test.fixtures.Kv', { key: 'colour', value: { name: 'teal' } }),
        echo('read', "{{ kv('colour').name }}"),
      ]),
    )
    expect(execution.state.current).toBe('SUCCESS')
    expect(t.taskRun(execution, 'read').outputs).toEqual({ value: 'teal' })
    expect(await t.runtime.store.kvGet('test.kv', 'colour')).toEqual({ name: 'teal' })
    expect(await t.runtime.store.kvGet('test.other', 'colour')).toBeUndefined()
  })

  it('stores files under the execution in internal storage', async () => {
    const execution = await t.run(
      flowYaml('storage', 'test.engine', [
        task('put', 'test.fixtures.Store', { text: 'some text' }),
      ]),
    )
    const outputs = t.taskRun(execution, 'put').outputs!
    expect(outputs.uri).toMatch(
      new RegExp(
        `^kite:///test.engine/storage/executions/${execution.id}/put/[0-9a-f]{8}-data.txt$`,
      ),
    )
    expect(outputs.read).toBe('some text')
  })
})

describe('task properties', () => {
  it('retries with a constant interval until an attempt succeeds', async () => {
    const execution = await t.run(
      flowYaml('retry-constant', 'test.engine', [
        task('flaky', 'test.fixtures.Fail', {
          times: 2,
          key: 'retry-constant',
          retry: { type: 'constant', interval: 'PT0.05S', maxAttempts: 3 },
        }),
      ]),
    )
    const run = t.taskRun(execution, 'flaky')
    expect(run.state.current).toBe('SUCCESS')
    expect(run.attempts.map((attempt) => attempt.state.current)).toEqual([
      'FAILED',
      'FAILED',
      'SUCCESS',
    ])
    expect(run.attempts[0]?.error).toBe('boom')
    expect(run.outputs).toEqual({ attempts: 3 })
    expect(inOrder(run.attempts.map((attempt) => span(attempt)))).toBe(true)
    expect((await t.logs(execution.id)).join('\n')).toContain(
      'attempt 1 failed: boom; retrying in 50 ms',
    )
  })

  it('gives up after maxAttempts, and waits exponentially longer', async () => {
    const execution = await t.run(
      flowYaml('retry-exponential', 'test.engine', [
        task('flaky', 'test.fixtures.Fail', {
          key: 'retry-exponential',
          retry: { type: 'exponential', interval: 'PT0.02S', delayFactor: 3, maxAttempts: 3 },
        }),
      ]),
    )
    const run = t.taskRun(execution, 'flaky')
    expect(execution.state.current).toBe('FAILED')
    expect(run.state.current).toBe('FAILED')
    expect(run.attempts).toHaveLength(3)
    // The schedule the engine followed, as it logged it: 20 ms, then 20 × 3.
    const logs = (await t.logs(execution.id)).join('\n')
    expect(logs).toContain('attempt 1 failed: boom; retrying in 20 ms')
    expect(logs).toContain('attempt 2 failed: boom; retrying in 60 ms')
    expect(inOrder(run.attempts.map((attempt) => span(attempt)))).toBe(true)
  })

  it('fails a task that runs longer than its timeout', async () => {
    const execution = await t.run(
      flowYaml('timeout', 'test.engine', [
        task('slow', 'test.fixtures.Slow', { ms: 5000, timeout: 'PT0.1S' }),
      ]),
    )
    const run = t.taskRun(execution, 'slow')
    expect(run.state.current).toBe('FAILED')
    expect(run.error).toBe('task "slow": timed out after 100 ms')
    // Stopped, not finished: the task never returned its outputs.
    expect(run.outputs?.waited).toBeUndefined()
  })

  it('turns an allowed failure into WARNING and goes on', async () => {
    const execution = await t.run(
      flowYaml('allow-failure', 'test.engine', [
        task('bad', 'test.fixtures.Fail', { key: 'allow-failure', allowFailure: true }),
        echo('next', 'went on'),
      ]),
    )
    expect(execution.state.current).toBe('WARNING')
    expect(t.taskRun(execution, 'bad').state.current).toBe('WARNING')
    expect(t.taskRun(execution, 'bad').error).toBe('boom')
    expect(t.taskRun(execution, 'next').state.current).toBe('SUCCESS')
  })

  it('skips tasks whose runIf is false and ignores disabled tasks', async () => {
    const execution = await t.run(
      flowYaml(
        'run-if',
        'test.engine',
        [
          task('maybe', 'test.fixtures.Echo', { value: 'ran', runIf: '{{ inputs.go }}' }),
          task('literal', 'test.fixtures.Echo', { value: 'ran', runIf: false }),
          task('off', 'test.fixtures.Fail', { disabled: true }),
          echo('after', '{{ outputs.maybe is defined }}'),
        ],
        { inputs: [{ id: 'go', type: 'BOOLEAN' }] },
      ),
      { go: false },
    )
    expect(execution.state.current).toBe('SUCCESS')
    expect(t.taskRun(execution, 'maybe').state.current).toBe('SKIPPED')
    expect(t.taskRun(execution, 'literal').state.current).toBe('SKIPPED')
    expect(execution.taskRunList.some((run) => run.taskId === 'off')).toBe(false)
    expect(t.taskRun(execution, 'after').outputs).toEqual({ value: false })
  })

  it('filters a task log lines below its logLevel', async () => {
    const execution = await t.run(
      flowYaml('log-level', 'test.engine', [
        task('quiet', 'test.fixtures.Log', { message: 'hidden', level: 'debug', logLevel: 'INFO' }),
        task('loud', 'test.fixtures.Log', { message: 'shown', level: 'warn', logLevel: 'INFO' }),
      ]),
    )
    const logs = await t.logs(execution.id)
    expect(logs).toContain('warn loud: shown')
    expect(logs.join('\n')).not.toContain('hidden')
  })
})

describe('errors and finally', () => {
  it('runs errors when a task fails, finally always, and keeps the execution FAILED', async () => {
    const execution = await t.run(
      flowYaml(
        'errors-finally',
        'test.engine',
        [
          task('bad', 'test.fixtures.Fail', { key: 'errors-finally', message: 'it broke' }),
          echo('skipped', 'never'),
        ],
        {
          errors: [task('alert', 'test.fixtures.Return', { format: 'failed: {{ execution.id }}' })],
          finally: [echo('cleanup', 'cleaned')],
        },
      ),
    )
    expect(execution.state.current).toBe('FAILED')
    expect(runStates(execution)).toBe('bad:FAILED alert:SUCCESS cleanup:SUCCESS')
    expect(t.taskRun(execution, 'alert').outputs).toEqual({ value: `failed: ${execution.id}` })
  })

  it('runs finally (not errors) after success, and a failing finally fails the execution', async () => {
    const execution = await t.run(
      flowYaml('finally-fails', 'test.engine', [echo('ok', 1)], {
        errors: [echo('alert', 'never')],
        finally: [task('cleanup', 'test.fixtures.Fail', { key: 'finally-fails' })],
      }),
    )
    expect(execution.state.current).toBe('FAILED')
    expect(execution.taskRunList.map((run) => run.taskId)).toEqual(['ok', 'cleanup'])
  })

  it('runs a flowable task own errors and finally branches', async () => {
    const execution = await t.run(
      flowYaml('flowable-branches', 'test.engine', [
        flowable(
          'group',
          'Sequential',
          [task('inner', 'test.fixtures.Fail', { key: 'flowable-branches' })],
          { errors: [echo('inner-alert', 'alerted')], finally: [echo('inner-cleanup', 'cleaned')] },
        ),
      ]),
    )
    expect(execution.state.current).toBe('FAILED')
    const group = t.taskRun(execution, 'group')
    expect(group.state.current).toBe('FAILED')
    expect(t.taskRun(execution, 'inner-alert').parentTaskRunId).toBe(group.id)
    expect(t.taskRun(execution, 'inner-cleanup').state.current).toBe('SUCCESS')
  })
})

describe('flow outputs', () => {
  it('renders flow outputs when the execution succeeds', async () => {
    const execution = await t.run(
      flowYaml('flow-outputs', 'test.engine', [task('a', 'test.fixtures.Add', { a: 40, b: 2 })], {
        outputs: [
          { id: 'answer', type: 'INT', value: '{{ outputs.a.sum }}' },
          { id: 'text', value: 'answer={{ outputs.a.sum }}' },
        ],
      }),
    )
    expect(execution.state.current).toBe('SUCCESS')
    expect(execution.outputs).toEqual({ answer: 42, text: 'answer=42' })
  })

  it('fails the execution when an output does not render', async () => {
    const execution = await t.run(
      flowYaml('flow-outputs-bad', 'test.engine', [echo('a', 1)], {
        outputs: [{ id: 'broken', value: '{{ outputs.a.value.x }}' }],
      }),
    )
    expect(execution.state.current).toBe('FAILED')
    expect(execution.error).toContain('output "broken"')
  })
})

describe('flowable tasks', () => {
  it('Parallel runs children at once, limited by concurrent', async () => {
    const flow = (concurrent: number) => `
id: parallel-${concurrent}
namespace: test.engine
tasks:
  - id: fan
    type: kite.flow.Parallel
    concurrent: ${concurrent}
    tasks:
      - id: p1-${concurrent}
        type: test.fixtures.Slow
        ms: 150
      - id: p2-${concurrent}
        type: test.fixtures.Slow
        ms: 150
      - id: p3-${concurrent}
        type: test.fixtures.Slow
        ms: 150
  - id: after-${concurrent}
    type: test.fixtures.Echo
    value: "{{ outputs['p1-${concurrent}'].waited + outputs['p3-${concurrent}'].waited }}"
`
    const all = await t.run(flow(0))
    const fan = t.taskRun(all, 'fan')
    expect(all.state.current).toBe('SUCCESS')
    // All three ran at once: each started before any of them ended.
    const spans = ['p1-0', 'p2-0', 'p3-0'].map((id) => span(t.taskRun(all, id)))
    expect(Math.max(...spans.map(([start]) => start))).toBeLessThan(
      Math.min(...spans.map(([, end]) => end)),
    )
    expect(inOrder(spans)).toBe(false)
    expect(t.taskRun(all, 'after-0').outputs).toEqual({ value: 300 })
    for (const id of ['p1-0', 'p2-0', 'p3-0'])
      expect(t.taskRun(all, id).parentTaskRunId).toBe(fan.id)
    const one = await t.run(flow(1))
    // concurrent: 1 — one after another, no two overlap.
    const serial = ['p1-1', 'p2-1', 'p3-1'].map((id) => span(t.taskRun(one, id)))
    expect(inOrder(serial)).toBe(true)
  })

  it('Parallel fails when a child fails and starts nothing new', async () => {
    const execution = await t.run(
      flowYaml('parallel-fail', 'test.engine', [
        flowable(
          'fan',
          'Parallel',
          [task('bad', 'test.fixtures.Fail', { key: 'parallel-fail' }), echo('never', 1)],
          { concurrent: 1 },
        ),
      ]),
    )
    expect(execution.state.current).toBe('FAILED')
    expect(t.taskRun(execution, 'fan').state.current).toBe('FAILED')
    expect(execution.taskRunList.some((run) => run.taskId === 'never')).toBe(false)
  })

  it('If runs then or else by its condition', async () => {
    const flow = flowYaml(
      'if',
      'test.engine',
      [
        task('check', 'kite.flow.If', {
          condition: '{{ inputs.n > 5 }}',
          // biome-ignore lint/suspicious/noThenProperty: the If task's branch is named `then`
          then: [echo('big', 'big')],
          else: [echo('small', 'small')],
        }),
      ],
      { inputs: [{ id: 'n', type: 'INT' }] },
    )
    const big = await t.run(flow, { n: 10 })
    expect(big.taskRunList.map((run) => run.taskId)).toEqual(['check', 'big'])
    expect(t.taskRun(big, 'check').outputs).toEqual({ condition: true })
    const small = await t.run(flow, { n: 1 })
    expect(small.taskRunList.map((run) => run.taskId)).toEqual(['check', 'small'])
  })

  it('Switch runs the matching case, or defaults', async () => {
    const flow = flowYaml(
      'switch',
      'test.engine',
      [
        task('pick', 'kite.flow.Switch', {
          value: '{{ inputs.colour }}',
          cases: {
            red: [{ id: 'stop', type: 'test.fixtures.Echo', value: 'stop' }],
            green: [{ id: 'go', type: 'test.fixtures.Echo', value: 'go' }],
          },
          defaults: [{ id: 'unknown', type: 'test.fixtures.Echo', value: 'unknown' }],
        }),
      ],
      { inputs: [{ id: 'colour', type: 'STRING' }] },
    )
    const green = await t.run(flow, { colour: 'green' })
    expect(green.taskRunList.map((run) => run.taskId)).toEqual(['pick', 'go'])
    const purple = await t.run(flow, { colour: 'purple' })
    expect(purple.taskRunList.map((run) => run.taskId)).toEqual(['pick', 'unknown'])
    expect(t.taskRun(purple, 'pick').outputs).toEqual({ value: 'purple', defaults: true })
  })

  it('ForEach runs its tasks per value with taskrun.value and value-indexed outputs', async () => {
    const execution = await t.run(
      flowYaml('for-each', 'test.engine', [
        flowable(
          'loop',
          'ForEach',
          [
            task('upper', 'test.fixtures.Return', { format: '{{ taskrun.value | upper }}' }),
            task('twice', 'test.fixtures.Return', {
              format:
                '{{ outputs.upper[taskrun.value].value }}{{ outputs.upper[taskrun.value].value }}',
            }),
          ],
          { values: '["a", "b", "c"]', concurrencyLimit: 2 },
        ),
        echo('collect', "{{ outputs.twice.a.value }}-{{ outputs.twice['c'].value }}"),
      ]),
    )
    expect(execution.state.current).toBe('SUCCESS')
    expect(t.taskRun(execution, 'upper', 'b').outputs).toEqual({ value: 'B' })
    expect(t.taskRun(execution, 'twice', 'b').outputs).toEqual({ value: 'BB' })
    expect(execution.taskRunList.filter((run) => run.taskId === 'twice')).toHaveLength(3)
    expect(t.taskRun(execution, 'collect').outputs).toEqual({ value: 'AA-CC' })
    expect(t.taskRun(execution, 'loop').outputs).toEqual({ values: ['a', 'b', 'c'] })
  })

  it('ForEach limits concurrency and nests, with parent.taskrun.value', async () => {
    const execution = await t.run(
      flowYaml('for-each-nested', 'test.engine', [
        flowable(
          'outer',
          'ForEach',
          [
            flowable(
              'inner',
              'ForEach',
              [
                task('pair', 'test.fixtures.Return', {
                  format: '{{ parent.taskrun.value }}{{ taskrun.value }}',
                }),
              ],
              { values: ['x', 'y'] },
            ),
          ],
          { values: [1, 2], concurrencyLimit: 0 },
        ),
        echo('read', "{{ outputs.pair['2'].y.value }}"),
      ]),
    )
    expect(execution.state.current).toBe('SUCCESS')
    const pairs = execution.taskRunList
      .filter((run) => run.taskId === 'pair')
      .map((run) => run.outputs?.value)
    expect(pairs.sort()).toEqual(['1x', '1y', '2x', '2y'])
    expect(t.taskRun(execution, 'read').outputs).toEqual({ value: '2y' })
  })

  it('ForEach with a limit of 1 runs values one after another', async () => {
    const execution = await t.run(
      flowYaml('for-each-serial', 'test.engine', [
        flowable('loop', 'ForEach', [slow('nap', '{{ taskrun.value }}')], { values: [80, 80, 80] }),
      ]),
    )
    const naps = execution.taskRunList.filter((run) => run.taskId === 'nap')
    expect(naps).toHaveLength(3)
    expect(inOrder(naps.map((run) => span(run)))).toBe(true)
  })

  it('ForEach fails clearly when values is not a list', async () => {
    const execution = await t.run(
      flowYaml('for-each-bad', 'test.engine', [
        flowable('loop', 'ForEach', [echo('never', 1)], { values: "{{ 'not a list' }}" }),
      ]),
    )
    expect(t.taskRun(execution, 'loop').error).toContain('values: expected a list')
  })

  it('Subflow starts a child execution, waits and exposes its outputs', async () => {
    await t.runtime.engine.saveFlow(
      flowYaml(
        'child',
        'test.sub',
        [
          task('double', 'test.fixtures.Add', { a: '{{ inputs.n }}', b: '{{ inputs.n }}' }),
          echo('who', '{{ trigger.flowId }}'),
        ],
        {
          inputs: [{ id: 'n', type: 'INT' }],
          outputs: [{ id: 'result', value: '{{ outputs.double.sum }}' }],
        },
      ),
    )
    const execution = await t.run(
      flowYaml('parent', 'test.sub', [
        task('call', 'kite.flow.Subflow', {
          namespace: 'test.sub',
          flowId: 'child',
          inputs: { n: 21 },
        }),
        echo('use', '{{ outputs.call.outputs.result }}'),
      ]),
    )
    expect(execution.state.current).toBe('SUCCESS')
    const call = t.taskRun(execution, 'call')
    expect(call.outputs).toMatchObject({ state: 'SUCCESS', outputs: { result: 42 } })
    expect(t.taskRun(execution, 'use').outputs).toEqual({ value: 42 })
    const child = await t.runtime.engine.getExecution(String(call.outputs?.executionId))
    expect(child?.parent).toMatchObject({ executionId: execution.id, taskId: 'call' })
    expect(t.taskRun(child!, 'who').outputs).toEqual({ value: 'parent' })
  })

  it('Subflow fails with its child unless transmitFailed is false, and can skip waiting', async () => {
    await t.runtime.engine.saveFlow(
      flowYaml('failing-child', 'test.sub', [
        task('bad', 'test.fixtures.Fail', { key: 'failing-child' }),
      ]),
    )
    const execution = await t.run(
      flowYaml('parent-of-failure', 'test.sub', [
        task('tolerant', 'kite.flow.Subflow', {
          namespace: 'test.sub',
          flowId: 'failing-child',
          transmitFailed: false,
        }),
        task('fire-and-forget', 'kite.flow.Subflow', {
          namespace: 'test.sub',
          flowId: 'failing-child',
          wait: false,
        }),
        task('strict', 'kite.flow.Subflow', { namespace: 'test.sub', flowId: 'failing-child' }),
      ]),
    )
    expect(t.taskRun(execution, 'tolerant').state.current).toBe('SUCCESS')
    expect(t.taskRun(execution, 'tolerant').outputs?.state).toBe('FAILED')
    expect(Object.keys(t.taskRun(execution, 'fire-and-forget').outputs ?? {})).toEqual([
      'executionId',
    ])
    expect(t.taskRun(execution, 'strict').state.current).toBe('FAILED')
    expect(t.taskRun(execution, 'strict').error).toContain('test.sub/failing-child')
    expect(execution.state.current).toBe('FAILED')
  })

  it('Subflow of a missing flow fails the task run', async () => {
    const execution = await t.run(
      flowYaml('parent-of-nothing', 'test.sub', [
        task('call', 'kite.flow.Subflow', { namespace: 'test.sub', flowId: 'does-not-exist' }),
      ]),
    )
    expect(t.taskRun(execution, 'call').error).toContain('flow test.sub/does-not-exist not found')
  })

  it('Pause waits for resume, then goes on', async () => {
    const paused = await t.run(
      flowYaml('pause', 'test.engine', [pause('wait'), echo('after', 'resumed')]),
      {},
      { untilPaused: true },
    )
    expect(paused.state.current).toBe('PAUSED')
    expect(t.taskRun(paused, 'wait').state.current).toBe('PAUSED')
    const resumed = await t.runtime.engine.resume(paused.id)
    expect(resumed.state.histories.map((entry) => entry.state)).toEqual([
      'CREATED',
      'RUNNING',
      'PAUSED',
      'RUNNING',
    ])
    const done = await t.runtime.engine.waitFor(paused.id)
    expect(done.state.current).toBe('SUCCESS')
    expect(t.taskRun(done, 'wait').state.current).toBe('SUCCESS')
    await expect(t.runtime.engine.resume(paused.id)).rejects.toMatchObject({
      code: 'EXECUTION_STATE',
    })
  })

  it('Pause with a delay resumes by itself; a timeout fails it', async () => {
    const delayed = await t.run(
      flowYaml('pause-delay', 'test.engine', [
        task('wait', 'kite.flow.Pause', { delay: 'PT0.1S' }),
      ]),
    )
    expect(delayed.state.current).toBe('SUCCESS')
    const timedOut = await t.run(
      flowYaml('pause-timeout', 'test.engine', [
        task('wait', 'kite.flow.Pause', { timeout: 'PT0.1S' }),
      ]),
    )
    expect(timedOut.state.current).toBe('FAILED')
    expect(t.taskRun(timedOut, 'wait').error).toContain('not resumed within its timeout PT0.1S')
  })
})

describe('a start with a chosen id', () => {
  it('creates the execution once: a second start of the id is refused and changes nothing', async () => {
    await t.runtime.engine.saveFlow(flowYaml('once', 'test.engine', [echo('only', 'ran')]))
    const id = 'a-chosen-id-started-twice'
    await t.runtime.engine.start({ namespace: 'test.engine', flowId: 'once', id })
    const ended = await t.runtime.engine.waitFor(id)
    expect(ended.state.current).toBe('SUCCESS')
    // Two schedulers firing one date (or a replayed Flow trigger) start the same derived id.
    await expect(
      t.runtime.engine.start({ namespace: 'test.engine', flowId: 'once', id }),
    ).rejects.toMatchObject({ code: 'EXECUTION_EXISTS' })
    const after = (await t.runtime.engine.getExecution(id))!
    expect(after.state.current).toBe('SUCCESS')
    expect(after.state.histories).toEqual(ended.state.histories)
    expect(after.taskRunList.map((run) => run.taskId)).toEqual(['only'])
  })
})

describe('kill', () => {
  it('kills a running execution: running tasks are stopped, nothing new starts', async () => {
    await t.runtime.engine.saveFlow(
      flowYaml('to-kill', 'test.engine', [slow('long', 10000), echo('never', 1)]),
    )
    const started = await t.runtime.engine.start({ namespace: 'test.engine', flowId: 'to-kill' })
    await waitUntil(
      async () => (await t.runtime.engine.getExecution(started.id))?.taskRunList.length === 1,
    )
    const killing = await t.runtime.engine.kill(started.id)
    expect(['KILLING', 'KILLED']).toContain(killing.state.current)
    const done = await t.runtime.engine.waitFor(started.id)
    expect(done.state.current).toBe('KILLED')
    expect(done.state.histories.map((entry) => entry.state)).toEqual([
      'CREATED',
      'RUNNING',
      'KILLING',
      'KILLED',
    ])
    expect(t.taskRun(done, 'long').state.current).toBe('KILLED')
    expect(done.taskRunList).toHaveLength(1)
    await expect(t.runtime.engine.kill(started.id)).rejects.toMatchObject({
      code: 'EXECUTION_STATE',
    })
  })

  it('kills a paused execution and its running subflow', async () => {
    const { parentId, childId } = await startParentOfPausedChild(t.runtime, 'test.engine', {
      parent: 'paused-parent',
      child: 'paused-child',
    })
    await t.runtime.engine.kill(parentId)
    expect((await t.runtime.engine.waitFor(parentId)).state.current).toBe('KILLED')
    expect((await t.runtime.engine.waitFor(childId)).state.current).toBe('KILLED')
  })
})

/** When a task run (or an attempt) was running: from its RUNNING entry to its end, in ms. */
function span(run: { state: StateInfo<string> }): [start: number, end: number] {
  const running = run.state.histories.find((entry) => entry.state === 'RUNNING')
  return [Date.parse(running?.date ?? run.state.startDate), Date.parse(run.state.endDate ?? '')]
}

/** True when each span starts at or after the previous one ended (no overlap), in start order. */
function inOrder(spans: Array<[number, number]>): boolean {
  const sorted = [...spans].sort((a, b) => a[0] - b[0])
  return sorted.every(([start], index) => index === 0 || start >= sorted[index - 1]![1])
}

describe('creating an execution', () => {
  it('stores it with its first task run in one commit, and stores nothing when that fails', async () => {
    const flow = flowYaml('created', 'test.engine.create', [echo('a', 'one'), echo('b', 'two')])
    await t.runtime.engine.saveFlow(flow)
    const store = t.runtime.store
    const commit = store.commit.bind(store)
    const creations: string[] = []
    let failNext = false
    store.commit = (changes) => {
      const execution = changes.execution
      if (execution?.flowId === 'created' && execution.state.current !== 'SUCCESS') {
        creations.push(
          `${execution.state.current} ${(changes.taskRuns ?? []).map((run) => `${run.taskId}:${run.state.current}`).join(' ')}`,
        )
        if (failNext) {
          failNext = false
          return Promise.reject(new Error('disk full'))
        }
      }
      return commit(changes)
    }
    try {
      const started = await t.runtime.engine.start({
        namespace: 'test.engine.create',
        flowId: 'created',
      })
      expect(started.state.current).toBe('CREATED')
      const ended = await t.runtime.engine.waitFor(started.id)
      expect(runStates(ended)).toBe('a:SUCCESS b:SUCCESS')
      // No commit of its own for CREATED: the first one already holds the first task run.
      expect(creations).toEqual(['RUNNING a:RUNNING'])

      failNext = true
      await expect(
        t.runtime.engine.start({ namespace: 'test.engine.create', flowId: 'created' }),
      ).rejects.toThrow('disk full')
      const stored = await store.listExecutions({ namespace: 'test.engine.create' }, 1, 10)
      expect(stored.results.map((execution) => execution.id)).toEqual([started.id])
    } finally {
      store.commit = commit
    }
  })
})
