import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createExpressionEngine } from '@kite/expressions'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { echo, flowable, flowYaml, task } from '../../test/fixtures/flows.js'
import { fixturePlugins } from '../../test/fixtures/plugins.js'
import { flowIssues } from '../../test/flow-issues.js'
import { isRuntimeError, type ValidationIssue } from '../errors.js'
import { createPluginCatalog } from '../plugins/plugin-catalog.js'
import { createPluginResolver } from '../plugins/plugin-resolver.js'
import { loadPluginDirectory } from '../plugins/plugin-sources.js'
import { createFlowLocator } from './flow-positions.js'
import { parseFlow } from './parse-flow.js'
import { validateFlow } from './validate-flow.js'

const root = fileURLToPath(new URL('../../../..', import.meta.url))
const catalog = createPluginCatalog(fixturePlugins())
catalog.add(await loadPluginDirectory(join(root, 'examples/plugins/greeting')))
catalog.add(await loadPluginDirectory(join(root, 'examples/plugins/greeting/v2')))
const resolver = createPluginResolver({ catalog })
const expressions = createExpressionEngine()
const validate = (source: string) => validateFlow(parseFlow(source), { resolver, expressions })

const issuesOf = (source: string) => flowIssues(() => validate(source))

describe('typed expressions at save', () => {
  it('reports an unknown output field, an undefined input and a wrong variable: three problems, three errors', () => {
    const issues = issuesOf(`id: typed
namespace: test
inputs:
  - id: count
    type: INT
variables:
  greeting: Hello
tasks:
  - id: sum
    type: test.fixtures.Add
    a: "{{ inputs.countt }}"
  - id: show
    type: test.fixtures.Echo
    value: "{{ vars.greting }} {{ outputs.sum.summ }}"
`)
    expect(issues).toHaveLength(3)
    expect(issues[0]).toMatchObject({ path: 'tasks[0].a', taskId: 'sum', line: 11, column: 12 })
    expect(issues[0]?.message).toBe(
      'task "sum": {{ inputs.countt }}: unknown input "countt"; did you mean "count"? (declared inputs: count)',
    )
    expect(issues[1]).toMatchObject({ path: 'tasks[1].value', line: 14, column: 16 })
    expect(issues[1]?.message).toContain('unknown variable "greting"; did you mean "greeting"?')
    expect(issues[2]).toMatchObject({ path: 'tasks[1].value', line: 14, column: 35 })
    expect(issues[2]?.message).toBe(
      'task "show": {{ outputs.sum.summ }}: "summ" is not an output of task "sum" (test.fixtures.Add 1.0.0); did you mean "sum"? (outputs: sum)',
    )
  })

  it('knows which tasks exist and run before, and the known variables', () => {
    const issues = issuesOf(`id: order
namespace: test
tasks:
  - id: first
    type: test.fixtures.Echo
    value: "{{ outputs.later.value }} {{ outputs.first.value }} {{ outputs.nope.value }}"
  - id: later
    type: test.fixtures.Echo
    value: "{{ flow.nme }} {{ execution.id }} {{ inptus.x }} {{ uuidd() }}"
`)
    expect(issues.map((issue) => issue.message.replace(/^task "\w+": /, ''))).toEqual([
      '{{ outputs.later.value }}: task "later" runs after task "first", so its outputs do not exist yet',
      '{{ outputs.first.value }}: task "first" cannot read its own outputs',
      '{{ outputs.nope.value }}: no task "nope" in this flow',
      '{{ flow.nme }}: unknown key of "flow" "nme"; did you mean "name"? (keys of flow: id, namespace, revision)'.replace(
        '; did you mean "name"?',
        '',
      ),
      expect.stringContaining('unknown variable "inptus"; did you mean "inputs"?'),
      expect.stringContaining('unknown function "uuidd"; did you mean "uuid"?'),
    ])
  })

  it('never calls names known only at run time an error', () => {
    expect(() =>
      validate(
        flowYaml(
          'dynamic',
          'test',
          [
            task('rows', 'test.fixtures.Fetch', { rows: [1, 2] }),
            flowable(
              'each',
              'ForEach',
              [
                echo('inner', "{{ taskrun.value }} {{ parent.taskrun.value ?? '' }}"),
                echo('after-inner', '{{ outputs.inner[taskrun.value].value }}'),
              ],
              { values: ['a', 'b'] },
            ),
            echo(
              'read',
              "{{ outputs[inputs.which].value }} {{ outputs.inner.a.value }} {{ outputs.rows.size }} {{ outputs.missing.x | default('none') }} {{ vars.nope is defined }} {{ inputs.other ?? 1 }} {% for row in outputs.rows.value %}{{ row.name ~ loop.index }}{% endfor %} {% set total = vars.settings.a %}{{ total.deeper }} {{ envs.home }} {{ labels.team }} {{ secret('token') }} {{ now() }} {{ vars.settings.whatever }}",
            ),
            task('raw', 'test.fixtures.Raw', { template: '{{ not.checked.at.save }}' }),
            flowable('together', 'Parallel', [
              echo('left', '{{ outputs.right.value ?? 0 }} {{ outputs.right.value }}'),
              echo('right', 1),
            ]),
          ],
          {
            inputs: [{ id: 'which', type: 'STRING' }],
            variables: { settings: { a: 1 } },
            outputs: [{ id: 'last', value: '{{ outputs.read.value }}' }],
          },
        ),
      ),
    ).not.toThrow()
  })

  it('checks trigger outputs against the triggers the flow has, and what a Subflow call passes', () => {
    const source = (expression: string) => `id: triggered
namespace: test
tasks:
  - id: a
    type: test.fixtures.Echo
    value: "${expression}"
triggers:
  - id: every-minute
    type: kite.trigger.Schedule
    cron: "* * * * *"
  - id: poll
    type: test.fixtures.Poll
    source: somewhere
`
    expect(() =>
      validate(source('{{ trigger.date }} {{ trigger.item }} {{ trigger.flowId }}')),
    ).not.toThrow()
    const [issue] = issuesOf(source('{{ trigger.dat }}'))
    expect(issue?.message).toContain('unknown trigger output "dat"; did you mean "date"?')
    const noTriggers = `id: plain
namespace: test
tasks:
  - id: a
    type: test.fixtures.Echo
    value: "{{ trigger.executionId }} {{ trigger.body }}"
`
    expect(issuesOf(noTriggers).map((found) => found.message)).toEqual([
      expect.stringContaining('"trigger" is set only when it runs as a subflow'),
    ])
  })

  it('says which installed version knows a property the resolved one does not', () => {
    const issues = issuesOf(`id: upgrade
namespace: test
tasks:
  - id: greet
    type: acme.greeting.Hello
    version: "2.0.0"
    name: Ada
`)
    expect(issues).toEqual([
      expect.objectContaining({ path: 'tasks[0].name', line: 7, column: 5, version: '2.0.0' }),
    ])
    expect(issues[0]?.message).toContain(
      'name: unknown property in version 2.0.0; "name" exists in @acme/kite-plugin-greeting 1.0.0: pin version "1.0.0" or update the flow',
    )
    expect(issues[0]?.message).toContain('known in 2.0.0: who, greeting')
  })

  it('reports syntax errors and type errors together, each at its place', () => {
    const issues = issuesOf(`id: mixed
namespace: test
tasks:
  - id: a
    type: test.fixtures.Echo
    value: |
      first line
        {{ inputs.missing }} and {{ oops(
`)
    expect(issues).toHaveLength(1)
    expect(issues[0]).toMatchObject({ path: 'tasks[0].value' })
    expect(issues[0]?.message).toContain('syntax error')
    const typed = issuesOf(`id: block
namespace: test
tasks:
  - id: a
    type: test.fixtures.Echo
    value: |
      first line
        then {{ inputs.missing }}
`)
    expect(typed[0]).toMatchObject({ line: 8, column: 17 })
  })
})

