import { describe, expect, it } from 'vitest'
import { renderError as renderErrorWith, thrown } from '../test/thrown'
import {
  BUILTIN_FUNCTIONS,
  createExpressionEngine,
  type ExpressionContext,
  type ExpressionErrorCode,
  hasExpression,
  isExpressionError,
} from './index'

const engine = createExpressionEngine()

const context: ExpressionContext = {
  outputs: { fetch: { code: 200, headers: { 'content-type': 'text/plain' } }, list: [1, 2, 3] },
  inputs: { name: 'Kite', enabled: true, ratio: 0.5 },
  nothing: null,
}

const renderError = (template: string, vars: ExpressionContext = context, eng = engine) =>
  renderErrorWith(template, vars, eng)

describe('native-value rule', () => {
  it.each([
    ['{{ outputs.fetch.code }}', 200],
    ['{{ inputs.enabled }}', true],
    ['{{ inputs.ratio * 4 }}', 2],
    ['{{ outputs.fetch }}', { code: 200, headers: { 'content-type': 'text/plain' } }],
    ['{{ outputs.list }}', [1, 2, 3]],
    ['{{ nothing }}', null],
    ['{{ none }}', null],
    ['{{ inputs.name }}', 'Kite'],
    ['{{ [inputs.ratio, "x"] }}', [0.5, 'x']],
    ['{{ {"n": outputs.fetch.code} }}', { n: 200 }],
    ['  {{ outputs.fetch.code }}\n', 200],
    ['{{- outputs.fetch.code -}}', 200],
  ])('render(%j) is the native value', (template, expected) => {
    expect(engine.render(template, context)).toEqual(expected)
  })

  it.each([
    ['code {{ outputs.fetch.code }}', 'code 200'],
    ['{{ outputs.fetch.code }}{{ outputs.fetch.code }}', '200200'],
    ['{{ outputs.fetch.code }} {{ inputs.enabled }}', '200 true'],
    ['[{{ nothing }}]', '[]'],
    ['{{ outputs.list }}!', '[1,2,3]!'],
    ['{% if inputs.enabled %}{{ outputs.fetch.code }}{% endif %}', '200'],
    ['{{ outputs.fetch.code }}{# note #}', '200'],
  ])('render(%j) is text', (template, expected) => {
    expect(engine.render(template, context)).toBe(expected)
  })

  it('returns the value itself, not a copy', () => {
    expect(engine.render('{{ outputs.list }}', context)).toBe(
      (context.outputs as { list: unknown }).list,
    )
  })

  it('returns strings without an expression unchanged, whatever they contain', () => {
    for (const text of ['plain', '', 'a } b %} c {', 'price: {100}', '{ "json": true }']) {
      expect(engine.render(text, context)).toBe(text)
      expect(engine.renderString(text, context)).toBe(text)
    }
  })

  it('renderString always renders text', () => {
    expect(engine.renderString('{{ outputs.fetch.code }}', context)).toBe('200')
    expect(engine.renderString('{{ inputs.enabled }}', context)).toBe('true')
    expect(engine.renderString('{{ outputs.list }}', context)).toBe('[1,2,3]')
    expect(engine.renderString('{{ outputs.fetch }}', context)).toBe(
      '{"code":200,"headers":{"content-type":"text/plain"}}',
    )
    expect(engine.renderString('{{ nothing }}', context)).toBe('')
    expect(engine.renderString('{{ when }}', { when: new Date(0) })).toBe(
      '1970-01-01T00:00:00.000Z',
    )
  })

  it('unwraps the marked-safe strings macros return', () => {
    expect(engine.render('{% macro m() %}hi{% endmacro %}{{ m() }}', {})).toBe('hi')
    const value = engine.render('{{ m() }}', { m: () => 'x' })
    expect(value).toBe('x')
  })
})

describe('hasExpression', () => {
  it.each([
    ['{{ x }}', true],
    ['a {% if x %}b{% endif %}', true],
    ['{# note #}', true],
    ['plain', false],
    ['{ x }', false],
    ['{', false],
    ['', false],
  ])('%j → %s', (value, expected) => {
    expect(hasExpression(value)).toBe(expected)
    expect(engine.hasExpression(value)).toBe(expected)
  })
})

