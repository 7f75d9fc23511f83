/** What went wrong with an expression; stable, for code that reacts to errors. */
export type ExpressionErrorCode =
  /** The template does not parse, or uses an unknown filter or test, or an unsupported tag. */
  | 'EXPRESSION_SYNTAX'
  /** A value that must exist (output, filter input, loop list) is undefined. */
  | 'EXPRESSION_UNDEFINED'
  /** A filter failed (bad input or arguments). */
  | 'EXPRESSION_FILTER'
  /** A function is missing or failed (including functions the caller put into the context). */
  | 'EXPRESSION_FUNCTION'
  /** A bound was hit: output length, nesting depth, recursion, loop iterations. */
  | 'EXPRESSION_LIMIT'
  /** Anything else while evaluating, e.g. a getter on a context object threw. */
  | 'EXPRESSION_ERROR'

/** Who has to act: template problems are the flow author's (`user`). */
export type ExpressionErrorKind = 'user' | 'operational' | 'internal'

export interface ExpressionErrorOptions {
  code: ExpressionErrorCode
  message: string
  /** The template being rendered when the error happened. */
  template: string
  line?: number
  column?: number
  cause?: unknown
  /** Defaults to `user`. */
  kind?: ExpressionErrorKind
  /** Where in a structure given to `renderDeep` the template was, e.g. `headers.Authorization`. */
  path?: string
}

/**
 * The one error class of `@kite/expressions`.
 *
 * @example
 * try {
 *   engine.render('{{ outputs.fetch.body }}', context)
 * } catch (error) {
 *   if (isExpressionError(error) && error.code === 'EXPRESSION_UNDEFINED') ...
 * }
 */
export class ExpressionError extends Error {
  readonly code: ExpressionErrorCode
  readonly kind: ExpressionErrorKind
  readonly template: string
  // `declare`: set only when known, so they are absent rather than present and undefined
  declare readonly line?: number
  declare readonly column?: number
  declare readonly path?: string

  constructor(options: ExpressionErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'ExpressionError'
    this.code = options.code
    this.kind = options.kind ?? 'user'
    this.template = options.template
    if (options.line !== undefined) this.line = options.line
    if (options.column !== undefined) this.column = options.column
    if (options.path !== undefined) this.path = options.path
  }
}

const CODES: ReadonlySet<string> = new Set<ExpressionErrorCode>([
  'EXPRESSION_SYNTAX',
  'EXPRESSION_UNDEFINED',
  'EXPRESSION_FILTER',
  'EXPRESSION_FUNCTION',
  'EXPRESSION_LIMIT',
  'EXPRESSION_ERROR',
])

/** True for an ExpressionError from any copy of this package (instanceof fails across copies). */
export function isExpressionError(error: unknown): error is ExpressionError {
  if (error instanceof ExpressionError) return true
  return (
    error instanceof Error &&
    error.name === 'ExpressionError' &&
    CODES.has(String((error as { code?: unknown }).code)) &&
    typeof (error as { template?: unknown }).template === 'string'
  )
}

/**
 * Thrown while evaluating, before the template, line and column are known; the engine turns it
 * into an ExpressionError. `summary` goes before the location, `detail` after it.
 */
export class ExpressionFault extends Error {
  readonly code: ExpressionErrorCode
  readonly summary: string
  readonly detail: string | undefined
  readonly kind: ExpressionErrorKind

  constructor(
    code: ExpressionErrorCode,
    summary: string,
    detail?: string,
    options: { cause?: unknown; kind?: ExpressionErrorKind } = {},
  ) {
    super(
      detail ? `${summary}: ${detail}` : summary,
      options.cause === undefined ? undefined : { cause: options.cause },
    )
    this.name = 'ExpressionFault'
    this.code = code
    this.summary = summary
    this.detail = detail
    this.kind = options.kind ?? 'user'
  }
}

/** The `kind` an error thrown by caller code asks for, if it carries a valid one. */
export function kindOf(error: unknown): ExpressionErrorKind {
  const kind = (error as { kind?: unknown } | null)?.kind
  return kind === 'operational' || kind === 'internal' ? kind : 'user'
}

/** Errors that must travel up unchanged instead of being wrapped by a filter or function. */
export function isPassThrough(error: unknown): boolean {
  return error instanceof ExpressionFault || isExpressionError(error) || isResourceExhaustion(error)
}

/**
 * Stack overflow or an oversized string/array: reported as EXPRESSION_LIMIT. Close to the stack
 * limit even compiling a regular expression fails (with a SyntaxError), so this test uses plain
 * string searches and accepts any error that reports a stack overflow.
 */
export function isResourceExhaustion(error: unknown): error is Error {
  if (!(error instanceof Error)) return false
  const message = error.message
  if (message.includes('Maximum call stack size exceeded')) return true
  return (
    error instanceof RangeError &&
    (message.includes('Invalid string length') ||
      message.includes('Invalid array length') ||
      message.includes('Array buffer allocation failed'))
  )
}

export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message
  return String(error)
}

const EXCERPT_LENGTH = 100

/**
 * The part of a template to quote in a message: all of it when short and on one line, otherwise
 * the line the problem is on, shortened.
 */
export function templateExcerpt(template: string, line?: number): string {
  const lines = template.split('\n')
  let text = template
  if (lines.length > 1 || template.length > EXCERPT_LENGTH) {
    text = (line !== undefined ? lines[line - 1] : undefined) ?? lines[0] ?? ''
    text = text.trim()
  }
  return text.length > EXCERPT_LENGTH ? `${text.slice(0, EXCERPT_LENGTH - 1)}…` : text
}
