import { describe, expect, it } from 'vitest'
import {
  ExpressionError,
  ExpressionFault,
  isPassThrough,
  isResourceExhaustion,
  kindOf,
  templateExcerpt,
} from './expression-error'

describe('ExpressionError', () => {
  it('takes one options object and passes cause to Error', () => {
    const cause = new Error('root cause')
    const error = new ExpressionError({
      code: 'EXPRESSION_FILTER',
      message: 'filter "x" failed',
      template: '{{ a | x }}',
      line: 1,
      column: 6,
      cause,
    })
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('ExpressionError')
    expect(error.code).toBe('EXPRESSION_FILTER')
    expect(error.kind).toBe('user')
    expect(error.template).toBe('{{ a | x }}')
    expect(error.line).toBe(1)
    expect(error.column).toBe(6)
    expect(error.cause).toBe(cause)
    expect(error.message).toBe('filter "x" failed')
  })

  it('leaves optional fields out when not given', () => {
    const error = new ExpressionError({
      code: 'EXPRESSION_LIMIT',
      message: 'm',
      template: 't',
      kind: 'internal',
    })
    expect(error.kind).toBe('internal')
    expect('line' in error).toBe(false)
    expect('cause' in error).toBe(false)
  })
})

describe('templateExcerpt', () => {
  it('quotes short one-line templates whole', () => {
    expect(templateExcerpt('{{ a }} and {{ b }}')).toBe('{{ a }} and {{ b }}')
  })

  it('quotes the line of the problem in longer templates', () => {
    expect(templateExcerpt('line one\n  {{ two }}  \nthree', 2)).toBe('{{ two }}')
    expect(templateExcerpt('line one\nline two')).toBe('line one')
  })

  it('shortens long lines', () => {
    const excerpt = templateExcerpt(`{{ ${'x'.repeat(200)} }}`, 1)
    expect(excerpt).toHaveLength(100)
    expect(excerpt.endsWith('…')).toBe(true)
  })
})

describe('error classification', () => {
  it('recognises stack overflow and oversized values, even when a regexp failed to compile', () => {
    expect(isResourceExhaustion(new RangeError('Maximum call stack size exceeded'))).toBe(true)
    expect(isResourceExhaustion(new RangeError('Invalid string length'))).toBe(true)
    expect(
      isResourceExhaustion(
        new SyntaxError('Invalid regular expression: /x/: Maximum call stack size exceeded'),
      ),
    ).toBe(true)
    expect(
      isResourceExhaustion(new RangeError('toFixed() digits argument must be between 0 and 100')),
    ).toBe(false)
    expect(isResourceExhaustion('Maximum call stack size exceeded')).toBe(false)
  })

  it('lets expression errors and faults pass through wrappers', () => {
    expect(isPassThrough(new ExpressionFault('EXPRESSION_LIMIT', 'x'))).toBe(true)
    expect(
      isPassThrough(new ExpressionError({ code: 'EXPRESSION_ERROR', message: 'm', template: '' })),
    ).toBe(true)
    expect(isPassThrough(new TypeError('x'))).toBe(false)
  })

  it('takes the kind of errors that carry a valid one', () => {
    expect(kindOf(Object.assign(new Error('x'), { kind: 'operational' }))).toBe('operational')
    expect(kindOf(Object.assign(new Error('x'), { kind: 'internal' }))).toBe('internal')
    expect(kindOf(Object.assign(new Error('x'), { kind: 'weird' }))).toBe('user')
    expect(kindOf(null)).toBe('user')
  })
})
