import { children, describeNode } from './describe-node'
import {
  ExpressionError,
  isResourceExhaustion,
  messageOf,
  templateExcerpt,
} from './expression-error'
import {
  type AstNode,
  CoalesceNode,
  Compiler,
  type CompilerFrame,
  isNode,
  lexer,
  type NunjucksTemplateError,
  Parser,
  StrictNode,
} from './nunjucks-internals'
import { closestName } from './suggest'
import type { TemplateContext, TemplateEnv } from './template-runtime'

/**
 * Turns template source into a render function, with nunjucks' lexer, parser and code generator
 * but not its `Environment`: the AST is checked and adjusted in between.
 *
 * Why not plain `env.renderString`: nunjucks 3.2.4 pastes some names from the template (variables,
 * filter and test names, `{% set %}` targets, macro arguments) into the JavaScript it generates
 * without escaping them, so `{{ a"&&Function`...`&&" }}` runs arbitrary code. Every such name is
 * checked here against a strict pattern before any code exists. The adjusted code generator also
 * makes undefined values an error where they would silently print nothing, adds `??`, and
 * evaluates a lone `{{ expr }}` to its native value.
 */

export type RenderCallback = (error: unknown, result?: unknown) => void

export type RootRenderFunction = (
  env: TemplateEnv,
  context: TemplateContext,
  frame: unknown,
  runtime: Record<string, unknown>,
  callback: RenderCallback,
) => void

export interface CompiledTemplate {
  /** True when the template is a single `{{ expr }}` and renders to expr's native value. */
  readonly native: boolean
  readonly root: RootRenderFunction
}

export interface CompileOptions {
  filters: Readonly<Record<string, unknown>>
  tests: Readonly<Record<string, unknown>>
  /** Apply the native-value rule when the template is a single expression. */
  native: boolean
}

/** Operators whose operands must not be undefined (`"a" ~ missing` is not "aundefined"). */
const STRICT_OPERANDS: Record<string, readonly string[]> = {
  Add: ['left', 'right'],
  Sub: ['left', 'right'],
  Mul: ['left', 'right'],
  Div: ['left', 'right'],
  FloorDiv: ['left', 'right'],
  Mod: ['left', 'right'],
  Pow: ['left', 'right'],
  Concat: ['left', 'right'],
  Neg: ['target'],
  Pos: ['target'],
}

/** Filters whose input may be undefined: they exist to replace it. */
const LENIENT_FILTERS = new Set(['default', 'd'])

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
const FILTER_NAME = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/

const UNSUPPORTED: Record<string, string> = {
  Extends: '{% extends %}',
  Include: '{% include %}',
  Import: '{% import %}',
  FromImport: '{% from %}',
  Block: '{% block %}',
  Super: 'super()',
  IfAsync: '{% ifAsync %}',
  AsyncEach: '{% asyncEach %}',
  AsyncAll: '{% asyncAll %}',
  CallExtension: 'extension tags',
  CallExtensionAsync: 'extension tags',
  FilterAsync: 'asynchronous filters',
}

/** A problem found while checking the AST, at a node's 0-based position. */
class TemplateIssue extends Error {
  constructor(
    message: string,
    readonly lineno: number,
    readonly colno: number,
  ) {
    super(message)
  }
}

/**
 * Parses template source into nunjucks' AST (with Kite's `??`) without checking names or
 * generating code; `expressionReferences` walks it. Throws EXPRESSION_SYNTAX like `check`.
 */
export function parseTemplate(source: string): AstNode {
  try {
    return new KiteParser(lexer.lex(source, {})).parseAsRoot()
  } catch (error) {
    throw syntaxError(source, error)
  }
}

export function compileTemplate(source: string, options: CompileOptions): CompiledTemplate {
  let root: AstNode
  try {
    root = new KiteParser(lexer.lex(source, {})).parseAsRoot()
    checkNode(root, options)
  } catch (error) {
    throw syntaxError(source, error)
  }
  const native = options.native && isSingleExpression(source, root)
  const compiler = new KiteCompiler(undefined, false)
  compiler.native = native
  let code: string
  try {
    compiler.compile(root)
    code = compiler.getCode()
  } catch (error) {
    throw syntaxError(source, error)
  }
  let props: { root: RootRenderFunction }
  try {
    props = new Function(code)() as { root: RootRenderFunction }
  } catch (error) {
    // The names pasted into the code were all checked, so this is our bug, not the author's.
    throw new ExpressionError({
      code: 'EXPRESSION_ERROR',
      kind: 'internal',
      message: `could not compile "${templateExcerpt(source)}": ${messageOf(error)}`,
      template: source,
      cause: error,
    })
  }
  return { native, root: props.root }
}

