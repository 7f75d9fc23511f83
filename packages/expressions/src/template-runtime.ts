import { ExpressionFault, isPassThrough, kindOf, messageOf } from './expression-error'
import { nunjucksRuntime, type RuntimeFrame, SafeString } from './nunjucks-internals'
import { closestName, listNames } from './suggest'
import { describeValue, toText, typeName } from './values'

/**
 * The runtime compiled templates call into. It starts from nunjucks' runtime and replaces the
 * pieces that decide what a template may see and how failures read:
 * - variable and member lookups never reach JavaScript internals (`constructor`, `__proto__`,
 *   members of functions) or mutate values (`list.push`),
 * - calls report missing functions (`secret()` without a secret store) clearly and keep the
 *   original message of functions that throw,
 * - `kite*` helpers make output, filter input and loop lists strict about undefined, naming the
 *   part of the path that is missing.
 */

export type TemplateFunction = (this: unknown, ...args: unknown[]) => unknown

/** What compiled code and nunjucks' filters expect of `env`. */
export interface TemplateEnv {
  readonly opts: { autoescape: boolean; throwOnUndefined: boolean }
  readonly filters: Record<string, TemplateFunction>
  readonly tests: Record<string, TemplateFunction>
  readonly globals: Record<string, unknown>
  getFilter(name: string): TemplateFunction
  getTest(name: string): TemplateFunction
}

/** The `context` compiled code sees: the caller's variables, plus top-level `{% set %}` ones. */
export class TemplateContext {
  readonly vars: Record<string, unknown>
  readonly env: TemplateEnv
  private locals: Record<string, unknown> | undefined

  constructor(vars: Record<string, unknown>, env: TemplateEnv, locals?: Record<string, unknown>) {
    this.vars = vars
    this.env = env
    this.locals = locals ? Object.assign(Object.create(null), locals) : undefined
  }

  lookup(name: string): unknown {
    if (this.locals !== undefined && name in this.locals) return this.locals[name]
    const vars = this.vars
    if (Object.hasOwn(vars, name) || (name in vars && !(name in Object.prototype))) {
      return vars[name]
    }
    const globals = this.env.globals
    return Object.hasOwn(globals, name) ? globals[name] : undefined
  }

  setVariable(name: string, value: unknown): void {
    this.locals ??= Object.create(null) as Record<string, unknown>
    this.locals[name] = value
  }

  /** Top-level `{% set %}` variables, for `render()` to pass on. */
  getLocals(): Record<string, unknown> | undefined {
    return this.locals
  }

  /** Names a template can read, for "known variables" hints. */
  variableNames(): string[] {
    const names = new Set(Object.keys(this.vars))
    for (const name of Object.keys(this.locals ?? {})) names.add(name)
    return [...names]
  }

  // nunjucks compiles `{% set %}` and `{% macro %}` at top level to these; exports are unused.
  addExport(): void {}
}

/** An error caught by compiled code, with the template position it happened at (0-based). */
export class RenderFailure {
  constructor(
    readonly error: unknown,
    readonly lineno: number | undefined,
    readonly colno: number | undefined,
  ) {}
}

const FORBIDDEN_MEMBERS = new Set([
  'constructor',
  'prototype',
  '__proto__',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
  'caller',
  'callee',
  'arguments',
])

const MUTATORS: ReadonlySet<unknown> = new Set(
  [
    ...pick(Array.prototype, [
      'push',
      'pop',
      'shift',
      'unshift',
      'splice',
      'sort',
      'reverse',
      'fill',
      'copyWithin',
    ]),
    ...pick(Map.prototype, ['set', 'delete', 'clear']),
    ...pick(Set.prototype, ['add', 'delete', 'clear']),
    ...pick(Object.getPrototypeOf(Uint8Array.prototype) as object, [
      'set',
      'fill',
      'sort',
      'reverse',
      'copyWithin',
    ]),
    ...Object.getOwnPropertyNames(Date.prototype)
      .filter((name) => name.startsWith('set'))
      .map((name) => (Date.prototype as unknown as Record<string, unknown>)[name]),
  ].filter((value) => typeof value === 'function'),
)

function pick(source: object, names: string[]): unknown[] {
  return names.map((name) => (source as Record<string, unknown>)[name])
}

/** Functions a runtime puts into the context; their absence deserves a specific message. */
const CONTEXT_FUNCTIONS = new Set(['secret', 'kv'])

