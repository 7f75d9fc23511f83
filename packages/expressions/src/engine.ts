import {
  ExpressionError,
  ExpressionFault,
  isExpressionError,
  isPassThrough,
  isResourceExhaustion,
  kindOf,
  messageOf,
  templateExcerpt,
} from './expression-error'
import { KITE_FILTERS, KITE_TESTS } from './filters'
import { createBuiltinFunctions } from './functions'
import { LruCache } from './lru-cache'
import { nunjucksBuiltins, nunjucksRuntime } from './nunjucks-internals'
import { type CompiledTemplate, compileTemplate } from './template-compiler'
import {
  createTemplateRuntime,
  RenderFailure,
  TemplateContext,
  type TemplateEnv,
  type TemplateFunction,
} from './template-runtime'
import { bindArguments, isPlainObject, stringValue } from './values'

/** The variables a template sees: `outputs`, `inputs`, `vars`, context functions such as `secret`. */
export type ExpressionContext = Record<string, unknown>

export interface ExpressionEngineOptions {
  /** Extra filters, merged over the built-in ones. */
  filters?: Record<string, (value: unknown, ...args: unknown[]) => unknown>
  /** Extra global functions, merged over the built-in ones. */
  functions?: Record<string, (...args: unknown[]) => unknown>
  /** Max nesting depth for renderDeep and for recursive render() calls (default 10). */
  maxDepth?: number
  /** Max length of one rendered string (default 10 MB); longer is an EXPRESSION_LIMIT error. */
  maxOutputLength?: number
  /**
   * Max number of `{% for %}` iterations (and of `range()` items) in one render, nested
   * `render()` calls included (default 1,000,000); more is an EXPRESSION_LIMIT error.
   */
  maxIterations?: number
  /** How many compiled templates to keep, per rendering mode (default 1000). */
  cacheSize?: number
}

export interface ExpressionEngine {
  /** Renders a template to text (always a string). */
  renderString(template: string, context: ExpressionContext): string
  /**
   * Native-value rule: a template that is exactly one `{{ expr }}` (surrounding whitespace
   * allowed) returns expr's native value (number, boolean, object, array, null); anything else
   * renders to a string. A string with no `{{` / `{%` / `{#` is returned unchanged without
   * touching nunjucks (fast path).
   */
  render(template: string, context: ExpressionContext): unknown
  /**
   * Walks plain objects and arrays (depth-bounded), applying render() to every string value
   * (not keys); other values are kept as they are. Returns a new structure.
   */
  renderDeep(value: unknown, context: ExpressionContext): unknown
  /**
   * Throws ExpressionError with code EXPRESSION_SYNTAX if the template does not parse (used to
   * validate flows at save time without a context). Unknown filters and tests, and unsupported
   * tags (`include`, `extends`, ...), are EXPRESSION_SYNTAX errors too.
   */
  check(template: string): void
  /** True if the string contains an expression or tag. */
  hasExpression(value: string): boolean
}

const NUNJUCKS = nunjucksBuiltins()

/** Names of the built-in filters (for docs and editors). */
export const BUILTIN_FILTERS: readonly string[] = Object.freeze(
  [...new Set([...Object.keys(NUNJUCKS.filters), ...Object.keys(KITE_FILTERS)])].sort(),
)

/** Names of the built-in functions (for docs and editors); `secret` and `kv` come from the context. */
export const BUILTIN_FUNCTIONS: readonly string[] = Object.freeze(
  [
    ...Object.keys(createBuiltinFunctions({ maxIterations: 0 })),
    'render',
    'cycler',
    'joiner',
  ].sort(),
)

/** Names of the built-in tests, as in `{% if x is defined %}`. */
export const BUILTIN_TESTS: readonly string[] = Object.freeze(
  [...new Set([...Object.keys(NUNJUCKS.tests), ...Object.keys(KITE_TESTS)])].sort(),
)