describe('statements and operators', () => {
  it.each([
    ['{% set x = 5 %}{{ x + 1 }}', '6'],
    ['{% set s %}hi {{ inputs.name }}{% endset %}{{ s | upper }}', 'HI KITE'],
    [
      '{% for i in outputs.list %}{{ loop.index }}:{{ i }}{% if not loop.last %},{% endif %}{% endfor %}',
      '1:1,2:2,3:3',
    ],
    ['{% for k, v in {"a": 1, "b": 2} %}{{ k }}={{ v }};{% endfor %}', 'a=1;b=2;'],
    ['{% for x in [] %}x{% else %}empty{% endfor %}', 'empty'],
    [
      '{% if outputs.fetch.code == 200 %}ok{% elif outputs.fetch.code < 500 %}client{% else %}server{% endif %}',
      'ok',
    ],
    [
      '{% macro greet(who, mark="!") %}Hi {{ who }}{{ mark }}{% endmacro %}{{ greet("a") }} {{ greet("b", mark="?") }}',
      'Hi a! Hi b?',
    ],
    ['{% macro wrap() %}[{{ caller() }}]{% endmacro %}{% call wrap() %}in{% endcall %}', '[in]'],
    ['{% filter upper %}hello {{ inputs.name }}{% endfilter %}', 'HELLO KITE'],
    ['{% raw %}{{ not rendered }}{% endraw %}', '{{ not rendered }}'],
    ['a {{- " b " -}} c', 'a b c'],
    ['{{ "yes" if inputs.enabled else "no" }}', 'yes'],
    ['{{ inputs.name ~ "!" }} {{ 7 // 2 }} {{ 2 ** 3 }} {{ 7 % 3 }}', 'Kite! 3 8 1'],
    ['{{ 2 in outputs.list }} {{ "x" not in outputs.list }}', 'true true'],
    ['{{ outputs.fetch.headers["content-type"] }}', 'text/plain'],
    ['{{ inputs.name.toUpperCase() }} {{ outputs.list.length }}', 'KITE 3'],
    ['{% switch inputs.name %}{% case "Kite" %}k{% default %}d{% endswitch %}', 'k'],
    [
      '{{ missing is defined }} {{ nothing is none }} {{ [] is empty }} {{ 4 is even }}',
      'false true true true',
    ],
    ['{{ nothing is null }} {{ inputs is mapping }} {{ 9 is divisibleby(3) }}', 'true true true'],
  ])('%s', (template, expected) => {
    expect(engine.render(template, context)).toBe(expected)
  })

  it('?? takes the right side only when the left is undefined or null', () => {
    expect(engine.render('{{ missing ?? "d" }}', context)).toBe('d')
    expect(engine.render('{{ nothing ?? "d" }}', context)).toBe('d')
    expect(engine.render('{{ outputs.fetch.body ?? outputs.fetch.code }}', context)).toBe(200)
    expect(engine.render('{{ a ?? b ?? "last" }}', {})).toBe('last')
    expect(engine.render('{{ zero ?? 5 }}', { zero: 0 })).toBe(0)
    expect(engine.render('{{ "n: " ~ missing ?? "none" }}', {})).toBe('n: none')
    expect(engine.render('{% if missing ?? true %}yes{% endif %}', {})).toBe('yes')
  })

  it('?? does not evaluate the right side when not needed', () => {
    let calls = 0
    const count = () => ++calls
    expect(engine.render('{{ present ?? count() }}', { present: 'p', count })).toBe('p')
    expect(calls).toBe(0)
    expect(engine.render('{{ missing ?? count() }}', { count })).toBe(1)
  })

  it('keeps undefined-tolerant forms working', () => {
    expect(engine.render('{{ missing | default("d") }}', {})).toBe('d')
    expect(engine.render('{{ outputs.nope.deeper | d("d") }}', context)).toBe('d')
    expect(engine.render('{% if missing %}a{% else %}b{% endif %}', {})).toBe('b')
    expect(engine.render('{% if outputs.nope is defined %}a{% else %}b{% endif %}', context)).toBe(
      'b',
    )
    expect(engine.render('{{ missing or "fallback" }}', {})).toBe('fallback')
    expect(engine.render('{% set y = missing %}{{ y is undefined }}', {})).toBe('true')
  })
})

