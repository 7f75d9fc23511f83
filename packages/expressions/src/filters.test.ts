import { describe, expect, it } from 'vitest'
import { renderError } from '../test/thrown'
import { BUILTIN_FILTERS, createExpressionEngine } from './index'

const engine = createExpressionEngine()

const items = [
  { name: 'pear', kind: 'fruit', ripe: true, price: 3 },
  { name: 'leek', kind: 'vegetable', ripe: false, price: 2 },
  { name: 'apple', kind: 'fruit', ripe: false, price: 1 },
]

type Case = [template: string, expected: unknown, vars?: Record<string, unknown>]

/** Every built-in filter with at least one case; the last test checks none is missing. */
const cases: Record<string, Case[]> = {
  abbreviate: [
    ['{{ "Hello World" | abbreviate(8) }}', 'Hello...'],
    ['{{ "Hi" | abbreviate(8) }}', 'Hi'],
  ],
  abs: [
    ['{{ -3.5 | abs }}', 3.5],
    ['{{ "-2" | abs }}', 2],
  ],
  base64decode: [['{{ "aMOpbGxv" | base64decode }}', 'héllo']],
  base64encode: [['{{ "héllo" | base64encode }}', 'aMOpbGxv']],
  batch: [
    ['{{ [1, 2, 3] | batch(2) }}', [[1, 2], [3]]],
    [
      '{{ [1, 2, 3] | batch(2, 0) }}',
      [
        [1, 2],
        [3, 0],
      ],
    ],
  ],
  capitalize: [['{{ "hELLO world" | capitalize }}', 'HELLO world']],
  center: [['{{ "ab" | center(6) }}', '  ab  ']],
  chunk: [['{{ [1, 2, 3, 4, 5] | chunk(2) }}', [[1, 2], [3, 4], [5]]]],
  d: [['{{ missing | d("fallback") }}', 'fallback']],
  date: [
    [
      '{{ when | date("yyyy-MM-dd HH:mm:ss") }}',
      '2024-03-05 14:07:09',
      { when: '2024-03-05T14:07:09.123Z' },
    ],
    [
      '{{ when | date("yyyy-MM-dd HH:mm", "Europe/Paris") }}',
      '2024-03-05 15:07',
      { when: '2024-03-05T14:07:09Z' },
    ],
    ['{{ when | date }}', '2024-03-05T14:07:09.123Z', { when: '2024-03-05T14:07:09.123Z' }],
    [
      '{{ when | date("iso", timezone="Asia/Kolkata") }}',
      '2024-03-05T19:37:09.000+05:30',
      { when: 1709647629 },
    ],
  ],
  dateAdd: [
    ['{{ "2024-01-31T10:00:00Z" | dateAdd(1, "MONTHS") }}', '2024-02-29T10:00:00.000Z'],
    ['{{ "2024-01-31T10:00:00Z" | dateAdd(-1, "days") }}', '2024-01-30T10:00:00.000Z'],
    ['{{ "2024-01-31T10:00:00Z" | dateAdd(90, "MINUTES") }}', '2024-01-31T11:30:00.000Z'],
  ],
  default: [
    ['{{ missing | default("x") }}', 'x'],
    ['{{ value | default("x") }}', 'x', { value: null }],
    ['{{ value | default("x") }}', 'x', { value: '' }],
    ['{{ value | default("x") }}', 0, { value: 0 }],
    ['{{ value | default("x", true) }}', 'x', { value: 0 }],
    ['{{ value | default("x") }}', 'set', { value: 'set' }],
  ],
  dictsort: [
    [
      '{{ {"b": 1, "a": 2} | dictsort }}',
      [
        ['a', 2],
        ['b', 1],
      ],
    ],
  ],
  dump: [['{{ {"a": 1} | dump }}', '{"a":1}']],
  e: [['{{ "<a>" | e }}', '&lt;a&gt;']],
  endsWith: [
    ['{{ "report.csv" | endsWith(".csv") }}', true],
    ['{{ "report.csv" | endsWith(".json") }}', false],
  ],
  escape: [['{{ "a & b" | escape }}', 'a &amp; b']],
  first: [
    ['{{ [4, 5] | first }}', 4],
    ['{{ "abc" | first }}', 'a'],
    ['{{ [] | first }}', null],
  ],
  flatten: [
    ['{{ [[1, [2]], 3] | flatten }}', [1, [2], 3]],
    ['{{ [[1, [2]], 3] | flatten(2) }}', [1, 2, 3]],
  ],
  float: [
    ['{{ "1.5" | float }}', 1.5],
    ['{{ "abc" | float(0) }}', 0],
  ],
  forceescape: [['{{ "<b>" | forceescape }}', '&lt;b&gt;']],
  fromJson: [['{{ text | fromJson }}', { a: [1, 2] }, { text: '{"a":[1,2]}' }]],
  groupby: [['{{ items | groupby("kind") | keys }}', ['fruit', 'vegetable'], { items }]],
  indent: [
    ['{{ "a\\nb" | indent(2) }}', 'a\n  b'],
    ['{{ "a\\nb" | indent(2, true) }}', '  a\n  b'],
    ['{{ "a\\n\\nb" | indent("> ", true) }}', '> a\n\n> b'],
  ],
  int: [
    ['{{ "42" | int }}', 42],
    ['{{ 4.7 | int }}', 4],
  ],
  join: [
    ['{{ [1, 2, 3] | join("-") }}', '1-2-3'],
    ['{{ [1, 2, 3] | join }}', '123'],
    ['{{ items | join(", ", "name") }}', 'pear, leek, apple', { items }],
  ],
  json: [
    ['{{ {"a": [1, "x"]} | json }}', '{"a":[1,"x"]}'],
    ['{{ [1] | json(2) }}', '[\n  1\n]'],
    ['{{ value | json }}', '"text"', { value: 'text' }],
  ],
  keys: [
    ['{{ {"a": 1, "b": 2} | keys }}', ['a', 'b']],
    ['{{ value | keys }}', [], { value: null }],
  ],
  last: [
    ['{{ [4, 5] | last }}', 5],
    ['{{ "abc" | last }}', 'c'],
    ['{{ [] | last }}', null],
  ],
  length: [
    ['{{ "abc" | length }}', 3],
    ['{{ [1, 2] | length }}', 2],
    ['{{ {"a": 1} | length }}', 1],
    ['{{ value | length }}', 0, { value: null }],
  ],
  list: [['{{ "ab" | list }}', ['a', 'b']]],
  lower: [['{{ "HeLLo" | lower }}', 'hello']],
  md5: [['{{ "hello" | md5 }}', '5d41402abc4b2a76b9719d911017c592']],
  merge: [
    ['{{ [1] | merge([2, 3]) }}', [1, 2, 3]],
    ['{{ {"a": 1, "b": 1} | merge({"b": 2}) }}', { a: 1, b: 2 }],
  ],
  nindent: [['{{ "a\\nb" | nindent(2) }}', '\n  a\n  b']],
  nl2br: [['{{ "a\\nb" | nl2br }}', 'a<br />\nb']],
  number: [
    ['{{ "12" | number }}', 12],
    ['{{ " 1.5 " | number }}', 1.5],
    ['{{ "1.9" | number("INT") }}', 1],
  ],
  random: [['{{ [7] | random }}', 7]],
  reject: [['{{ [1, 2, 3, 4] | reject("odd") }}', [2, 4]]],
  rejectattr: [['{{ items | rejectattr("ripe") | join(",", "name") }}', 'leek,apple', { items }]],
  replace: [
    ['{{ "aXbX" | replace("X", "-") }}', 'a-b-'],
    ['{{ "aXbX" | replace("X", "-", 1) }}', 'a-bX'],
    [
      '{{ "I like %this% and %that%" | replace({"%this%": "tea", "%that%": 2}) }}',
      'I like tea and 2',
    ],
    ['{{ "a1b22" | replace(r/\\d+/g, "#") }}', 'a#b#'],
    ['{{ "cost: X" | replace("X", "$1") }}', 'cost: $1'],
  ],
  reverse: [
    ['{{ [1, 2, 3] | reverse }}', [3, 2, 1]],
    ['{{ "abc" | reverse }}', 'cba'],
  ],
  round: [
    ['{{ 2.675 | round(2) }}', 2.68],
    ['{{ 3.5 | round }}', 4],
    ['{{ -3.5 | round }}', -4],
    ['{{ 3.2 | round(0, "ceil") }}', 4],
    ['{{ 3.8 | round(0, "floor") }}', 3],
    ['{{ 1234 | round(-2) }}', 1200],
  ],
  safe: [['{{ "<b>" | safe }}', '<b>']],
  select: [['{{ [1, 2, 3] | select("odd") }}', [1, 3]]],
  selectattr: [['{{ items | selectattr("ripe") | join(",", "name") }}', 'pear', { items }]],
  sha1: [['{{ "hello" | sha1 }}', 'aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d']],
  sha256: [
    ['{{ "hello" | sha256 }}', '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824'],
  ],
  sha512: [
    [
      '{{ "hello" | sha512 }}',
      '9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043',
    ],
  ],
  slice: [
    ['{{ [1, 2, 3, 4] | slice(1, 3) }}', [2, 3]],
    ['{{ "hello" | slice(-3) }}', 'llo'],
  ],
  slugify: [['{{ "Héllo, Wörld! 2024" | slugify }}', 'hello-world-2024']],
  sort: [
    ['{{ [3, 1, 2] | sort }}', [1, 2, 3]],
    ['{{ [3, 1, 2] | sort(true) }}', [3, 2, 1]],
    ['{{ ["b", "C", "a"] | sort }}', ['C', 'a', 'b']],
    ['{{ items | sort(attribute="price") | join(",", "name") }}', 'apple,leek,pear', { items }],
  ],
  split: [
    ['{{ "a,b,c" | split(",") }}', ['a', 'b', 'c']],
    ['{{ "a,b,c" | split(",", 2) }}', ['a', 'b,c']],
    ['{{ "a1b22c" | split(r/\\d+/) }}', ['a', 'b', 'c']],
  ],
  startsWith: [
    ['{{ "kite.http" | startsWith("kite.") }}', true],
    ['{{ "acme.http" | startsWith("kite.") }}', false],
  ],
  string: [
    ['{{ [1, "a"] | string }}', '[1,"a"]'],
    ['{{ 5 | string }}', '5'],
    ['{{ value | string }}', '', { value: null }],
  ],
  striptags: [['{{ "<p>Hi <b>there</b></p>" | striptags }}', 'Hi there']],
  substring: [
    ['{{ "hello" | substring(1, 3) }}', 'el'],
    ['{{ "hello" | substring(-2) }}', 'lo'],
  ],
  substringAfter: [
    ['{{ "a.b.c" | substringAfter(".") }}', 'b.c'],
    ['{{ "abc" | substringAfter(".") }}', ''],
  ],
  substringAfterLast: [['{{ "a.b.c" | substringAfterLast(".") }}', 'c']],
  substringBefore: [
    ['{{ "a.b.c" | substringBefore(".") }}', 'a'],
    ['{{ "abc" | substringBefore(".") }}', 'abc'],
  ],
  substringBeforeLast: [['{{ "a.b.c" | substringBeforeLast(".") }}', 'a.b']],
  sum: [
    ['{{ [1, 2, 3] | sum }}', 6],
    ['{{ items | sum("price") }}', 6, { items }],
  ],
  timestamp: [
    ['{{ "2024-01-01T00:00:00Z" | timestamp }}', 1704067200],
    ['{{ "2024-01-01T00:00:00.999+01:00" | timestamp }}', 1704063600],
  ],
  title: [['{{ "hello wORLD-wide web" | title }}', 'Hello World-Wide Web']],
  toJson: [['{{ {"a": true} | toJson }}', '{"a":true}']],
  trim: [['{{ "  a b  " | trim }}', 'a b']],
  truncate: [['{{ "hello world" | truncate(8) }}', 'hello...']],
  unique: [['{{ [1, 2, 1, {"a": 1}, {"a": 1}, "1"] | unique }}', [1, 2, { a: 1 }, '1']]],
  upper: [['{{ "hello" | upper }}', 'HELLO']],
  urldecode: [['{{ "a%20b+c%26d" | urldecode }}', 'a b c&d']],
  urlencode: [
    ['{{ "a b&c/d" | urlencode }}', 'a%20b%26c%2Fd'],
    ['{{ {"q": "x y", "page": 2} | urlencode }}', 'q=x%20y&page=2'],
  ],
  urlize: [
    [
      '{{ "see https://kite.dev" | urlize }}',
      'see <a href="https://kite.dev">https://kite.dev</a>',
    ],
  ],
  values: [['{{ {"a": 1, "b": [2]} | values }}', [1, [2]]]],
  wordcount: [['{{ "one two  three" | wordcount }}', 3]],
}