const EXPRESSION_START = /\{[{%#]/

/** True if the string contains `{{`, `{%` or `{#`. */
export function hasExpression(value: string): boolean {
  return typeof value === 'string' && value.indexOf('{') !== -1 && EXPRESSION_START.test(value)
}

/**
 * Creates an expression engine: nunjucks (autoescape off) with Kite's filters, functions,
 * undefined checks, sandbox and limits. Compiled templates are cached per engine.
 *
 * @example
 * const engine = createExpressionEngine()
 * engine.render('{{ outputs.fetch.code }}', { outputs: { fetch: { code: 200 } } }) // 200
 * engine.render('status {{ outputs.fetch.code }}', { outputs: { fetch: { code: 200 } } }) // 'status 200'
 */
export function createExpressionEngine(options: ExpressionEngineOptions = {}): ExpressionEngine {
  const maxDepth = positiveInteger(options.maxDepth, 10, 'maxDepth')
  const maxOutputLength = positiveInteger(
    options.maxOutputLength,
    10 * 1024 * 1024,
    'maxOutputLength',
  )
  const maxIterations = positiveInteger(options.maxIterations, 1_000_000, 'maxIterations')
  const cacheSize = positiveInteger(options.cacheSize, 1000, 'cacheSize')

  const filters: Record<string, TemplateFunction> = Object.create(null)
  for (const [name, code] of Object.entries(NUNJUCKS.filters))
    filters[name] = wrapFilter(name, code)
  for (const [name, def] of Object.entries(KITE_FILTERS)) {
    filters[name] = wrapFilter(name, def.fn, def.params)
  }
  for (const [name, code] of Object.entries(options.filters ?? {})) {
    filters[name] = wrapFilter(name, code)
  }

  const tests: Record<string, TemplateFunction> = Object.assign(
    Object.create(null),
    NUNJUCKS.tests,
    KITE_TESTS,
  )

  const globals: Record<string, unknown> = Object.create(null)
  globals.cycler = NUNJUCKS.globals.cycler
  globals.joiner = NUNJUCKS.globals.joiner
  for (const [name, def] of Object.entries(createBuiltinFunctions({ maxIterations }))) {
    globals[name] = (...args: unknown[]) => def.fn(...bindArguments(`${name}()`, def.params, args))
  }
  globals.render = renderFunction
  Object.assign(globals, options.functions)

  const env: TemplateEnv = {
    opts: { autoescape: false, throwOnUndefined: false },
    filters,
    tests,
    globals,
    getFilter(name) {
      const found = filters[name]
      if (!found) throw new ExpressionFault('EXPRESSION_FILTER', `unknown filter "${name}"`)
      return found
    },
    getTest(name) {
      const found = tests[name]
      if (!found) throw new ExpressionFault('EXPRESSION_FILTER', `unknown test "${name}"`)
      return found
    },
  }

  // Rendering is synchronous, so one set of counters per engine tracks the render in progress
  // (and the render() calls nested in it).
  let depth = 0
  let iterations = 0
  let outputLength = 0
  const contexts: TemplateContext[] = []

  const runtime = createTemplateRuntime({
    countIterations(count) {
      iterations += count
      if (iterations > maxIterations) {
        throw new ExpressionFault(
          'EXPRESSION_LIMIT',
          'too many loop iterations',
          `more than ${maxIterations} in one render`,
        )
      }
    },
    countOutput(length) {
      outputLength += length
      if (outputLength > maxOutputLength) {
        throw new ExpressionFault(
          'EXPRESSION_LIMIT',
          'output is too long',
          `more than ${maxOutputLength} characters`,
        )
      }
    },
  })

  const textCache = new LruCache<string, CompiledTemplate | ExpressionError>(cacheSize)
  const valueCache = new LruCache<string, CompiledTemplate | ExpressionError>(cacheSize)

  function compiled(source: string, native: boolean): CompiledTemplate {
    const cache = native ? valueCache : textCache
    let entry = cache.get(source)
    if (entry === undefined) {
      try {
        entry = compileTemplate(source, { filters, tests, native })
      } catch (error) {
        if (!isExpressionError(error)) throw error
        entry = error
      }
      cache.set(source, entry)
    }
    if (entry instanceof ExpressionError) throw entry
    return entry
  }

  function execute(
    template: CompiledTemplate,
    source: string,
    variables: ExpressionContext,
    locals?: Record<string, unknown>,
  ): unknown {
    if (depth >= maxDepth) {
      throw new ExpressionError({
        code: 'EXPRESSION_LIMIT',
        message: `render() is nested more than ${maxDepth} levels deep at "${templateExcerpt(source)}"`,
        template: source,
      })
    }
    if (depth === 0) {
      iterations = 0
      outputLength = 0
    }
    const vars = typeof variables === 'object' && variables !== null ? variables : {}
    const context = new TemplateContext(vars, env, locals)
    const frame = new nunjucksRuntime.Frame()
    frame.topLevel = true
    let failure: unknown
    let failed = false
    let result: unknown
    depth++
    contexts.push(context)
    try {
      template.root(env, context, frame, runtime, (error, value) => {
        if (error) {
          failed = true
          failure = error
        } else {
          result = value
        }
      })
    } catch (error) {
      failed = true
      failure = error
    } finally {
      depth--
      contexts.pop()
    }
    if (failed) throw toExpressionError(failure, source)
    if (typeof result === 'string' && result.length > maxOutputLength) {
      throw new ExpressionError({
        code: 'EXPRESSION_LIMIT',
        message: `output of "${templateExcerpt(source)}" is too long: ${result.length} characters, the limit is ${maxOutputLength}`,
        template: source,
      })
    }
    return result
  }

  /** The `render(template)` function templates call: renders with the current variables. */
  function renderFunction(template: unknown): unknown {
    const source = stringValue(template)
    if (source === undefined || !hasExpression(source)) return source ?? template
    const current = contexts[contexts.length - 1]
    return execute(compiled(source, true), source, current?.vars ?? {}, current?.getLocals())
  }

  function render(template: string, context: ExpressionContext): unknown {
    if (typeof template !== 'string' || !hasExpression(template)) return template
    return execute(compiled(template, true), template, context)
  }

  function renderDeepAt(
    value: unknown,
    context: ExpressionContext,
    level: number,
    path: string,
  ): unknown {
    if (typeof value === 'string') {
      try {
        return render(value, context)
      } catch (error) {
        throw path ? atPath(error, path) : error
      }
    }
    const isList = Array.isArray(value)
    if (!isList && !isPlainObject(value)) return value
    if (level >= maxDepth) {
      throw new ExpressionError({
        code: 'EXPRESSION_LIMIT',
        message: `value is nested more than ${maxDepth} levels deep${path ? ` at ${path}` : ''}`,
        template: '',
        ...(path ? { path } : {}),
      })
    }
    if (isList) {
      return value.map((item, index) => renderDeepAt(item, context, level + 1, `${path}[${index}]`))
    }
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        renderDeepAt(item, context, level + 1, joinPath(path, key)),
      ]),
    )
  }

  return {
    renderString(template, context) {
      if (typeof template !== 'string' || !hasExpression(template)) return template
      return execute(compiled(template, false), template, context) as string
    },
    render,
    renderDeep(value, context) {
      return renderDeepAt(value, context, 0, '')
    },
    check(template) {
      if (hasExpression(template)) compiled(template, false)
    },
    hasExpression,
  }
}