/** `a ?? b`, Pebble's null-coalescing operator. Binds tighter than other binary operators. */
class KiteParser extends Parser {
  override parseUnary(noFilters?: boolean): AstNode {
    let node = super.parseUnary(noFilters)
    if (noFilters) return node
    for (;;) {
      const next = this.peekToken()
      if (next?.type === 'symbol' && next.value.startsWith('??') && next.value !== '??') {
        this.fail('put a space after "??"', next.lineno, next.colno)
      }
      if (!this.skipSymbol('??')) return node
      const right = super.parseUnary(false)
      node = new CoalesceNode(node.lineno, node.colno, node, right)
    }
  }
}

function checkNode(node: AstNode, options: CompileOptions): void {
  const unsupported = UNSUPPORTED[node.typename]
  if (unsupported) throw issue(node, `${unsupported} is not supported in Kite expressions`)
  switch (node.typename) {
    case 'Symbol':
      checkName(node)
      return
    case 'Filter':
      checkFilterName(node.name, options)
      for (const arg of children(node.args)) checkNode(arg, options)
      return
    case 'Is':
      checkIs(node, options)
      return
    case 'Set':
      for (const target of asNodes(node.targets)) requireName(target, '{% set %} target')
      if (isNode(node.value)) checkNode(node.value, options)
      if (isNode(node.body)) checkNode(node.body, options)
      return
    case 'For': {
      const name = node.name
      if (isNode(name) && name.typename === 'Array') {
        for (const part of children(name)) requireName(part, 'loop variable')
      } else {
        requireName(name, 'loop variable')
      }
      const list = node.arr
      if (isNode(list)) {
        checkNode(list, options)
        // A loop over a misspelt variable is an error, not an empty loop.
        node.arr = new StrictNode(list.lineno, list.colno, list)
      }
      if (isNode(node.body)) checkNode(node.body, options)
      if (isNode(node.else_)) checkNode(node.else_, options)
      return
    }
    case 'Macro':
    case 'Caller':
      requireName(node.name, 'macro name')
      for (const arg of children(node.args)) {
        if (arg.typename === 'KeywordArgs') {
          for (const pair of children(arg)) {
            requireName(pair.key, 'macro argument')
            if (isNode(pair.value)) checkNode(pair.value, options)
          }
        } else {
          requireName(arg, 'macro argument')
        }
      }
      if (isNode(node.body)) checkNode(node.body, options)
      return
    case 'Pair': {
      const key = node.key
      if (isNode(key) && key.typename === 'Symbol') checkName(key)
      else if (!(isNode(key) && key.typename === 'Literal' && typeof key.value === 'string')) {
        throw issue(node, 'keys must be strings or names')
      } else if (key.value === '__proto__') {
        throw issue(node, '"__proto__" cannot be used as a key')
      }
      if (isNode(node.value)) checkNode(node.value, options)
      return
    }
    default: {
      for (const child of fieldNodes(node)) checkNode(child, options)
      for (const field of STRICT_OPERANDS[node.typename] ?? []) {
        const operand = node[field]
        if (isNode(operand)) node[field] = new StrictNode(operand.lineno, operand.colno, operand)
      }
    }
  }
}

function fieldNodes(node: AstNode): AstNode[] {
  if (Array.isArray(node.children)) return asNodes(node.children)
  const found: AstNode[] = []
  for (const field of node.fields) {
    const value = node[field]
    if (isNode(value)) found.push(value)
    else if (Array.isArray(value)) found.push(...asNodes(value))
  }
  return found
}

function asNodes(value: unknown): AstNode[] {
  return Array.isArray(value) ? value.filter(isNode) : []
}

function checkName(node: AstNode): void {
  const value = String(node.value)
  if (NAME.test(value)) return
  if (value.includes('??')) throw issue(node, `put spaces around "??" in "${value}"`)
  if (/^[-+]?\d/.test(value)) throw issue(node, `"${value}" is not a valid number`)
  const hint = /^[\w-]+$/.test(value) ? `; write such keys as x['${value}']` : ''
  throw issue(node, `"${value}" is not a valid name (names use letters, digits and _${hint})`)
}

function requireName(node: unknown, what: string): void {
  if (!isNode(node) || node.typename !== 'Symbol') {
    throw issue(isNode(node) ? node : undefined, `${what} must be a name`)
  }
  checkName(node)
}

