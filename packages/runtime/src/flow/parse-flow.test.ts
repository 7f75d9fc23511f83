import { describe, expect, it } from 'vitest'
import { flowYaml, task } from '../../test/fixtures/flows.js'
import { flowIssues } from '../../test/flow-issues.js'
import { allTasks } from './flow-model.js'
import { formatPath, parseFlow, parsePath } from './parse-flow.js'

const issuesOf = (source: string) => flowIssues(() => parseFlow(source))

describe('parseFlow', () => {
  it('parses a full flow with nested flowable tasks, triggers and defaults', () => {
    const flow = parseFlow(`
id: hello
namespace: company.team
description: Pinning example
labels: { env: dev }
inputs:
  - id: name
    type: STRING
    defaults: world
variables:
  greeting: Hello
pluginDefaults:
  - type: kite.http
    values:
      version: "^1.2"
tasks:
  - id: get
    type: kite.http.Request
    version: "1.2.0"
    uri: "http://127.0.0.1:8080/api/v1/health"
    retry: { type: exponential, interval: PT1S, maxAttempts: 3 }
  - id: each
    type: kite.flow.ForEach
    values: [1, 2]
    tasks:
      - id: inner
        type: kite.core.log.Log
        message: "{{ taskrun.value }}"
errors:
  - id: alert
    type: kite.core.log.Log
    message: failed
triggers:
  - id: every-minute
    type: kite.trigger.Schedule
    cron: "* * * * *"
  - id: hook
    type: kite.trigger.Webhook
    key: abc
`)
    expect(flow.id).toBe('hello')
    expect(flow.labels).toEqual({ env: 'dev' })
    expect(flow.inputs[0]).toMatchObject({
      id: 'name',
      type: 'STRING',
      required: true,
      defaults: 'world',
    })
    expect(flow.pluginDefaults).toEqual([
      { type: 'kite.http', values: { version: '^1.2' }, forced: false },
    ])
    const [get, each] = flow.tasks
    expect(get).toMatchObject({
      kind: 'plugin',
      version: '1.2.0',
      properties: { uri: 'http://127.0.0.1:8080/api/v1/health' },
      retry: { type: 'exponential', delayFactor: 2, maxAttempts: 3 },
      path: 'tasks[0]',
      line: 17,
    })
    expect(each).toMatchObject({ kind: 'forEach', concurrencyLimit: 1, path: 'tasks[1]' })
    expect(allTasks(flow).map((task) => task.id)).toEqual(['get', 'each', 'inner', 'alert'])
    expect(flow.triggers.map((trigger) => trigger.kind)).toEqual(['schedule', 'webhook'])
  })

  it('accepts labels as a list of key/value pairs', () => {
    const flow = parseFlow(
      flowYaml('f', 'n', [task('a', 'x.y.Z')], { labels: [{ key: 'team', value: 'core' }] }),
    )
    expect(flow.labels).toEqual({ team: 'core' })
  })

  it('reports invalid YAML with its line', () => {
    const [issue] = issuesOf('id: f\nnamespace: n\ntasks:\n  - id: a\n    type: [unclosed\n')
    expect(issue?.message).toMatch(/^invalid YAML/)
    expect(issue?.line).toBeGreaterThanOrEqual(5)
  })

  it('points a YAML syntax error at the quote that is never closed, not the end of the file', () => {
    const [quote] = issuesOf('id: f\nnamespace: "n\ntasks:\n  - id: a\n    type: x.y.Z\n')
    expect(quote).toMatchObject({ line: 2, column: 12 })
    expect(quote?.message).toContain('never closed')
    const [single] = issuesOf("id: f\nnamespace: n\ntasks:\n  - id: 'a\n    type: x.y.Z\n")
    expect(single).toMatchObject({ line: 4, column: 9 })
    const [indent] = issuesOf(
      'id: f\nnamespace: n\ntasks:\n  - id: a\n    type: x.y.Z\n   bad: 1\n',
    )
    expect(indent).toMatchObject({ line: 6, column: 1 })
  })

  it('points at the property, not at the task', () => {
    const issues = issuesOf(`id: f
namespace: n
tasks:
  - id: a
    type: kite.flow.Sequential
    concurrent: 2
    tasks:
      - id: b
        type: x.y.Z
  - id: c
    type: x.y.Z
    timeout: soon
`)
    expect(issues).toEqual([
      expect.objectContaining({ path: 'tasks[0].concurrent', line: 6, column: 5 }),
      expect.objectContaining({ path: 'tasks[1].timeout', line: 12, column: 14 }),
    ])
  })

  it('reports a wrong type with the YAML path and line', () => {
    const issues = issuesOf(`id: f
namespace: n
tasks:
  - id: a
    type: x.y.Z
  - id: b
    type: x.y.Z
  - id: c
    type: x.y.Z
    retry:
      type: constant
      interval: PT1S
      maxAttempts: lots
`)
    expect(issues).toEqual([
      {
        path: 'tasks[2].retry.maxAttempts',
        line: 13,
        column: 20,
        message: 'expected number, received string',
      },
    ])
  })

  it('reports unknown keys at their line, suggesting the known one', () => {
    const issues = issuesOf(`id: f
namespace: n
taks: []
tasks:
  - id: a
    type: kite.flow.Sequential
    tasks:
      - id: b
        type: x.y.Z
    tsks: []
`)
    expect(issues).toEqual([
      { path: 'taks', line: 3, column: 1, message: 'unknown key "taks" (did you mean "tasks"?)' },
      {
        path: 'tasks[0].tsks',
        line: 10,
        column: 5,
        message: 'unknown key "tsks" (did you mean "tasks"?)',
      },
    ])
  })

  it('reports duplicate task ids, nested ones included', () => {
    const issues = issuesOf(`id: f
namespace: n
tasks:
  - id: a
    type: x.y.Z
  - id: group
    type: kite.flow.Parallel
    tasks:
      - id: a
        type: x.y.Z
finally:
  - id: group
    type: x.y.Z
`)
    expect(issues.map((issue) => [issue.path, issue.line])).toEqual([
      ['tasks[1].tasks[0].id', 9],
      ['finally[0].id', 12],
    ])
    expect(issues[0]?.message).toContain('duplicate task id "a" (already used at tasks[0])')
  })

  it('checks ids, namespaces, required keys, durations and inputs', () => {
    const issues = issuesOf(`id: "bad id!"
namespace: Company.Team
inputs:
  - id: colour
    type: ENUM
  - id: n
    type: NUMBER
tasks:
  - id: a.b
    type: x.y.Z
    timeout: 10s
  - type: x.y.Z
  - id: c
    type: kite.flow.Teleport
`)
    const byPath = Object.fromEntries(issues.map((issue) => [issue.path, issue.message]))
    expect(byPath.id).toContain('must be letters, digits')
    expect(byPath.namespace).toContain('dotted lower-case')
    expect(byPath['inputs[0].values']).toBe('an ENUM input needs its values')
    expect(byPath['inputs[1].type']).toContain('must be one of STRING')
    expect(byPath['tasks[0].id']).toContain('must be letters, digits, "_" or "-"')
    expect(byPath['tasks[0].timeout']).toContain('ISO-8601 duration')
    expect(byPath['tasks[1].id']).toBe('is required')
    expect(byPath['tasks[2].type']).toContain('unknown flowable type "kite.flow.Teleport"')
  })

  it('refuses an empty flow, a non-mapping and a flow without tasks', () => {
    expect(() => parseFlow('   ')).toThrow('the flow is empty')
    expect(issuesOf('- a\n- b')[0]?.message).toContain('a flow must be a YAML mapping')
    expect(issuesOf('id: f\nnamespace: n\ntasks: []\n')).toEqual([
      { path: 'tasks', line: 3, column: 8, message: 'needs at least one task' },
    ])
  })

  it('formats and parses paths', () => {
    expect(formatPath(['tasks', 2, 'retry', 'maxAttempts'])).toBe('tasks[2].retry.maxAttempts')
    expect(formatPath(['cases', 'a b', 0])).toBe('cases["a b"][0]')
    expect(parsePath('tasks[2].cases["a b"][0]')).toEqual(['tasks', 2, 'cases', 'a b', 0])
  })
})