/** Wraps a filter so its failures name it and keep the original error as `cause`. */
function wrapFilter(
  name: string,
  code: (this: unknown, value: unknown, ...args: unknown[]) => unknown,
  params?: readonly string[],
): TemplateFunction {
  const owner = `filter "${name}"`
  return function kiteFilter(this: unknown, value: unknown, ...args: unknown[]): unknown {
    try {
      return code.call(this, value, ...(params ? bindArguments(owner, params, args) : args))
    } catch (error) {
      if (isPassThrough(error)) throw error
      throw new ExpressionFault('EXPRESSION_FILTER', `${owner} failed`, messageOf(error), {
        cause: error,
        kind: kindOf(error),
      })
    }
  }
}

function toExpressionError(failure: unknown, source: string): ExpressionError {
  const error = failure instanceof RenderFailure ? failure.error : failure
  if (isExpressionError(error)) return error
  const line =
    failure instanceof RenderFailure && failure.lineno !== undefined
      ? failure.lineno + 1
      : undefined
  const column =
    failure instanceof RenderFailure && failure.colno !== undefined ? failure.colno + 1 : undefined
  let fault: ExpressionFault
  if (error instanceof ExpressionFault) {
    fault = error
  } else if (isResourceExhaustion(error)) {
    fault = error.message.includes('Maximum call stack size exceeded')
      ? new ExpressionFault(
          'EXPRESSION_LIMIT',
          'expression recursion is too deep',
          'maximum call stack size exceeded (does a macro call itself?)',
          { cause: error },
        )
      : new ExpressionFault('EXPRESSION_LIMIT', 'expression result is too large', error.message, {
          cause: error,
        })
  } else {
    fault = new ExpressionFault('EXPRESSION_ERROR', 'expression failed', messageOf(error), {
      cause: error,
      kind: kindOf(error),
    })
  }
  const where = line !== undefined ? ` (line ${line})` : ''
  return new ExpressionError({
    code: fault.code,
    kind: fault.kind,
    message: `${fault.summary} in "${templateExcerpt(source, line)}"${where}${fault.detail ? `: ${fault.detail}` : ''}`,
    template: source,
    ...(line !== undefined ? { line } : {}),
    ...(column !== undefined ? { column } : {}),
    cause: fault.cause,
  })
}

function atPath(error: unknown, path: string): unknown {
  if (!isExpressionError(error)) return error
  return new ExpressionError({
    code: error.code,
    kind: error.kind,
    message: `${error.message} (at ${path})`,
    template: error.template,
    ...(error.line !== undefined ? { line: error.line } : {}),
    ...(error.column !== undefined ? { column: error.column } : {}),
    cause: error.cause,
    path,
  })
}

function joinPath(path: string, key: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) return path ? `${path}.${key}` : key
  return `${path}[${JSON.stringify(key)}]`
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`)
  }
  return value
}