function checkFilterName(node: unknown, options: CompileOptions): void {
  if (!isNode(node) || node.typename !== 'Symbol') throw issue(undefined, 'expected a filter name')
  const name = String(node.value)
  if (!FILTER_NAME.test(name)) throw issue(node, `"${name}" is not a valid filter name`)
  if (!Object.hasOwn(options.filters, name)) {
    const suggestion = closestName(name, Object.keys(options.filters))
    throw issue(
      node,
      `unknown filter "${name}"${suggestion ? `; did you mean "${suggestion}"?` : ''}`,
    )
  }
}

function checkIs(node: AstNode, options: CompileOptions): void {
  if (isNode(node.left)) checkNode(node.left, options)
  const right = node.right
  let nameNode: unknown = right
  if (isNode(right) && right.typename === 'FunCall') {
    nameNode = right.name
    for (const arg of children(right.args)) checkNode(arg, options)
  }
  // `x is none` and `x is null`: the lexer reads none/null as a literal; nunjucks then uses the
  // literal's value, which prints as the test name "null".
  const isNullTest = isNode(nameNode) && nameNode.typename === 'Literal' && nameNode.value === null
  if (!isNode(nameNode) || (nameNode.typename !== 'Symbol' && !isNullTest)) {
    throw issue(node, 'expected the name of a test after "is" (e.g. "x is defined")')
  }
  const name = isNullTest ? 'null' : String(nameNode.value)
  if (!NAME.test(name) || !Object.hasOwn(options.tests, name)) {
    const suggestion = closestName(name, Object.keys(options.tests))
    throw issue(
      nameNode,
      `unknown test "${name}"${suggestion ? `; did you mean "${suggestion}"?` : ''}`,
    )
  }
}

function issue(node: AstNode | undefined, message: string): TemplateIssue {
  return new TemplateIssue(message, node?.lineno ?? 0, node?.colno ?? 0)
}

/** True for `{{ expr }}` alone (whitespace around allowed): the native-value rule applies. */
function isSingleExpression(source: string, root: AstNode): boolean {
  const trimmed = source.trim()
  if (!trimmed.startsWith('{{') || !trimmed.endsWith('}}')) return false
  let expressions = 0
  for (const output of children(root)) {
    if (output.typename !== 'Output') return false
    for (const part of children(output)) {
      if (part.typename === 'TemplateData') {
        if (String(part.value).trim() !== '') return false
      } else {
        expressions++
      }
    }
  }
  return expressions === 1
}

/** nunjucks' code generator with Kite's output, filter-input and `??` rules. */
class KiteCompiler extends Compiler {
  native = false
  /** Inside a loop or macro, literal text may repeat: it counts towards the output limit. */
  private repeating = 0

  override compileFor(node: AstNode, frame: CompilerFrame): void {
    this.repeating++
    try {
      super.compileFor(node, frame)
    } finally {
      this.repeating--
    }
  }

  override _compileMacro(node: AstNode, frame?: CompilerFrame): string {
    this.repeating++
    try {
      return super._compileMacro(node, frame)
    } finally {
      this.repeating--
    }
  }

  compileOutput(node: AstNode, frame: CompilerFrame): void {
    for (const child of children(node)) {
      if (child.typename === 'TemplateData') {
        const text = String(child.value ?? '')
        if (!this.native && text) {
          if (this.repeating) this._emit(`runtime.kiteCount(${text.length}); `)
          this._emitLine(`${this.buffer} += ${JSON.stringify(text)};`)
        }
        continue
      }
      const position = `lineno = ${node.lineno}, colno = ${node.colno}, `
      if (this.native) {
        this._emit(`${this.buffer} = (${position}runtime.kiteValue(`)
        this.compileStrict(child, frame)
        this._emitLine(`, ${JSON.stringify(describeNode(child))}));`)
      } else {
        this._emit(`${this.buffer} += (${position}runtime.kiteText(`)
        this.compileStrict(child, frame)
        this._emitLine(`, ${JSON.stringify(describeNode(child))}));`)
      }
    }
  }

  compileFilter(node: AstNode, frame: CompilerFrame): void {
    const name = String((node.name as AstNode).value)
    this._emit(`(lineno = ${node.lineno}, colno = ${node.colno}, `)
    this._emit(`env.getFilter(${JSON.stringify(name)}).call(context`)
    children(node.args).forEach((arg, index) => {
      this._emit(', ')
      if (index === 0 && !LENIENT_FILTERS.has(name)) this.compileStrict(arg, frame)
      else this.compile(arg, frame)
    })
    this._emit('))')
  }

