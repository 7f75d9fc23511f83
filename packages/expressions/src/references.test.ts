import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isExpressionError } from './expression-error'
import { expressionReferences } from './references'

const refs = (template: string) =>
  expressionReferences(template).map(({ root, path, dynamic, guarded }) => ({
    root,
    path,
    dynamic,
    guarded,
  }))

describe('expressionReferences', () => {
  it('lists the roots and literal keys an expression reads, with positions', () => {
    expect(expressionReferences('status {{ outputs.fetch.code }}')).toEqual([
      {
        root: 'outputs',
        path: ['fetch', 'code'],
        dynamic: false,
        guarded: false,
        called: false,
        line: 1,
        column: 11,
        text: 'outputs.fetch.code',
      },
    ])
    const [second] = expressionReferences('a\n  {{ inputs["my-name"] }}')
    expect(second).toMatchObject({ root: 'inputs', path: ['my-name'], line: 2, column: 6 })
  })

  it('stops at computed keys and reports what they read', () => {
    expect(refs('{{ outputs[vars.task].body }}')).toEqual([
      { root: 'vars', path: ['task'], dynamic: false, guarded: false },
      { root: 'outputs', path: [], dynamic: true, guarded: false },
    ])
    expect(refs('{{ outputs.each[taskrun.value].n }}')).toEqual([
      { root: 'taskrun', path: ['value'], dynamic: false, guarded: false },
      { root: 'outputs', path: ['each'], dynamic: true, guarded: false },
    ])
    expect(refs('{{ outputs.list[0].name }}')[0]?.path).toEqual(['list', 0, 'name'])
  })

  it('marks references that tolerate a missing value', () => {
    expect(
      refs('{{ inputs.x | default("a") }} {{ vars.y is defined }} {{ trigger.z ?? 1 }}'),
    ).toEqual([
      { root: 'inputs', path: ['x'], dynamic: false, guarded: true },
      { root: 'vars', path: ['y'], dynamic: false, guarded: true },
      { root: 'trigger', path: ['z'], dynamic: false, guarded: true },
    ])
    expect(refs('{{ inputs.x | upper }}')[0]?.guarded).toBe(false)
  })

  it('ignores names the template defines and literal dict keys', () => {
    const template =
      '{% set total = inputs.n %}{% for item in vars.items %}{{ item.name ~ loop.index ~ total }}{% endfor %}' +
      '{% macro m(a, b=execution.id) %}{{ a ~ b }}{% endmacro %}{{ m(1) }}{{ {key: flow.id} | json }}'
    expect(refs(template).map((ref) => ref.root)).toEqual(['inputs', 'vars', 'execution', 'flow'])
  })

  it('tells calls from reads and walks their arguments', () => {
    const found = expressionReferences(
      "{{ secret('token') }} {{ now() | date('yyyy') }} {{ envs.home }}",
    )
    expect(found.map((ref) => [ref.root, ref.called])).toEqual([
      ['secret', true],
      ['now', true],
      ['envs', false],
    ])
  })

  it('finds references in tags, filters arguments and operators', () => {
    const template =
      '{% if inputs.a > 1 and not vars.b %}{{ task.id | replace(taskrun.value, labels.x) }}{% else %}{{ -parent.n }}{% endif %}'
    expect(refs(template).map((ref) => ref.root)).toEqual([
      'inputs',
      'vars',
      'task',
      'taskrun',
      'labels',
      'parent',
    ])
  })

  it('throws a syntax error with a position for a template that does not parse', () => {
    let error: unknown
    try {
      expressionReferences('{{ outputs. }}')
    } catch (caught) {
      error = caught
    }
    expect(isExpressionError(error) && error.code).toBe('EXPRESSION_SYNTAX')
  })

  it('answers garbage with a syntax error or a list, never a crash (property)', () => {
    const piece = fc.constantFrom(
      '{{',
      '}}',
      '{%',
      '%}',
      '{#',
      '#}',
      'outputs',
      '.',
      '[',
      ']',
      '(',
      ')',
      '|',
      '??',
      "'",
      '"',
      'for',
      'in',
      'set',
      '=',
      'x',
      ' ',
      '\n',
      '1',
    )
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(piece, { maxLength: 30 }).map((parts) => parts.join('')),
        ),
        (template) => {
          try {
            const found = expressionReferences(template)
            for (const reference of found) {
              expect(reference.line).toBeGreaterThanOrEqual(1)
              expect(reference.column).toBeGreaterThanOrEqual(1)
              expect(typeof reference.root).toBe('string')
            }
          } catch (error) {
            expect(isExpressionError(error) && error.code).toMatch(/^EXPRESSION_(SYNTAX|LIMIT)$/)
          }
        },
      ),
    )
  })

  it('finds every reference it is given, wherever it sits (property)', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/).filter((s) => !KEYWORDS.has(s))
    const text = fc.stringMatching(/^[a-zA-Z0-9 .,:\n-]{0,12}$/)
    fc.assert(
      fc.property(
        fc.array(fc.tuple(text, name, fc.array(name, { maxLength: 3 })), {
          minLength: 1,
          maxLength: 4,
        }),
        text,
        (parts, tail) => {
          let template = ''
          const expected: Array<{ root: string; path: string[]; line: number; column: number }> = []
          for (const [before, root, path] of parts) {
            template += `${before}{{ `
            const lines = template.split('\n')
            expected.push({ root, path, line: lines.length, column: lines.at(-1)!.length + 1 })
            template += `${[root, ...path].join('.')} }}`
          }
          template += tail
          const found = expressionReferences(template).map(({ root, path, line, column }) => ({
            root,
            path,
            line,
            column,
          }))
          expect(found).toEqual(expected)
        },
      ),
    )
  })
})

const KEYWORDS = new Set([
  'and',
  'or',
  'not',
  'in',
  'is',
  'if',
  'else',
  'true',
  'false',
  'none',
  'null',
  'True',
  'False',
  'None',
])
