import { type AstNode, isNode } from './nunjucks-internals'

const MAX_LENGTH = 80
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/

const OPERATORS: Record<string, string> = {
  Add: '+',
  Sub: '-',
  Mul: '*',
  Div: '/',
  FloorDiv: '//',
  Mod: '%',
  Pow: '**',
  Concat: '~',
  And: 'and',
  Or: 'or',
  In: 'in',
  Is: 'is',
  Coalesce: '??',
}

/**
 * Prints an expression back as template source (`outputs.fetch.body`, `x | upper`), for error
 * messages. Long expressions are shortened.
 */
export function describeNode(node: unknown): string {
  const text = print(node)
  return text.length > MAX_LENGTH ? `${text.slice(0, MAX_LENGTH - 1)}…` : text
}

function print(node: unknown): string {
  if (!isNode(node)) return '…'
  switch (node.typename) {
    case 'Symbol':
      return String(node.value)
    case 'Literal':
      return literal(node.value)
    case 'LookupVal': {
      const target = print(node.target)
      const key = node.val
      if (isNode(key) && key.typename === 'Literal') {
        if (typeof key.value === 'string' && IDENTIFIER.test(key.value)) {
          return `${target}.${key.value}`
        }
        return `${target}[${literal(key.value)}]`
      }
      return `${target}[${print(key)}]`
    }
    case 'FunCall':
      return `${print(node.name)}(${printArgs(children(node.args))})`
    case 'Filter': {
      const [input, ...args] = children(node.args)
      const name = print(node.name)
      return `${print(input)} | ${args.length ? `${name}(${printArgs(args)})` : name}`
    }
    case 'Group':
      return `(${children(node).map(print).join(', ')})`
    case 'Array':
      return `[${children(node).map(print).join(', ')}]`
    case 'Dict':
      return `{${children(node)
        .map((pair) => `${print(pair.key)}: ${print(pair.value)}`)
        .join(', ')}}`
    case 'Not':
      return `not ${print(node.target)}`
    case 'Neg':
      return `-${print(node.target)}`
    case 'Pos':
      return `+${print(node.target)}`
    case 'InlineIf':
      return `${print(node.body)} if ${print(node.cond)}${node.else_ ? ` else ${print(node.else_)}` : ''}`
    case 'Compare': {
      const ops = Array.isArray(node.ops) ? (node.ops as AstNode[]) : []
      return [print(node.expr), ...ops.map((op) => `${String(op.type)} ${print(op.expr)}`)].join(
        ' ',
      )
    }
    case 'KiteStrict':
      return print(node.target)
    default: {
      const operator = OPERATORS[node.typename]
      if (operator) return `${print(node.left)} ${operator} ${print(node.right)}`
      return 'expression'
    }
  }
}

function printArgs(args: AstNode[]): string {
  return args
    .map((arg) =>
      arg.typename === 'KeywordArgs'
        ? children(arg)
            .map((pair) => `${print(pair.key)}=${print(pair.value)}`)
            .join(', ')
        : print(arg),
    )
    .join(', ')
}

function literal(value: unknown): string {
  if (typeof value === 'string') return `'${value.replaceAll("'", "\\'")}'`
  if (value === null) return 'null'
  return String(value)
}

export function children(node: unknown): AstNode[] {
  if (!isNode(node) || !Array.isArray(node.children)) return []
  return node.children as AstNode[]
}