describe('renderDeep', () => {
  it('renders every string value of objects and arrays, keeping keys and other values', () => {
    const when = new Date(0)
    const input = {
      url: 'https://api/{{ inputs.name | lower }}',
      code: '{{ outputs.fetch.code }}',
      '{{ key }}': 'kept key',
      nested: { list: ['{{ inputs.enabled }}', 3, null, { deep: '{{ outputs.list }}' }] },
      flag: false,
      count: 7,
      when,
    }
    const output = engine.renderDeep(input, context) as Record<string, unknown>
    expect(output).toEqual({
      url: 'https://api/kite',
      code: 200,
      '{{ key }}': 'kept key',
      nested: { list: [true, 3, null, { deep: [1, 2, 3] }] },
      flag: false,
      count: 7,
      when,
    })
    expect(output.when).toBe(when)
    expect(output).not.toBe(input)
    expect(input.url).toBe('https://api/{{ inputs.name | lower }}')
  })

  it('renders a lone string and keeps non-plain objects as they are', () => {
    class Box {
      label = '{{ inputs.name }}'
    }
    const box = new Box()
    expect(engine.renderDeep('{{ inputs.name }}', context)).toBe('Kite')
    expect(engine.renderDeep(box, context)).toBe(box)
    expect(engine.renderDeep(42, context)).toBe(42)
    expect(engine.renderDeep(undefined, context)).toBeUndefined()
  })

  it('stops at maxDepth levels of nesting', () => {
    let deep: unknown = 'end'
    for (let i = 0; i < 11; i++) deep = { next: deep }
    const error = thrown(() => engine.renderDeep(deep, context))
    expect(error.code).toBe('EXPRESSION_LIMIT')
    expect(error.message).toBe(
      'value is nested more than 10 levels deep at next.next.next.next.next.next.next.next.next.next',
    )
    const shallow = createExpressionEngine({ maxDepth: 2 })
    expect(shallow.renderDeep({ a: ['{{ 1 }}'] }, {})).toEqual({ a: [1] })
    expect(thrown(() => shallow.renderDeep({ a: [['x']] }, {})).code).toBe('EXPRESSION_LIMIT')
  })

  it('survives cycles', () => {
    const cyclic: Record<string, unknown> = { name: '{{ inputs.name }}' }
    cyclic.self = cyclic
    expect(thrown(() => engine.renderDeep(cyclic, context)).code).toBe('EXPRESSION_LIMIT')
  })

  it('says where in the structure a template failed', () => {
    const error = thrown(() =>
      engine.renderDeep({ headers: { 'x-token': ['ok', '{{ missing }}'] } }, context),
    )
    expect(error.code).toBe('EXPRESSION_UNDEFINED')
    expect(error.path).toBe('headers.x-token[1]')
    expect(error.template).toBe('{{ missing }}')
    expect(error.message).toMatch(
      /^undefined variable "missing" in "\{\{ missing \}\}" \(line 1\): .* \(at headers\.x-token\[1\]\)$/,
    )
  })
})

describe('compiled template cache', () => {
  it('renders the same template with each call’s own context', () => {
    for (let i = 0; i < 3; i++) {
      expect(engine.render('{{ n * 2 }}', { n: i })).toBe(i * 2)
      expect(engine.render('n={{ n }}', { n: i })).toBe(`n=${i}`)
    }
  })

  it('keeps text and native renderings of the same template apart', () => {
    expect(engine.render('{{ n }}', { n: 5 })).toBe(5)
    expect(engine.renderString('{{ n }}', { n: 5 })).toBe('5')
    expect(engine.render('{{ n }}', { n: 6 })).toBe(6)
  })

  it('does not keep {% set %} variables between renders', () => {
    const template = '{% if first %}{% set v = "set" %}{% endif %}{{ v ?? "unset" }}'
    expect(engine.render(template, { first: true })).toBe('set')
    expect(engine.render(template, { first: false })).toBe('unset')
  })

  it('stays correct when entries are evicted', () => {
    const tiny = createExpressionEngine({ cacheSize: 1 })
    expect(tiny.render('{{ a }}', { a: 1, b: 2 })).toBe(1)
    expect(tiny.render('{{ b }}', { a: 1, b: 2 })).toBe(2)
    expect(tiny.render('{{ a }}', { a: 3 })).toBe(3)
  })

  it('reports a cached syntax error every time', () => {
    const first = thrown(() => engine.render('{{ x + }}', {}))
    const second = thrown(() => engine.render('{{ x + }}', {}))
    expect(second.code).toBe('EXPRESSION_SYNTAX')
    expect(second.message).toBe(first.message)
  })
})