describe('built-in filters', () => {
  for (const [name, filterCases] of Object.entries(cases)) {
    it.each(filterCases)(`${name}: %s`, (template, expected, vars) => {
      expect(engine.render(template, vars ?? {})).toEqual(expected)
    })
  }

  it('has cases for every built-in filter', () => {
    expect(Object.keys(cases).sort()).toEqual([...BUILTIN_FILTERS])
  })

  it('includes the filters flows rely on', () => {
    for (const name of ['json', 'toJson', 'fromJson', 'date', 'dateAdd', 'default', 'slugify']) {
      expect(BUILTIN_FILTERS).toContain(name)
    }
    expect(BUILTIN_FILTERS.length).toBeGreaterThanOrEqual(25)
  })
})

describe('filter errors', () => {
  it.each([
    ['{{ [1] | upper }}', 'filter "upper" failed', 'expected a string, got a list'],
    ['{{ "x" | fromJson }}', 'filter "fromJson" failed', 'invalid JSON'],
    ['{{ value | fromJson }}', 'filter "fromJson" failed', 'expected JSON text, got a map'],
    [
      '{{ "abc" | number }}',
      'filter "number" failed',
      'value must be a number, got a string "abc"',
    ],
    ['{{ "!!" | base64decode }}', 'filter "base64decode" failed', 'not valid base64'],
    ['{{ "soon" | date("yyyy") }}', 'filter "date" failed', 'cannot read "soon" as a date'],
    [
      '{{ "2024-01-01" | date("yyyy", "Mars/Olympus") }}',
      'filter "date" failed',
      'unknown time zone "Mars/Olympus"',
    ],
    [
      '{{ "2024-01-01" | dateAdd(1, "fortnights") }}',
      'filter "dateAdd" failed',
      'unknown unit "fortnights"',
    ],
    ['{{ "2024-01-01" | dateAdd(1) }}', 'filter "dateAdd" failed', 'needs an amount and a unit'],
    ['{{ [1] | merge({"a": 1}) }}', 'filter "merge" failed', 'expected a list, got a map'],
    ['{{ [1] | chunk(0) }}', 'filter "chunk" failed', 'size must be at least 1'],
    ['{{ "x" | split }}', 'filter "split" failed', 'needs a separator'],
    ['{{ 5 | keys }}', 'filter "keys" failed', 'expected a map, got the number 5'],
    ['{{ 5 | length }}', 'filter "length" failed', 'the number 5 has no length'],
    ['{{ 3 | round(0, "up") }}', 'filter "round" failed', 'method must be common, ceil or floor'],
    ['{{ "%E0%A4%A" | urldecode }}', 'filter "urldecode" failed', 'URI malformed'],
  ])('%s', (template, summary, detail) => {
    const error = renderError(template, { value: { a: 1 } })
    expect(error.code).toBe('EXPRESSION_FILTER')
    expect(error.kind).toBe('user')
    expect(error.message).toContain(`${summary} in "${template}" (line 1): `)
    expect(error.message).toContain(detail)
    expect(error.cause).toBeInstanceOf(Error)
  })

  it('accepts arguments by name and names unknown ones', () => {
    expect(
      engine.render('{{ when | date(format="HH:mm", timezone="America/New_York") }}', {
        when: '2024-07-01T12:00:00Z',
      }),
    ).toBe('08:00')
    expect(engine.render('{{ "a,b,c" | split(limit=2, separator=",") }}', {})).toEqual(['a', 'b,c'])
    const error = renderError('{{ "x" | date(zone="UTC") }}')
    expect(error.code).toBe('EXPRESSION_FILTER')
    expect(error.message).toContain(
      'filter "date" has no argument "zone" (it takes format, timezone)',
    )
  })

  it('does not let filters mutate their input', () => {
    const list = [3, 1, 2]
    expect(engine.render('{{ list | sort }}', { list })).toEqual([1, 2, 3])
    expect(engine.render('{{ list | reverse }}', { list })).toEqual([2, 1, 3])
    expect(list).toEqual([3, 1, 2])
  })
})
