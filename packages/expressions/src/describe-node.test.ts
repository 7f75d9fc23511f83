import { describe, expect, it } from 'vitest'
import { describeNode } from './describe-node'
import { type AstNode, lexer, Parser } from './nunjucks-internals'

/** Parses `{{ source }}` and returns the expression node. */
function expression(source: string): AstNode {
  const root = new Parser(lexer.lex(`{{ ${source} }}`, {})).parseAsRoot()
  const output = (root.children as AstNode[])[0] as AstNode
  return (output.children as AstNode[])[0] as AstNode
}

describe('describeNode', () => {
  it.each([
    'outputs.fetch.body',
    "outputs['my-task'][0].value",
    'outputs[key].value',
    "x | date('yyyy', timezone='UTC')",
    'f(1, name=true)',
    'a.b(c)',
    '[1, null]',
    "{a: 1, 'b': x}",
    'not x',
    '-x',
    'a + b * c',
    'a ~ b',
    'a == 1 and b != 2',
    "'y' if x else 'n'",
    "'it\\'s'",
  ])('prints %s back as written', (source) => {
    expect(describeNode(expression(source))).toBe(source)
  })

  it('shortens long expressions', () => {
    const text = describeNode(expression(`a.${'b'.repeat(100)}`))
    expect(text).toHaveLength(80)
    expect(text.endsWith('…')).toBe(true)
  })
})
