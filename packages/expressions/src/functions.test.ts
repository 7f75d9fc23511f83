import { describe, expect, it } from 'vitest'
import { renderError } from '../test/thrown'
import { BUILTIN_FUNCTIONS, createExpressionEngine } from './index'

const engine = createExpressionEngine()

const tested = new Set<string>()
function fn(name: string, body: () => void) {
  tested.add(name)
  it(name, body)
}

describe('built-in functions', () => {
  fn('now', () => {
    const before = Date.now()
    const value = engine.render('{{ now() }}', {})
    expect(value).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
    const time = Date.parse(value as string)
    expect(time).toBeGreaterThanOrEqual(before)
    expect(time).toBeLessThanOrEqual(Date.now())
    expect(engine.render('{{ now() | date("yyyy") }}', {})).toBe(
      String(new Date().getUTCFullYear()),
    )
  })

  fn('uuid', () => {
    const first = engine.render('{{ uuid() }}', {})
    const second = engine.render('{{ uuid() }}', {})
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(second).not.toBe(first)
  })

  fn('range', () => {
    expect(engine.render('{{ range(3) }}', {})).toEqual([0, 1, 2])
    expect(engine.render('{{ range(1, 7, 2) }}', {})).toEqual([1, 3, 5])
    expect(engine.render('{{ range(5, 0, -2) }}', {})).toEqual([5, 3, 1])
    expect(engine.render('{{ range(0) }}', {})).toEqual([])
    expect(engine.render('{% for i in range(2, 5) %}{{ i }}{% endfor %}', {})).toBe('234')
    const tooLong = renderError('{{ range(2000000) }}')
    expect(tooLong.code).toBe('EXPRESSION_LIMIT')
    expect(tooLong.message).toBe(
      'range() is too long in "{{ range(2000000) }}" (line 1): 2000000 items is more than the limit of 1000000',
    )
    expect(renderError('{{ range(1, 2, 0) }}').message).toContain('step must not be 0')
  })

  fn('render', () => {
    const vars = { greeting: 'Hello {{ name }}', name: 'Kite', count: '{{ n }}', n: 3 }
    expect(engine.render('{{ render(greeting) }}!', vars)).toBe('Hello Kite!')
    // a nested single expression keeps its native value
    expect(engine.render('{{ render(count) + 1 }}', vars)).toBe(4)
    expect(engine.render('{{ render(5) }}', {})).toBe(5)
    expect(engine.render('{{ render("plain") }}', {})).toBe('plain')
    // top-level {% set %} variables are visible to the nested template
    expect(engine.render('{% set who = "you" %}{{ render("hi {{ who }}") }}', {})).toBe('hi you')
    const loop = renderError('{{ render(self) }}', { self: '{{ render(self) }}' })
    expect(loop.code).toBe('EXPRESSION_LIMIT')
    expect(loop.message).toBe('render() is nested more than 10 levels deep at "{{ render(self) }}"')
  })

  fn('fromJson', () => {
    expect(engine.render('{{ fromJson(text).a[1] }}', { text: '{"a":[1,2]}' })).toBe(2)
    const error = renderError('{{ fromJson("{") }}')
    expect(error.code).toBe('EXPRESSION_FUNCTION')
    expect(error.message).toContain(
      'fromJson() failed in "{{ fromJson("{") }}" (line 1): invalid JSON',
    )
  })

  fn('json', () => {
    expect(engine.render('{{ json(value) }}', { value: { a: [1, null] } })).toBe('{"a":[1,null]}')
    expect(engine.render('{{ json(value, 1) }}', { value: [1] })).toBe('[\n 1\n]')
    expect(engine.render('{{ json(when) }}', { when: new Date(0) })).toBe(
      '"1970-01-01T00:00:00.000Z"',
    )
  })

  fn('toJson', () => {
    expect(engine.render('{{ toJson(value) }}', { value: new Map([['k', 1]]) })).toBe('{"k":1}')
  })

  fn('randomInt', () => {
    const seen = new Set<unknown>()
    for (let i = 0; i < 200; i++) seen.add(engine.render('{{ randomInt(1, 4) }}', {}))
    expect([...seen].sort()).toEqual([1, 2, 3])
    expect(renderError('{{ randomInt(5, 5) }}').message).toContain(
      'max (5) must be greater than min (5)',
    )
    expect(renderError('{{ randomInt(1.5, 5) }}').message).toContain('min must be a whole number')
  })

  fn('timestamp', () => {
    expect(engine.render('{{ timestamp("2024-01-01T00:00:00Z") }}', {})).toBe(1704067200)
    const now = engine.render('{{ timestamp() }}', {}) as number
    expect(Math.abs(now - Date.now() / 1000)).toBeLessThan(5)
  })

  fn('max', () => {
    expect(engine.render('{{ max(1, 5, 3) }}', {})).toBe(5)
    expect(engine.render('{{ max(values) }}', { values: [2, 9, 4] })).toBe(9)
    expect(renderError('{{ max() }}').message).toContain('max() needs at least one value')
  })

  fn('min', () => {
    expect(engine.render('{{ min(4, -1, 3) }}', {})).toBe(-1)
    expect(engine.render('{{ min(["b", "a"]) }}', {})).toBe('a')
  })

  fn('cycler', () => {
    expect(
      engine.render(
        '{% set c = cycler("odd", "even") %}{{ c.next() }} {{ c.next() }} {{ c.next() }}',
        {},
      ),
    ).toBe('odd even odd')
  })

  fn('joiner', () => {
    expect(
      engine.render(
        '{% set sep = joiner(", ") %}{% for x in [1, 2, 3] %}{{ sep() }}{{ x }}{% endfor %}',
        {},
      ),
    ).toBe('1, 2, 3')
  })

  it('has a test for every built-in function', () => {
    expect([...tested].sort()).toEqual([...BUILTIN_FUNCTIONS])
  })

  it('accepts arguments by name', () => {
    expect(engine.render('{{ range(stop=3, start=1) }}', {})).toEqual([1, 2])
    expect(renderError('{{ range(end=3) }}').message).toContain(
      'range() has no argument "end" (it takes start, stop, step)',
    )
  })
})