describe('errors', () => {
  it('EXPRESSION_UNDEFINED names the expression and the missing part', () => {
    const error = renderError('{{ outputs.fetch.body }}')
    expect(error.code).toBe('EXPRESSION_UNDEFINED')
    expect(error.kind).toBe('user')
    expect(error.template).toBe('{{ outputs.fetch.body }}')
    expect(error.line).toBe(1)
    expect(error.message).toBe(
      'undefined variable "outputs.fetch.body" in "{{ outputs.fetch.body }}" (line 1): outputs.fetch has no "body" (known keys: code, headers)',
    )
  })

  it.each([
    [
      '{{ outptus.fetch }}',
      'undefined variable "outptus.fetch" in "{{ outptus.fetch }}" (line 1): "outptus" is not defined; did you mean "outputs"? (known variables: outputs, inputs, nothing)',
    ],
    [
      '{{ outputs.fetch.headers.missing }}',
      'undefined variable "outputs.fetch.headers.missing" in "{{ outputs.fetch.headers.missing }}" (line 1): outputs.fetch.headers has no "missing" (known keys: content-type)',
    ],
    [
      '{{ outputs.list[7] }}',
      'undefined variable "outputs.list[7]" in "{{ outputs.list[7] }}" (line 1): outputs.list has no index 7 (it has 3 items)',
    ],
    [
      '{{ nothing.field }}',
      'undefined variable "nothing.field" in "{{ nothing.field }}" (line 1): nothing is null',
    ],
    [
      '{{ inputs.name.first }}',
      'undefined variable "inputs.name.first" in "{{ inputs.name.first }}" (line 1): inputs.name is a string, it has no "first"',
    ],
    [
      '{{ outputs.fetch.cod | upper }}',
      'undefined variable "outputs.fetch.cod" in "{{ outputs.fetch.cod | upper }}" (line 1): outputs.fetch has no "cod"; did you mean "code"? (known keys: code, headers)',
    ],
    [
      '{% for x in outputs.items %}{{ x }}{% endfor %}',
      'undefined variable "outputs.items" in "{% for x in outputs.items %}{{ x }}{% endfor %}" (line 1): outputs has no "items" (known keys: fetch, list)',
    ],
    [
      '{{ missing() }}',
      'unknown function "missing" in "{{ missing() }}" (line 1): functions: cycler, fromJson, joiner, json, max, min, now, randomInt, range, render, timestamp, toJson, … (13 in all)',
    ],
    [
      '{{ outputs.fetch.run() }}',
      'cannot call "outputs.fetch.run" in "{{ outputs.fetch.run() }}" (line 1): it is undefined',
    ],
  ])('%s', (template, message) => {
    const error = renderError(template)
    expect(error.message).toBe(message)
  })

  it('EXPRESSION_UNDEFINED for a variable the context sets to undefined', () => {
    expect(renderError('{{ x }}', { x: undefined }).message).toBe(
      'undefined variable "x" in "{{ x }}" (line 1): "x" is undefined',
    )
  })

  it('EXPRESSION_UNDEFINED for operands of arithmetic and ~', () => {
    // `my-task` is `my - task`, not a key: both sides are undefined
    expect(renderError('{{ outputs.my-task.out }}').message).toBe(
      'undefined variable "outputs.my" in "{{ outputs.my-task.out }}" (line 1): outputs has no "my" (known keys: fetch, list)',
    )
    expect(
      renderError('{{ outputs.my-task.out }}', { outputs: { 'my-task': { out: 1 } } }).message,
    ).toBe(
      `undefined variable "outputs.my" in "{{ outputs.my-task.out }}" (line 1): outputs has no "my"; "-" is a minus sign in expressions, write outputs['my-task']`,
    )
    expect(
      engine.render("{{ outputs['my-task'].out }}", { outputs: { 'my-task': { out: 1 } } }),
    ).toBe(1)
    expect(renderError('{{ "Hello " ~ inputs.nam }}').code).toBe('EXPRESSION_UNDEFINED')
    expect(renderError('{{ -missing }}', {}).code).toBe('EXPRESSION_UNDEFINED')
    // null is allowed, and ~ shows it as nothing (like text output)
    expect(engine.render('{{ "x" ~ nothing ~ outputs.list }}', context)).toBe('x[1,2,3]')
  })

  it('EXPRESSION_UNDEFINED for a value that is not a path, and on the right line', () => {
    const error = renderError('{{ pick() }}', { pick: () => undefined })
    expect(error.code).toBe('EXPRESSION_UNDEFINED')
    expect(error.message).toBe(
      'undefined value "pick()" in "{{ pick() }}" (line 1): it is undefined',
    )
    const multiline = renderError('first line\nsecond {{ inputs.name }}\nthird {{ gone }}')
    expect(multiline.line).toBe(3)
    expect(multiline.message).toMatch(
      /^undefined variable "gone" in "third \{\{ gone \}\}" \(line 3\)/,
    )
  })

  it('EXPRESSION_SYNTAX says where, without nunjucks internals', () => {
    const error = renderError('{{ x + }}')
    expect(error.code).toBe('EXPRESSION_SYNTAX')
    expect(error.kind).toBe('user')
    expect(error.line).toBe(1)
    expect(error.column).toBe(8)
    expect(error.message).toBe(
      'syntax error in "{{ x + }}" (line 1, column 8): unexpected token: }}',
    )
    const second = renderError('line one\n{% if %}')
    expect(second.message).toBe(
      'syntax error in "{% if %}" (line 2, column 7): unexpected token: %}',
    )
    expect(renderError('{{ x').message).toBe('syntax error in "{{ x": expected variable end')
    for (const message of [error.message, second.message]) {
      expect(message).not.toContain('unknown path')
      expect(message).not.toContain('Template render error')
    }
  })

  it.each([
    ['{{ x | uper }}', 'unknown filter "uper"; did you mean "upper"?'],
    ['{{ x is definned }}', 'unknown test "definned"; did you mean "defined"?'],
    ['{% include "other.html" %}', '{% include %} is not supported in Kite expressions'],
    ['{% extends "base.html" %}', '{% extends %} is not supported in Kite expressions'],
    ['{% foo %}', 'unknown tag "foo"'],
    ['{{ 1e3 }}', '"1e3" is not a valid number'],
    ['{{ x ??"d" }}', 'put a space after "??"'],
    ['{{ x??"d" }}', 'put spaces around "??" in "x??"d""'],
    ['{% set "x" = 1 %}', '{% set %} target must be a name'],
  ])('EXPRESSION_SYNTAX: %s', (template, detail) => {
    const error = thrown(() => engine.check(template))
    expect(error.code).toBe('EXPRESSION_SYNTAX')
    expect(error.message).toContain(detail)
  })

  it('check() validates without a context', () => {
    expect(() =>
      engine.check('{{ outputs.anything.goes | upper }} {% if x %}{{ y }}{% endif %}'),
    ).not.toThrow()
    expect(() => engine.check('no expression at all')).not.toThrow()
    expect(thrown(() => engine.check('{% if x %}unclosed')).code).toBe('EXPRESSION_SYNTAX')
  })

  it('EXPRESSION_FILTER keeps the filter’s message and cause', () => {
    const error = renderError('{{ body | fromJson }}', { body: '{broken' })
    expect(error.code).toBe('EXPRESSION_FILTER')
    expect(error.message).toMatch(
      /^filter "fromJson" failed in "\{\{ body \| fromJson \}\}" \(line 1\): invalid JSON: /,
    )
    expect(error.cause).toBeInstanceOf(SyntaxError)
  })

  it('EXPRESSION_FUNCTION keeps the original message, cause and kind', () => {
    const original = Object.assign(new Error('the vault is sealed'), { kind: 'operational' })
    const error = renderError('{{ secret("TOKEN") }}', {
      secret: () => {
        throw original
      },
    })
    expect(error.code).toBe('EXPRESSION_FUNCTION')
    expect(error.kind).toBe('operational')
    expect(error.cause).toBe(original)
    expect(error.message).toBe(
      'secret() failed in "{{ secret("TOKEN") }}" (line 1): the vault is sealed',
    )
  })

  it('EXPRESSION_ERROR keeps the message of a getter that throws', () => {
    const original = new Error('outputs.query.uri does not exist: it produced "value" instead')
    const outputs = { query: {} }
    Object.defineProperty(outputs.query, 'uri', {
      enumerable: false,
      get() {
        throw original
      },
    })
    const error = renderError('{{ outputs.query.uri }}', { outputs })
    expect(error.code).toBe('EXPRESSION_ERROR')
    expect(error.cause).toBe(original)
    expect(error.message).toBe(
      'expression failed in "{{ outputs.query.uri }}" (line 1): outputs.query.uri does not exist: it produced "value" instead',
    )
    // a tolerant check does not swallow it either: reading the value is the error
    expect(renderError('{{ outputs.query.uri ?? "x" }}', { outputs }).cause).toBe(original)
  })

  it('EXPRESSION_ERROR for a function used instead of called', () => {
    const error = renderError('{{ now }}', {})
    expect(error.code).toBe('EXPRESSION_ERROR')
    expect(error.message).toBe(
      'cannot use "now" as a value in "{{ now }}" (line 1): it is a function; call it, e.g. now()',
    )
    expect(thrown(() => engine.renderString('{{ now }}', {})).message).toBe(
      'cannot output "now" in "{{ now }}" (line 1): it is a function; call it, e.g. now()',
    )
  })

  it('ExpressionError is recognised across copies of the package', () => {
    const error = renderError('{{ missing }}', {})
    expect(isExpressionError(error)).toBe(true)
    const lookalike = Object.assign(new Error('x'), {
      name: 'ExpressionError',
      code: 'EXPRESSION_SYNTAX',
      template: '{{',
    })
    expect(isExpressionError(lookalike)).toBe(true)
    expect(isExpressionError(new Error('x'))).toBe(false)
    expect(isExpressionError({ name: 'ExpressionError', code: 'EXPRESSION_SYNTAX' })).toBe(false)
  })
})