describe('garbage in expressions (property)', () => {
  it('gives a flow error or a valid flow, never a crash', () => {
    const piece = fc.constantFrom(
      '{{ ',
      ' }}',
      '{% ',
      ' %}',
      'outputs',
      'inputs',
      'vars',
      '.',
      'a',
      '[',
      ']',
      '(',
      ')',
      ' | ',
      ' ?? ',
      "'",
      'x',
      '0',
    )
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 20 }), (parts) => {
        const value = JSON.stringify(parts.join(''))
        try {
          validate(
            `id: g\nnamespace: test\ntasks:\n  - id: a\n    type: test.fixtures.Echo\n    value: ${value}\n`,
          )
        } catch (error) {
          expect(isRuntimeError(error) && error.code).toBe('FLOW_INVALID')
          for (const issue of (error as { issues: ValidationIssue[] }).issues) {
            expect(issue.line).toBeGreaterThanOrEqual(1)
            expect(issue.column).toBeGreaterThanOrEqual(1)
          }
        }
      }),
      { numRuns: 60 },
    )
  })
})

describe('positions inside values (property)', () => {
  const name = fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/)
  const filler = fc.stringMatching(/^[a-zA-Z ,.]{0,10}$/)
  const style = fc.constantFrom('plain', 'double', 'single', 'literal')

  it('maps a reference inside a string back to where it is written in the YAML', () => {
    fc.assert(
      fc.property(
        style,
        filler,
        name,
        filler,
        fc.nat({ max: 3 }),
        (form, before, key, after, depth) => {
          const template = `${before.trim() ? `x${before}` : ''}{{ inputs.${key} }}${after}`
          const indent = '  '.repeat(depth + 2)
          let value: string
          if (form === 'plain') value = template.startsWith('{') ? `"${template}"` : template
          else if (form === 'double') value = `"${template}"`
          else if (form === 'single') value = `'${template}'`
          else value = `|\n${indent}  lead\n${indent}  ${template}`
          const yaml = `id: f\nnamespace: n\ntasks:\n  - id: a\n    type: x.y.Z\n    value: ${value}\n`
          const locator = createFlowLocator(yaml)
          const line = form === 'literal' ? 2 : 1
          const column = template.indexOf('inputs') + 1
          const position = locator.inValue(['tasks', 0, 'value'], line, column)
          expect(position).toBeDefined()
          const text = yaml.split('\n')[(position?.line ?? 0) - 1] ?? ''
          expect(text.slice((position?.column ?? 0) - 1)).toMatch(new RegExp(`^inputs\\.${key}`))
        },
      ),
    )
  })

  it('falls back to the start of the value where characters do not map one to one', () => {
    const yaml =
      'id: f\nnamespace: n\ntasks:\n  - id: a\n    type: x.y.Z\n    value: "a\\tb {{ inputs.x }}"\n'
    expect(createFlowLocator(yaml).inValue(['tasks', 0, 'value'], 1, 10)).toEqual({
      line: 6,
      column: 12,
    })
    expect(createFlowLocator(yaml).at(['tasks', 0, 'nothing', 'here'])).toEqual({
      line: 4,
      column: 5,
    })
  })
})
