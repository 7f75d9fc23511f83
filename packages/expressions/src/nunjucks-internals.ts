import { createRequire } from 'node:module'

/**
 * Typed handles on the parts of nunjucks 3.2.4 that its public types do not describe: the lexer,
 * parser, AST node classes, compiler, runtime helpers and built-in filters. The engine drives
 * these directly so it can check the AST before any code is generated (see
 * template-compiler.ts for why). nunjucks' `Environment` (loaders, async rendering, and the
 * `asap` and `a-sync-waterfall` packages it needs) is never loaded.
 *
 * The modules are CommonJS and loaded with `require`: an ESM default import of `filters.js`
 * could yield its `default` filter instead of the module, depending on the loader's interop.
 */
const require = createRequire(import.meta.url)
const load = (name: string): unknown => require(`nunjucks/src/${name}.js`)

/** An AST node. Fields differ per node type; `typename` says which type it is. */
export interface AstNode {
  readonly typename: string
  readonly fields: readonly string[]
  lineno: number
  colno: number
  [field: string]: unknown
}

export type NodeClass = new (lineno: number, colno: number, ...fields: unknown[]) => AstNode

interface NodeClassWithExtend extends NodeClass {
  extend(name: string, props?: Record<string, unknown>): NodeClass
}

/** The compile-time frame: maps template names to generated JS variable names. */
export interface CompilerFrame {
  lookup(name: string): string | undefined
}

export interface NunjucksCompiler {
  buffer: string
  _emit(code: string): void
  _emitLine(code: string): void
  _compileExpression(node: AstNode, frame: CompilerFrame): void
  _tmpid(): string
  _compileMacro(node: AstNode, frame?: CompilerFrame): string
  compileFor(node: AstNode, frame: CompilerFrame): void
  compile(node: AstNode, frame?: CompilerFrame): void
  getCode(): string
}

export type NunjucksCompilerClass = new (
  templateName: string | undefined,
  throwOnUndefined: boolean,
) => NunjucksCompiler

export interface LexerToken {
  type: string
  value: string
  lineno: number
  colno: number
}

export interface NunjucksParser {
  peekToken(): LexerToken | null
  /** Throws a syntax error; line and column are 0-based here. */
  fail(message: string, lineno?: number, colno?: number): never
  skipSymbol(value: string): boolean
  parseUnary(noFilters?: boolean): AstNode
  parseAsRoot(): AstNode
}

export type NunjucksParserClass = new (tokens: unknown) => NunjucksParser

/** A runtime frame (template variables of the current scope). */
export interface RuntimeFrame {
  topLevel: boolean
  lookup(name: string): unknown
}

/** What nunjucks' runtime module exposes to compiled code. */
export interface NunjucksRuntime {
  Frame: new () => RuntimeFrame
  SafeString: new (value: string) => { val: string; toString(): string }
  fromIterator(value: unknown): unknown
  [helper: string]: unknown
}

/** What the lexer, parser and compiler throw (nunjucks' `lib.TemplateError`). */
export interface NunjucksTemplateError extends Error {
  lineno?: number
  colno?: number
}

type FilterFunction = (this: unknown, ...args: unknown[]) => unknown

export const lexer = load('lexer') as {
  lex(source: string, options: Record<string, unknown>): unknown
}
export const Parser = (load('parser') as { Parser: NunjucksParserClass }).Parser
export const Compiler = (load('compiler') as { Compiler: NunjucksCompilerClass }).Compiler
const nodes = load('nodes') as Record<string, NodeClassWithExtend> & {
  Node: NodeClassWithExtend
  BinOp: NodeClassWithExtend
}
export const nunjucksRuntime = load('runtime') as NunjucksRuntime
export const SafeString = nunjucksRuntime.SafeString

/** `a ?? b`: `a` unless it is undefined or null, else `b` (evaluated only when needed). */
export const CoalesceNode = nodes.BinOp.extend('Coalesce')

/** Marks an expression whose value must not be undefined (output, filter input, for-loop list). */
export const StrictNode = nodes.Node.extend('KiteStrict', { fields: ['target'] })

/** nunjucks' own filters, tests and globals (range, cycler, joiner). */
export function nunjucksBuiltins(): {
  filters: Record<string, FilterFunction>
  tests: Record<string, FilterFunction>
  globals: Record<string, unknown>
} {
  const filters = load('filters') as Record<string, FilterFunction>
  const tests = load('tests') as Record<string, FilterFunction>
  const globals = (load('globals') as () => Record<string, unknown>)()
  return { filters: { ...filters }, tests: { ...tests }, globals }
}

export function isNode(value: unknown): value is AstNode {
  return value instanceof nodes.Node
}