describe('limits', () => {
  it('output longer than maxOutputLength is EXPRESSION_LIMIT', () => {
    const small = createExpressionEngine({ maxOutputLength: 10 })
    expect(small.render('{{ s }}', { s: '0123456789' })).toBe('0123456789')
    const error = thrown(() => small.render('{{ s }}!', { s: '0123456789' }))
    expect(error.code).toBe('EXPRESSION_LIMIT')
    expect(error.message).toBe('output of "{{ s }}!" is too long: 11 characters, the limit is 10')
    expect(thrown(() => small.render('{{ s }}', { s: 'x'.repeat(11) })).code).toBe(
      'EXPRESSION_LIMIT',
    )
  })

  it('stops a loop as soon as its output passes the limit', () => {
    const small = createExpressionEngine({ maxOutputLength: 1000 })
    const error = thrown(() =>
      small.render('{% for i in range(100000) %}0123456789{% endfor %}', {}),
    )
    expect(error.code).toBe('EXPRESSION_LIMIT')
    expect(error.message).toBe(
      'output is too long in "{% for i in range(100000) %}0123456789{% endfor %}" (line 1): more than 1000 characters',
    )
  })

  it('bounds loop iterations', () => {
    const small = createExpressionEngine({ maxIterations: 50 })
    expect(small.render('{% for i in range(50) %}{% endfor %}done', {})).toBe('done')
    const error = thrown(() =>
      small.render('{% for i in range(10) %}{% for j in range(10) %}{% endfor %}{% endfor %}', {}),
    )
    expect(error.code).toBe('EXPRESSION_LIMIT')
    expect(error.message).toContain('too many loop iterations')
    expect(error.message).toContain('more than 50 in one render')
    // the budget is per render
    expect(small.render('{% for i in range(50) %}{% endfor %}again', {})).toBe('again')
  })

  it('a macro that calls itself is EXPRESSION_LIMIT, not a crash', () => {
    const error = renderError('{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}', {})
    expect(error.code).toBe('EXPRESSION_LIMIT')
    expect(error.message).toBe(
      'expression recursion is too deep in "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}" (line 1): maximum call stack size exceeded (does a macro call itself?)',
    )
    expect(error.cause).toBeInstanceOf(RangeError)
    // the engine still works afterwards
    expect(engine.render('{{ 1 + 1 }}', {})).toBe(2)
  })

  it('render() recursion is bounded by maxDepth', () => {
    const shallow = createExpressionEngine({ maxDepth: 3 })
    const vars = {
      a: '{{ render(b) }}',
      b: '{{ render(c) }}',
      c: '{{ 7 }}',
      loop: '{{ render(loop) }}',
    }
    expect(shallow.render('{{ render(b) }}', vars)).toBe(7)
    const error = thrown(() => shallow.render('{{ render(a) }}', vars))
    expect(error.code).toBe('EXPRESSION_LIMIT')
    expect(error.message).toBe('render() is nested more than 3 levels deep at "{{ 7 }}"')
    expect(thrown(() => shallow.render('{{ render(loop) }}', vars)).code).toBe('EXPRESSION_LIMIT')
    // and the depth counter is back to zero
    expect(shallow.render('{{ render(b) }}', vars)).toBe(7)
  })

  it('a template nested too deeply to parse is EXPRESSION_LIMIT', () => {
    const template = `{{ ${'('.repeat(20000)}1${')'.repeat(20000)} }}`
    const error = thrown(() => engine.check(template))
    expect(error.code).toBe('EXPRESSION_LIMIT')
    expect(error.message).toContain('is nested too deeply to compile')
  })

  it('rejects invalid limits', () => {
    expect(() => createExpressionEngine({ maxDepth: 0 })).toThrow(
      'maxDepth must be a positive integer',
    )
    expect(() => createExpressionEngine({ maxOutputLength: 1.5 })).toThrow(RangeError)
  })
})