export interface RuntimeHooks {
  /** Called with the length of every list a `{% for %}` loop walks; may throw a limit error. */
  countIterations(count: number): void
  /** Called with the length of output as it is produced; may throw a limit error. */
  countOutput(length: number): void
}

export function createTemplateRuntime(hooks: RuntimeHooks): Record<string, unknown> {
  return {
    ...nunjucksRuntime,

    contextOrFrameLookup(context: TemplateContext, frame: RuntimeFrame, name: string): unknown {
      const value = frame.lookup(name)
      return value !== undefined ? value : context.lookup(name)
    },

    memberLookup,

    callWrap(fn: unknown, name: string, context: TemplateContext, args: unknown[]): unknown {
      if (typeof fn !== 'function') throw notCallable(fn, name, context)
      let result: unknown
      try {
        result = (fn as TemplateFunction).apply(undefined, args)
      } catch (error) {
        if (isPassThrough(error)) throw error
        throw new ExpressionFault('EXPRESSION_FUNCTION', `${name}() failed`, messageOf(error), {
          cause: error,
          kind: kindOf(error),
        })
      }
      if (isThenable(result)) {
        // Rendering is synchronous: a promise would print as "{}". Keep its rejection handled.
        result.then(undefined, () => {})
        throw new ExpressionFault(
          'EXPRESSION_FUNCTION',
          `${name}() returned a promise`,
          'functions used in expressions must be synchronous',
          { kind: 'internal' },
        )
      }
      return result
    },

    handleError(error: unknown, lineno: number, colno: number): RenderFailure {
      return error instanceof RenderFailure ? error : new RenderFailure(error, lineno, colno)
    },

    fromIterator(value: unknown): unknown {
      const list = nunjucksRuntime.fromIterator(value)
      if (typeof list === 'string' || Array.isArray(list)) hooks.countIterations(list.length)
      else if (typeof list === 'object' && list !== null)
        hooks.countIterations(Object.keys(list).length)
      return list
    },

    /** Strict root of a path: `outputs` in `outputs.fetch.body`. */
    kiteRoot(value: unknown, name: string, full: string, context: TemplateContext): unknown {
      if (value === undefined) {
        throw new ExpressionFault(
          'EXPRESSION_UNDEFINED',
          `undefined variable "${full}"`,
          rootDetail(name, context),
        )
      }
      return value
    },

    /** Strict step of a path: fails naming the part that is missing. */
    kiteGet(parent: unknown, key: unknown, parentDesc: string, full: string): unknown {
      if (parent === undefined || parent === null) {
        throw new ExpressionFault(
          'EXPRESSION_UNDEFINED',
          `undefined variable "${full}"`,
          `${parentDesc} is ${parent === null ? 'null' : 'undefined'}`,
        )
      }
      const value = memberLookup(parent, key)
      if (value === undefined) {
        throw new ExpressionFault(
          'EXPRESSION_UNDEFINED',
          `undefined variable "${full}"`,
          memberDetail(parent, key, parentDesc),
        )
      }
      return value
    },

    kiteDefined(value: unknown, full: string): unknown {
      if (value === undefined) {
        throw new ExpressionFault(
          'EXPRESSION_UNDEFINED',
          `undefined value "${full}"`,
          'it is undefined',
        )
      }
      return value
    },

    kiteCount(length: number): void {
      hooks.countOutput(length)
    },

    kiteText(value: unknown, full: string): string {
      if (typeof value === 'string') {
        hooks.countOutput(value.length)
        return value
      }
      // A macro's output was counted while the macro produced it.
      if (value instanceof SafeString) return value.val
      if (typeof value === 'function') {
        throw new ExpressionFault(
          'EXPRESSION_ERROR',
          `cannot output "${full}"`,
          `it is a function; call it, e.g. ${full}()`,
        )
      }
      try {
        const text = toText(value)
        hooks.countOutput(text.length)
        return text
      } catch (error) {
        if (isPassThrough(error)) throw error
        throw new ExpressionFault('EXPRESSION_ERROR', `cannot output "${full}"`, messageOf(error), {
          cause: error,
        })
      }
    },

    kiteValue(value: unknown, full: string): unknown {
      if (typeof value === 'function') {
        throw new ExpressionFault(
          'EXPRESSION_ERROR',
          `cannot use "${full}" as a value`,
          `it is a function; call it, e.g. ${full}()`,
        )
      }
      return value instanceof SafeString ? value.val : value
    },

    kiteConcat(left: unknown, right: unknown): string {
      return toText(left) + toText(right)
    },
  }
}