  /** `a ~ b` joins the operands as text output would show them (null as nothing, maps as JSON). */
  compileConcat(node: AstNode, frame: CompilerFrame): void {
    this._emit('runtime.kiteConcat(')
    this.compile(node.left as AstNode, frame)
    this._emit(', ')
    this.compile(node.right as AstNode, frame)
    this._emit(')')
  }

  compileCoalesce(node: AstNode, frame: CompilerFrame): void {
    const id = this._tmpid()
    // The right side is only evaluated when needed, like `??` in JavaScript.
    this._emit(`(function(${id}) { return ${id} !== undefined && ${id} !== null ? ${id} : (`)
    this._compileExpression(node.right as AstNode, frame)
    this._emit('); })(')
    this._compileExpression(node.left as AstNode, frame)
    this._emit(')')
  }

  compileKiteStrict(node: AstNode, frame: CompilerFrame): void {
    this.compileStrict(node.target as AstNode, frame)
  }

  override _compileExpression(node: AstNode, frame: CompilerFrame): void {
    if (node.typename === 'Coalesce' || node.typename === 'KiteStrict') this.compile(node, frame)
    else super._compileExpression(node, frame)
  }

  /** The callee's name in "cannot call" messages; nunjucks pastes it into a JS string. */
  _getNodeName(node: AstNode): string {
    return describeNode(node).replace(/["\\\n\r\u2028\u2029]/g, "'")
  }

  /** Evaluates an expression whose value must not be undefined. */
  private compileStrict(node: AstNode, frame: CompilerFrame): void {
    if (node.typename === 'Symbol' || node.typename === 'LookupVal') {
      this.compilePath(node, frame, JSON.stringify(describeNode(node)))
    } else {
      this._emit('runtime.kiteDefined(')
      // compile, not _compileExpression: `{% filter %}` blocks pass a Capture node here
      this.compile(node, frame)
      this._emit(`, ${JSON.stringify(describeNode(node))})`)
    }
  }

  /** `a.b.c` as nested strict steps, so the error can say which step found nothing. */
  private compilePath(node: AstNode, frame: CompilerFrame, full: string): void {
    if (node.typename === 'Symbol') {
      this._emit('runtime.kiteRoot(')
      this.compile(node, frame)
      this._emit(`, ${JSON.stringify(String(node.value))}, ${full}, context)`)
    } else if (node.typename === 'LookupVal') {
      this._emit('runtime.kiteGet(')
      this.compilePath(node.target as AstNode, frame, full)
      this._emit(', ')
      this._compileExpression(node.val as AstNode, frame)
      this._emit(`, ${JSON.stringify(describeNode(node.target))}, ${full})`)
    } else {
      this._compileExpression(node, frame)
    }
  }
}

/** nunjucks' messages, without the internal function names some of them start with. */
function cleanMessage(message: string): string {
  return message
    .replace(/^(Template render error: )?(\([^)]*\) )?(\[Line \d+, Column \d+\]\s*)?/, '')
    .replace(/^(Error: )?(parse\w*|compile\w*|advance\w*|assertType): /, '')
    .replace(/^unknown block tag: (\S+)/, 'unknown tag "$1"')
    .trim()
}

function syntaxError(source: string, error: unknown): ExpressionError {
  if (error instanceof ExpressionError) return error
  if (isResourceExhaustion(error)) {
    return new ExpressionError({
      code: 'EXPRESSION_LIMIT',
      message: `template "${templateExcerpt(source)}" is nested too deeply to compile`,
      template: source,
      cause: error,
    })
  }
  let line: number | undefined
  let column: number | undefined
  if (error instanceof TemplateIssue) {
    line = error.lineno + 1
    column = error.colno + 1
  } else {
    const position = error as NunjucksTemplateError
    line = typeof position.lineno === 'number' && position.lineno > 0 ? position.lineno : undefined
    column = typeof position.colno === 'number' && position.colno > 0 ? position.colno : undefined
  }
  const where = line ? ` (line ${line}${column ? `, column ${column}` : ''})` : ''
  return new ExpressionError({
    code: 'EXPRESSION_SYNTAX',
    message: `syntax error in "${templateExcerpt(source, line)}"${where}: ${cleanMessage(messageOf(error))}`,
    template: source,
    ...(line !== undefined ? { line } : {}),
    ...(column !== undefined ? { column } : {}),
    cause: error,
  })
}