describe('functions from the context', () => {
  it('secret() and kv() come from the context as plain functions', () => {
    const secrets: Record<string, string> = { API_TOKEN: 's3cr3t' }
    const store: Record<string, unknown> = { favourite: { name: 'mew' } }
    const vars = {
      secret: (name: unknown) => secrets[String(name)],
      kv: (key: unknown) => store[String(key)],
    }
    expect(engine.render('Bearer {{ secret("API_TOKEN") }}', vars)).toBe('Bearer s3cr3t')
    expect(engine.render("{{ kv('favourite') }}", vars)).toEqual({ name: 'mew' })
    expect(engine.render("{{ kv('favourite').name | upper }}", vars)).toBe('MEW')
  })

  it.each([
    ['secret', '{{ secret("API_TOKEN") }}'],
    ['kv', '{{ kv("key") }}'],
  ])('%s() without one in the context is a clear error', (name, template) => {
    const error = renderError(template, {})
    expect(error.code).toBe('EXPRESSION_FUNCTION')
    expect(error.message).toBe(
      `cannot call ${name}() in "${template}" (line 1): ${name}() is not available in this context`,
    )
  })

  it('functions get their arguments and no template internals as `this`', () => {
    const seen: unknown[] = []
    function probe(this: unknown, ...args: unknown[]) {
      seen.push(this, args)
      return 'ok'
    }
    expect(engine.render('{{ probe(1, "a", [2]) }}', { probe })).toBe('ok')
    expect(seen).toEqual([undefined, [1, 'a', [2]]])
  })

  it('an asynchronous function is a clear error, not "{}"', () => {
    const error = renderError('{{ secret("x") }}', { secret: async () => 'value' })
    expect(error.code).toBe('EXPRESSION_FUNCTION')
    expect(error.kind).toBe('internal')
    expect(error.message).toBe(
      'secret() returned a promise in "{{ secret("x") }}" (line 1): functions used in expressions must be synchronous',
    )
  })

  it('context variables shadow built-in functions', () => {
    expect(engine.render('{{ now() }}', { now: () => 'frozen' })).toBe('frozen')
  })
})

