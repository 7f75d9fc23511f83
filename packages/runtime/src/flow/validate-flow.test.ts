import { createExpressionEngine } from '@kite/expressions'
import { describe, expect, it } from 'vitest'
import { echo, flowYaml, task } from '../../test/fixtures/flows.js'
import { fixturePlugins } from '../../test/fixtures/plugins.js'
import { flowIssues } from '../../test/flow-issues.js'
import { parseConfig } from '../config.js'
import { createPluginCatalog } from '../plugins/plugin-catalog.js'
import { createPluginResolver } from '../plugins/plugin-resolver.js'
import { parseFlow } from './parse-flow.js'
import { pinsOf, validateFlow } from './validate-flow.js'

const expressions = createExpressionEngine()
const catalog = createPluginCatalog(fixturePlugins())
const resolver = createPluginResolver({ catalog })
const validate = (source: string, config?: Parameters<typeof parseConfig>[0]) =>
  validateFlow(parseFlow(source), {
    resolver: config ? createPluginResolver({ catalog, config: parseConfig(config) }) : resolver,
    expressions,
  })

const issuesOf = (source: string) => flowIssues(() => validate(source))

describe('validateFlow', () => {
  it('resolves every plugin task and records the set', () => {
    const validated = validate(
      flowYaml(
        'ok',
        'test',
        [
          task('a', 'test.fixtures.Add', { a: '{{ inputs.n }}' }),
          task('b', 'test.versioned.Hello', { version: '^1.0' }),
        ],
        {
          inputs: [{ id: 'n', type: 'INT' }],
          triggers: [
            {
              id: 'poll',
              type: 'test.fixtures.Poll',
              source: 'somewhere',
              conditions: [{ type: 'test.fixtures.Always' }],
            },
          ],
        },
      ),
    )
    expect(validated.tasks.get('a')?.resolved.version).toBe('1.0.0')
    expect(validated.tasks.get('b')?.resolved).toMatchObject({
      version: '1.2.0',
      decidedBy: 'task',
      versionSpec: '^1.0',
    })
    expect(
      validated.plugins.map((plugin) => [plugin.type, plugin.version, plugin.taskIds]),
    ).toEqual([
      ['test.fixtures.Add', '1.0.0', ['a']],
      ['test.versioned.Hello', '1.2.0', ['b']],
      ['test.fixtures.Poll', '1.0.0', ['trigger:poll']],
      ['test.fixtures.Always', '1.0.0', ['trigger:poll:condition:0']],
    ])
    expect(pinsOf(validated.plugins).get('b')?.version).toBe('1.2.0')
  })

  it('gives one error per problem with id, type, spec, deciding level and why', () => {
    const issues = issuesOf(`
id: bad
namespace: test
tasks:
  - id: unknown-type
    type: test.fixtures.Nope
  - id: wrong-types
    type: test.fixtures.Add
    a: one
    b: [2]
    extra: true
  - id: too-new
    type: test.versioned.Hello
    version: "^3"
  - id: missing
    type: test.versioned.Hello
  - id: bad-expression
    type: test.fixtures.Echo
    value: "{{ outputs.a.sum "
`)
    expect(issues).toHaveLength(7)
    const [unknown, extra, wrong, wrongB, tooNew, missing, syntax] = issues
    expect(unknown).toMatchObject({
      path: 'tasks[0]',
      line: 6,
      column: 11,
      taskId: 'unknown-type',
      type: 'test.fixtures.Nope',
    })
    expect(unknown?.message).toContain('unknown type "test.fixtures.Nope"')
    expect(wrong).toMatchObject({
      path: 'tasks[1].a',
      line: 9,
      column: 8,
      taskId: 'wrong-types',
      version: '1.0.0',
      versionSpec: 'LATEST',
      decidedBy: 'defaultVersion',
    })
    expect(wrong?.message).toBe(
      'task "wrong-types" (test.fixtures.Add 1.0.0, version "LATEST" decided by defaultVersion): invalid property: a: expected number, got string "one"',
    )
    expect(extra).toMatchObject({ path: 'tasks[1].extra', line: 11, column: 5 })
    expect(extra?.message).toContain('extra: unknown property; known in 1.0.0: a, b')
    expect(wrongB).toMatchObject({ path: 'tasks[1].b', line: 10 })
    expect(wrongB?.message).toContain('b: expected number, got array')
    expect(tooNew).toMatchObject({
      taskId: 'too-new',
      versionSpec: '^3',
      decidedBy: 'task',
      line: 14,
      column: 14,
    })
    expect(tooNew?.message).toContain('matches none of the installed versions 1.0.0, 1.2.0, 2.0.0')
    expect(missing?.message).toContain('name: is required')
    expect(syntax?.message).toContain('value: syntax error')
  })

  it('checks values holding expressions for syntax only, and skips $dynamic: false', () => {
    expect(() =>
      validate(
        flowYaml(
          'dynamic',
          'test',
          [
            task('a', 'test.fixtures.Add', { a: '{{ inputs.n }}' }),
            task('raw', 'test.fixtures.Raw', { template: '{{ not even closed' }),
          ],
          { inputs: [{ id: 'n', type: 'INT' }] },
        ),
      ),
    ).not.toThrow()
  })

  it('checks expression syntax in runIf, flowable tasks and flow outputs', () => {
    const issues = issuesOf(
      flowYaml(
        'syntax',
        'test',
        [
          task('check', 'kite.flow.If', {
            condition: '{{ 1 + }}',
            // biome-ignore lint/suspicious/noThenProperty: the If task's branch is named `then`
            then: [{ ...echo('a', 1), runIf: '{{ ( }}' }],
          }),
        ],
        { outputs: [{ id: 'x', value: '{{ outputs.a.value | nosuchfilter }}' }] },
      ),
    )
    expect(issues.map((issue) => issue.path)).toEqual([
      'tasks[0].condition',
      'tasks[0].then[0].runIf',
      'outputs[0].value',
    ])
    expect(issues[2]?.message).toContain('unknown filter')
  })

  it('applies plugin defaults before validating, and validates what they set', () => {
    const validated = validate(
      flowYaml('defaults', 'test.team', [task('a', 'test.fixtures.Add', { a: 1 })], {
        pluginDefaults: [{ type: 'test.fixtures.Add', values: { b: 5, timeout: 'PT2S' } }],
      }),
      {
        namespaces: {
          test: {
            pluginDefaults: [
              {
                type: 'test.fixtures',
                values: { a: 100, retry: { type: 'constant', interval: 'PT1S', maxAttempts: 2 } },
              },
            ],
          },
        },
      },
    )
    expect(validated.tasks.get('a')).toMatchObject({
      properties: { a: 1, b: 5 },
      timeoutMs: 2000,
      retry: { type: 'constant', maxAttempts: 2 },
    })
    expect(
      issuesOf(
        flowYaml('bad-defaults', 'test', [task('a', 'test.fixtures.Add', { a: 1 })], {
          pluginDefaults: [{ type: 'test.fixtures', values: { timeout: 'soon' } }],
        }),
      )[0]?.message,
    ).toContain(
      'timeout: must be an ISO-8601 duration such as PT30S, PT5M or PT1H (from pluginDefaults)',
    )
  })

  it('validates triggers and conditions: cron, time zone, plugin properties', () => {
    const issues = issuesOf(`
id: triggers
namespace: test
tasks:
  - id: a
    type: test.fixtures.Echo
    value: 1
triggers:
  - id: bad-cron
    type: kite.trigger.Schedule
    cron: "61 * * * *"
    timezone: Mars/Olympus
  - id: poll
    type: test.fixtures.Poll
  - id: hook
    type: kite.trigger.Webhook
    key: k
    conditions:
      - type: test.fixtures.Echo
`)
    expect(issues.map((issue) => issue.path)).toEqual([
      'triggers[0].cron',
      'triggers[0].timezone',
      'triggers[1].source',
      'triggers[2].conditions[0]',
    ])
    expect(issues[1]?.message).toContain('unknown time zone "Mars/Olympus"')
    expect(issues[2]?.message).toContain('source: is required')
    expect(issues[3]?.message).toContain('test.fixtures.Echo is a task, not a condition')
  })
})

describe('a flow id that is an action on executions', () => {
  it('validates, with a warning at the id: the API reads POST /executions/{ns}/kill as a kill', () => {
    for (const id of ['kill', 'resume', 'restart', 'replay']) {
      const validated = validate(flowYaml(id, 'test', [echo('a', 'x')]))
      expect(validated.warnings, id).toHaveLength(1)
      expect(validated.warnings[0], id).toMatchObject({ path: 'id', line: 1, column: 5 })
      expect(validated.warnings[0]?.message).toBe(
        `flow id "${id}" cannot be started through the HTTP API: POST /executions/test/${id} is read as the ${id} of an execution, so the UI's Run and \`kite executions start\` cannot start it (its triggers and Subflow tasks can); rename it`,
      )
    }
    for (const id of ['killer', 'replays', 'run']) {
      expect(validate(flowYaml(id, 'test', [echo('a', 'x')])).warnings, id).toEqual([])
    }
  })
})
