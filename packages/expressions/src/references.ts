import { children, describeNode } from './describe-node'
import { type AstNode, isNode } from './nunjucks-internals'
import { parseTemplate } from './template-compiler'

/** One variable an expression reads, as far as its keys are known before rendering. */
export interface ExpressionReference {
  /** The variable: `outputs`, `inputs`, `vars`, or any other name the template does not define. */
  root: string
  /** The literal keys read after the root, in order, up to the first computed one. */
  path: Array<string | number>
  /** True when a computed key follows `path` (`outputs[name].x`): the rest is known only at run time. */
  dynamic: boolean
  /**
   * True when the template tolerates the value being missing: `x is defined`, `x | default(…)`,
   * `x ?? y`. A checker should not call such a reference an error.
   */
  guarded: boolean
  /** True when the name is called as a function (`secret('x')`), not read as a value. */
  called: boolean
  /** 1-based line and column of the root name inside the template. */
  line: number
  column: number
  /** The reference as written (`outputs.fetch.body`). */
  text: string
}

/** Filters and tests that exist to handle a missing value. */
const GUARDING_FILTERS = new Set(['default', 'd'])
const GUARDING_TESTS = new Set(['defined', 'undefined', 'none', 'null'])

/**
 * Lists the variables a template reads, walking the AST nunjucks' parser builds (parsed once,
 * nothing rendered). Names the template defines itself — `{% set %}` targets, loop variables,
 * `loop`, macro names and arguments — are not references. Throws an `EXPRESSION_SYNTAX`
 * ExpressionError when the template does not parse.
 *
 * @example
 * expressionReferences('{{ outputs.fetch.body | upper }}')
 * // [{ root: 'outputs', path: ['fetch', 'body'], dynamic: false, guarded: false, called: false,
 * //    line: 1, column: 4, text: 'outputs.fetch.body' }]
 */
export function expressionReferences(template: string): ExpressionReference[] {
  const found: ExpressionReference[] = []
  walk(parseTemplate(template), new Set(), false, found)
  return found
}

interface Chain {
  base: AstNode
  path: Array<string | number>
  dynamic: boolean
  /** Computed keys, walked as references of their own. */
  computed: AstNode[]
}

/** `a.b[c].d` → base `a`, path `['b']`, dynamic, computed `[c]`. */
function chainOf(node: AstNode): Chain {
  const lookups: AstNode[] = []
  let base = node
  while (base.typename === 'LookupVal' && isNode(base.target)) {
    lookups.unshift(base)
    base = base.target
  }
  const path: Array<string | number> = []
  const computed: AstNode[] = []
  let dynamic = false
  for (const lookup of lookups) {
    const key = lookup.val
    if (!dynamic && isNode(key) && key.typename === 'Literal') {
      if (typeof key.value === 'string' || typeof key.value === 'number') {
        path.push(key.value)
        continue
      }
    }
    dynamic = true
    if (isNode(key)) computed.push(key)
  }
  return { base, path, dynamic, computed }
}

function walk(node: unknown, locals: Set<string>, guarded: boolean, found: ExpressionReference[]) {
  if (!isNode(node)) return
  switch (node.typename) {
    case 'Symbol':
    case 'LookupVal':
      reference(node, locals, guarded, false, found)
      return
    case 'FunCall': {
      if (isNode(node.name)) reference(node.name, locals, guarded, true, found)
      walkAll(children(node.args), locals, false, found)
      return
    }
    case 'Filter': {
      const [input, ...args] = children(node.args)
      const name = isNode(node.name) ? String(node.name.value) : ''
      walk(input, locals, guarded || GUARDING_FILTERS.has(name), found)
      walkAll(args, locals, false, found)
      return
    }
    case 'Is': {
      const right = node.right
      const test = isNode(right) && right.typename === 'FunCall' ? right.name : right
      const name = isNode(test) ? String(test.value) : ''
      walk(node.left, locals, guarded || GUARDING_TESTS.has(name), found)
      if (isNode(right) && right.typename === 'FunCall') {
        walkAll(children(right.args), locals, false, found)
      }
      return
    }
    case 'Coalesce':
      walk(node.left, locals, true, found)
      walk(node.right, locals, guarded, found)
      return
    case 'Set': {
      walk(node.value, locals, guarded, found)
      walk(node.body, locals, guarded, found)
      // A `{% set %}` name is defined for the rest of its scope.
      for (const target of Array.isArray(node.targets) ? node.targets : []) {
        if (isNode(target) && target.typename === 'Symbol') locals.add(String(target.value))
      }
      return
    }
    case 'For': {
      walk(node.arr, locals, guarded, found)
      const inner = new Set(locals)
      inner.add('loop')
      const name = node.name
      for (const part of isNode(name) && name.typename === 'Array' ? children(name) : [name]) {
        if (isNode(part) && part.typename === 'Symbol') inner.add(String(part.value))
      }
      walk(node.body, inner, guarded, found)
      walk(node.else_, locals, guarded, found)
      return
    }
    case 'Macro':
    case 'Caller': {
      if (isNode(node.name) && node.name.typename === 'Symbol') {
        locals.add(String(node.name.value))
      }
      const inner = new Set(locals)
      inner.add('caller')
      for (const arg of children(node.args)) {
        if (arg.typename === 'KeywordArgs') {
          for (const pair of children(arg)) {
            if (isNode(pair.key)) inner.add(String(pair.key.value))
            walk(pair.value, locals, false, found)
          }
        } else if (arg.typename === 'Symbol') {
          inner.add(String(arg.value))
        }
      }
      walk(node.body, inner, guarded, found)
      return
    }
    case 'Pair':
      // Dict keys are names written as text (`{a: 1}`), not variables.
      if (isNode(node.key) && node.key.typename !== 'Symbol') walk(node.key, locals, false, found)
      walk(node.value, locals, guarded, found)
      return
    case 'KeywordArgs':
      for (const pair of children(node)) walk(pair.value, locals, guarded, found)
      return
    default:
      for (const child of fieldNodes(node)) walk(child, locals, guarded, found)
  }
}

function walkAll(
  nodes: AstNode[],
  locals: Set<string>,
  guarded: boolean,
  found: ExpressionReference[],
) {
  for (const node of nodes) walk(node, locals, guarded, found)
}

function reference(
  node: AstNode,
  locals: Set<string>,
  guarded: boolean,
  called: boolean,
  found: ExpressionReference[],
): void {
  const chain = chainOf(node)
  for (const key of chain.computed) walk(key, locals, false, found)
  if (chain.base.typename !== 'Symbol') {
    // `"abc".upper()`, `(a or b).c`: what the base reads is a reference of its own.
    walk(chain.base, locals, guarded, found)
    return
  }
  const root = String(chain.base.value)
  if (locals.has(root)) return
  // A method call (`x.items()`) reads `x`, not a key named `items`.
  const path =
    called && chain.path.length > 0 && !chain.dynamic ? chain.path.slice(0, -1) : chain.path
  found.push({
    root,
    path,
    dynamic: chain.dynamic,
    guarded,
    called: called && chain.path.length === 0,
    line: chain.base.lineno + 1,
    column: chain.base.colno + 1,
    text: describeNode(node),
  })
}

function fieldNodes(node: AstNode): AstNode[] {
  const found: AstNode[] = []
  for (const field of node.fields) {
    const value = node[field]
    if (isNode(value)) found.push(value)
    else if (Array.isArray(value)) for (const item of value) if (isNode(item)) found.push(item)
  }
  return found
}