describe('options', () => {
  it('adds filters and functions, and may replace built-in ones', () => {
    const custom = createExpressionEngine({
      filters: {
        shout: (value) => `${String(value).toUpperCase()}!`,
        upper: () => 'replaced',
        failing: () => {
          throw new Error('nope')
        },
      },
      functions: { answer: () => 42, now: () => 'then' },
    })
    expect(custom.render('{{ "hi" | shout }}', {})).toBe('HI!')
    expect(custom.render('{{ "hi" | upper }}', {})).toBe('replaced')
    expect(custom.render('{{ answer() }}', {})).toBe(42)
    expect(custom.render('{{ now() }}', {})).toBe('then')
    const error = thrown(() => custom.render('{{ 1 | failing }}', {}))
    expect(error.code).toBe('EXPRESSION_FILTER')
    expect(error.message).toBe('filter "failing" failed in "{{ 1 | failing }}" (line 1): nope')
    // other engines are not affected
    expect(thrown(() => engine.check('{{ "hi" | shout }}')).code).toBe('EXPRESSION_SYNTAX')
    expect(engine.render('{{ "hi" | upper }}', {})).toBe('HI')
  })

  it('lists its built-in functions', () => {
    for (const name of [
      'now',
      'uuid',
      'range',
      'render',
      'fromJson',
      'json',
      'randomInt',
      'timestamp',
    ]) {
      expect(BUILTIN_FUNCTIONS).toContain(name)
    }
    expect(BUILTIN_FUNCTIONS).not.toContain('secret')
  })
})