/** String methods that can allocate huge strings from a small template. */
const ALLOCATORS: ReadonlySet<unknown> = new Set(
  pick(String.prototype, ['repeat', 'padStart', 'padEnd']),
)

function memberLookup(target: unknown, key: unknown): unknown {
  if (target === undefined || target === null) return undefined
  // Coerce once, so a key object cannot name one property when checked and another when read.
  const name = typeof key === 'number' ? key : String(key)
  if (typeof name === 'string' && FORBIDDEN_MEMBERS.has(name)) {
    throw new ExpressionFault(
      'EXPRESSION_ERROR',
      `"${name}" cannot be read`,
      'expressions have no access to JavaScript internals',
    )
  }
  if (typeof target === 'function') {
    throw new ExpressionFault(
      'EXPRESSION_ERROR',
      `cannot read "${String(name)}" of a function`,
      'call the function first',
    )
  }
  const value = (target as Record<string | number, unknown>)[name]
  if (typeof value !== 'function') return value
  if (MUTATORS.has(value)) {
    throw new ExpressionFault(
      'EXPRESSION_ERROR',
      `cannot call "${String(name)}"`,
      'expressions cannot modify values; use filters such as sort, reverse or merge instead',
    )
  }
  if (ALLOCATORS.has(value)) {
    throw new ExpressionFault(
      'EXPRESSION_ERROR',
      `cannot call "${String(name)}"`,
      'it is not available in expressions',
    )
  }
  return (...args: unknown[]) => (value as TemplateFunction).apply(target, args)
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

function notCallable(fn: unknown, name: string, context: TemplateContext): ExpressionFault {
  if (fn === undefined || fn === null) {
    if (CONTEXT_FUNCTIONS.has(name)) {
      return new ExpressionFault(
        'EXPRESSION_FUNCTION',
        `cannot call ${name}()`,
        `${name}() is not available in this context`,
      )
    }
    if (/^[A-Za-z_]\w*$/.test(name)) {
      const callable = [
        ...Object.keys(context.env.globals),
        ...context.variableNames().filter((key) => typeof context.lookup(key) === 'function'),
      ]
      const suggestion = closestName(name, callable)
      return new ExpressionFault(
        'EXPRESSION_FUNCTION',
        `unknown function "${name}"`,
        suggestion ? `did you mean "${suggestion}"?` : `functions: ${listNames(callable.sort())}`,
      )
    }
    return new ExpressionFault('EXPRESSION_UNDEFINED', `cannot call "${name}"`, 'it is undefined')
  }
  return new ExpressionFault(
    'EXPRESSION_FUNCTION',
    `cannot call "${name}"`,
    `it is ${describeValue(fn)}, not a function`,
  )
}

function rootDetail(name: string, context: TemplateContext): string {
  const known = context.variableNames()
  if (known.includes(name)) return `"${name}" is undefined`
  const suggestion = closestName(name, known)
  let detail = `"${name}" is not defined`
  if (suggestion) detail += `; did you mean "${suggestion}"?`
  if (known.length) detail += ` (known variables: ${listNames(known)})`
  return detail
}

function memberDetail(parent: unknown, key: unknown, parentDesc: string): string {
  const name = String(key)
  if (Array.isArray(parent) || typeof parent === 'string') {
    if (/^-?\d+$/.test(name)) {
      const kind = Array.isArray(parent) ? 'items' : 'characters'
      return `${parentDesc} has no index ${name} (it has ${parent.length} ${kind})`
    }
    return `${parentDesc} is a ${typeName(parent)}, it has no "${name}"`
  }
  if (typeof parent !== 'object')
    return `${parentDesc} is ${describeValue(parent)}, it has no "${name}"`
  if (name in (parent as object)) return `${parentDesc}.${name} is undefined`
  const keys = Object.keys(parent as object)
  if (keys.length === 0) return `${parentDesc} has no "${name}" (it has no keys)`
  // `outputs.my-task.value` reads as `outputs.my - task.value`
  const dashed = keys.find((candidate) => candidate.startsWith(`${name}-`))
  if (dashed) {
    return `${parentDesc} has no "${name}"; "-" is a minus sign in expressions, write ${parentDesc}['${dashed}']`
  }
  const suggestion = closestName(name, keys)
  return `${parentDesc} has no "${name}"${suggestion ? `; did you mean "${suggestion}"?` : ''} (known keys: ${listNames(keys)})`
}
