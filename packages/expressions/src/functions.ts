import { randomInt as cryptoRandomInt, randomUUID } from 'node:crypto'
import { toDate } from './date-time'
import { ExpressionFault } from './expression-error'
import { asInteger, asNumber, compareValues, jsonIndent, parseJson, toJson } from './values'

/** A built-in function: its parameter names (for `name=value` arguments) and its code. */
export interface BuiltinFunction {
  readonly params: readonly string[]
  readonly fn: (...args: unknown[]) => unknown
}

const fn = (params: readonly string[], code: (...args: unknown[]) => unknown): BuiltinFunction => ({
  params,
  fn: code,
})

export interface FunctionLimits {
  /** Longest list `range()` may build. */
  maxIterations: number
}

/** `range(stop)`, `range(start, stop, step)`: like nunjucks', but bounded. */
function range(limits: FunctionLimits) {
  return fn(['start', 'stop', 'step'], (first, second, third) => {
    const start = second === undefined ? 0 : asNumber(first, 'start')
    const stop = second === undefined ? asNumber(first, 'stop') : asNumber(second, 'stop')
    const step = third === undefined || third === null ? 1 : asNumber(third, 'step')
    if (step === 0) throw new RangeError('step must not be 0')
    const count = Math.max(0, Math.ceil((stop - start) / step))
    if (count > limits.maxIterations) {
      throw new ExpressionFault(
        'EXPRESSION_LIMIT',
        'range() is too long',
        `${count} items is more than the limit of ${limits.maxIterations}`,
      )
    }
    return Array.from({ length: count }, (_, i) => start + i * step)
  })
}

function extreme(which: 'min' | 'max') {
  return fn([], (...args) => {
    const values = args.length === 1 && Array.isArray(args[0]) ? args[0] : args
    if (values.length === 0) throw new TypeError(`${which}() needs at least one value`)
    return values.reduce((best, value) => {
      const order = compareValues(value, best)
      return (which === 'max' ? order > 0 : order < 0) ? value : best
    })
  })
}

const jsonFunction = fn(['value', 'indent'], (value, indent) => toJson(value, jsonIndent(indent)))

/**
 * Kite's functions that need no context. `render()` is added by the engine (it needs the
 * current variables); `secret()` and `kv()` come from the caller's context.
 */
export function createBuiltinFunctions(limits: FunctionLimits): Record<string, BuiltinFunction> {
  return {
    now: fn([], () => new Date().toISOString()),
    uuid: fn([], () => randomUUID()),
    range: range(limits),
    fromJson: fn(['text'], parseJson),
    json: jsonFunction,
    toJson: jsonFunction,
    randomInt: fn(['min', 'max'], (min, max) => {
      const low = asInteger(min, 'min')
      const high = asInteger(max, 'max')
      if (high <= low) throw new RangeError(`max (${high}) must be greater than min (${low})`)
      if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high) || high - low > 2 ** 48 - 1) {
        throw new RangeError('max - min must be below 2^48')
      }
      return cryptoRandomInt(low, high)
    }),
    timestamp: fn(['date'], (date) =>
      Math.floor((date === undefined ? Date.now() : toDate(date).getTime()) / 1000),
    ),
    max: extreme('max'),
    min: extreme('min'),
  }
}