describe('sandbox', () => {
  const flag = '__kiteSandboxEscaped'
  const escaped = () => (globalThis as Record<string, unknown>)[flag]

  it.each([
    ['{{ "".constructor.constructor("return process")() }}', 'EXPRESSION_ERROR'],
    [`{{ "".constructor.constructor("globalThis.${flag} = 1")() }}`, 'EXPRESSION_ERROR'],
    [`{{ ""["constructor"]["constructor"]("globalThis.${flag} = 1")() }}`, 'EXPRESSION_ERROR'],
    [`{{ ""[["constructor"]][["constructor"]]("globalThis.${flag} = 1")() }}`, 'EXPRESSION_ERROR'],
    [`{{ range.constructor("globalThis.${flag} = 1")() }}`, 'EXPRESSION_ERROR'],
    [`{{ cycler().next.call.constructor("globalThis.${flag} = 1")() }}`, 'EXPRESSION_ERROR'],
    [`{{ outputs.fetch.__proto__ }}`, 'EXPRESSION_ERROR'],
    [`{{ outputs.__lookupGetter__("__proto__") }}`, 'EXPRESSION_ERROR'],
    ['{{ constructor }}', 'EXPRESSION_UNDEFINED'],
    ['{{ toString }}', 'EXPRESSION_UNDEFINED'],
    // nunjucks pastes names into generated JavaScript: these must never reach it
    [`{{ a"&&Function\`globalThis.${flag}\\x3d1\`\`\`&&" }}`, 'EXPRESSION_SYNTAX'],
    [`{% set x"&&Function\`globalThis.${flag}\\x3d1\`\`\`&&" = 1 %}`, 'EXPRESSION_SYNTAX'],
    [
      `{% macro m(a"&&Function\`globalThis.${flag}\\x3d1\`\`\`&&"=1) %}{% endmacro %}`,
      'EXPRESSION_SYNTAX',
    ],
    [
      `{% macro m("a\\"&&Function\`globalThis.${flag}\\x3d1\`\`\`&&\\""=1) %}{% endmacro %}`,
      'EXPRESSION_SYNTAX',
    ],
    [`{{ 1 is "a\\")&&Function\`globalThis.${flag}\\x3d1\`\`\`&&(\\"" }}`, 'EXPRESSION_SYNTAX'],
    [`{{ 1 | a"&&Function\`globalThis.${flag}\\x3d1\`\`\`&&" }}`, 'EXPRESSION_SYNTAX'],
    [`{{ {"__proto__": {"polluted": 1}} }}`, 'EXPRESSION_SYNTAX'],
  ])('%s', (template, code) => {
    const error = renderError(template)
    expect(error.code).toBe(code)
    expect(escaped()).toBeUndefined()
  })

  it('names in a call position cannot break out of the generated code', () => {
    expect(
      engine.render(`{{ f("a\\"&&Function\`globalThis.${flag}\\x3d1\`\`\`&&\\""=1) }}`, {
        f: () => 'ok',
      }),
    ).toBe('ok')
    expect(renderError(`{{ f["\\\\"]() }}`, { f: {} }).code).toBe('EXPRESSION_UNDEFINED')
    expect(escaped()).toBeUndefined()
  })

  it('cannot modify values from the context', () => {
    const list = [3, 1, 2]
    const error = renderError('{{ list.push(4) }}{{ list.sort() }}', { list })
    expect(error.code).toBe('EXPRESSION_ERROR')
    expect(error.message).toContain('cannot call "push"')
    expect(renderError('{{ when.setFullYear(1999) }}', { when: new Date(0) }).code).toBe(
      'EXPRESSION_ERROR',
    )
    expect(list).toEqual([3, 1, 2])
  })

  it('cannot allocate huge strings through string methods', () => {
    expect(renderError('{{ "x".repeat(100000000) }}', {}).message).toContain('cannot call "repeat"')
  })

  it('does not pollute Object.prototype', () => {
    engine.render('{{ {"a": 1} | merge(fromJson(\'{"__proto__": {"polluted": true}}\')) }}', {})
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})

describe('error codes', () => {
  it('every code is produced by some template', () => {
    const samples: Record<ExpressionErrorCode, () => unknown> = {
      EXPRESSION_SYNTAX: () => engine.render('{{ ( }}', {}),
      EXPRESSION_UNDEFINED: () => engine.render('{{ nope }}', {}),
      EXPRESSION_FILTER: () => engine.render('{{ "x" | fromJson }}', {}),
      EXPRESSION_FUNCTION: () => engine.render('{{ secret("x") }}', {}),
      EXPRESSION_LIMIT: () => engine.render('{{ range(10000000) }}', {}),
      EXPRESSION_ERROR: () => engine.render('{{ x.constructor }}', { x: {} }),
    }
    for (const [code, run] of Object.entries(samples)) {
      const error = thrown(run)
      expect(error.code).toBe(code)
      expect(error.name).toBe('ExpressionError')
      expect(error.kind).toBe('user')
    }
  })
})
