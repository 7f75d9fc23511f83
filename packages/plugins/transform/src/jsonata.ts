import { defineTask, KiteError, z } from '@kite/sdk'
import jsonata from 'jsonata'
import {
  jsonFileFormatProperty,
  readJsonInput,
  storageUri,
  storeProperty,
  valueOrUriOutputs,
} from './io.js'

/** The deepest nesting an expression may reach before it is stopped (runaway recursion). */
const MAX_DEPTH = 500
/** How many evaluation steps run between two turns of the event loop. */
const YIELD_EVERY = 2000

export const jsonataTask = defineTask({
  name: 'Jsonata',
  title: 'Transform with JSONata',
  description:
    'Evaluates a [JSONata](https://jsonata.org) expression over a JSON value (`value`) or a stored JSON or JSON Lines file (`from`) and returns the result, inline or stored. The expression is not rendered by Kite: `{{ }}` stays literal, and `$` names are JSONata variables (`bindings` adds your own).',
  properties: z.object({
    expression: z
      .string()
      .min(1)
      .meta({ dynamic: false })
      .describe('The JSONata expression; the input is `$`.'),
    value: z
      .unknown()
      .optional()
      .describe('The input: any JSON value, often `{{ outputs.<id>.body }}`. Set this or `from`.'),
    from: storageUri
      .optional()
      .describe(
        'The input as a stored JSON or JSON Lines file (a kite:/// URI). Set this or `value`.',
      ),
    fromFormat: jsonFileFormatProperty,
    bindings: z
      .record(z.string(), z.unknown())
      .default({})
      .describe('Extra variables for the expression: `{ limit: 10 }` is `$limit`.'),
    store: storeProperty,
  }),
  outputs: valueOrUriOutputs(
    'The result (null when the expression matches nothing).',
    'The kite:/// URI of the stored result, a JSON file (when `store` is true).',
  ),
  examples: [
    {
      title: 'Pick fields from an HTTP response',
      code: `value: "{{ outputs.get.body }}"\nexpression: 'items[price > 10].{"name": name, "total": price * quantity}'`,
    },
    {
      title: 'Sum a column of stored rows',
      code: 'from: "{{ outputs.query.uri }}"\nexpression: "$sum(amount)"',
    },
    {
      title: 'Filter with a variable and store the result',
      code: 'value: "{{ outputs.get.body }}"\nexpression: "orders[status = $status]"\nbindings:\n  status: shipped\nstore: true',
    },
  ],
  async run(props, ctx) {
    const expression = compile(props.expression)
    const input = await readJsonInput(ctx, props)
    // Called before every evaluation step: a task timeout or a kill stops the expression. JSONata
    // only awaits settled promises, so every few thousand steps yield to the event loop too, or a
    // runaway expression would starve the timers that abort it.
    let steps = 0
    const checkAbort = async () => {
      if (++steps % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve))
      if (ctx.signal.aborted) {
        throw new KiteError('the JSONata evaluation was stopped (timeout or kill)', {
          code: 'ABORTED',
          kind: 'user',
        })
      }
    }
    // JSONata looks its step hook up under a symbol, which its typings (string names) leave out.
    Reflect.apply(expression.assign, expression, [
      Symbol.for('jsonata.__evaluate_entry'),
      checkAbort,
    ])
    let result: unknown
    try {
      result = await expression.evaluate(input, props.bindings)
    } catch (error) {
      if (error instanceof KiteError) throw error
      throw evaluationError(error)
    }
    // JSONata marks sequences with extra array properties; a JSON round trip leaves plain data.
    const value = result === undefined ? null : (JSON.parse(JSON.stringify(result)) as unknown)
    ctx.logger.debug(`JSONata result: ${describe(value)}`)
    if (props.store) {
      return { uri: await ctx.storage.put('result.json', `${JSON.stringify(value)}\n`) }
    }
    return { value }
  },
})

function compile(source: string): jsonata.Expression {
  try {
    return jsonata(source, { stack: MAX_DEPTH })
  } catch (error) {
    const { message, code, position } = jsonataErrorFields(error)
    throw new KiteError(
      `invalid JSONata expression: ${message}${position === undefined ? '' : ` at position ${position}`}${code ? ` (${code})` : ''}\n  ${source.split('\n').join('\n  ')}${caret(source, position)}`,
      { code: 'JSONATA_SYNTAX', kind: 'user', cause: error },
    )
  }
}

function evaluationError(error: unknown): KiteError {
  const { message, code, position } = jsonataErrorFields(error)
  const depth = code === 'D1011' ? ` (deeper than ${MAX_DEPTH} levels: runaway recursion?)` : ''
  return new KiteError(
    `the JSONata expression failed${position === undefined ? '' : ` at position ${position}`}: ${message}${depth}${code ? ` (${code})` : ''}`,
    { code: 'JSONATA_EVALUATION', kind: 'user', cause: error },
  )
}

/** JSONata throws plain objects as well as Errors, with `code`, `position` and `message`. */
function jsonataErrorFields(error: unknown): {
  message: string
  code?: string
  position?: number
} {
  if (typeof error !== 'object' || error === null) return { message: String(error) }
  const fields: { message?: unknown; code?: unknown; position?: unknown } = error
  return {
    message: typeof fields.message === 'string' ? fields.message : 'unknown error',
    code: typeof fields.code === 'string' ? fields.code : undefined,
    position: typeof fields.position === 'number' ? fields.position : undefined,
  }
}

/** A caret under the character a one-line expression failed at. */
function caret(source: string, position: number | undefined): string {
  if (position === undefined || source.includes('\n')) return ''
  return `\n  ${' '.repeat(Math.max(0, Math.min(position, source.length) - 1))}^`
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return `a list of ${value.length}`
  if (value === null) return 'null'
  return typeof value === 'object' ? 'an object' : typeof value
}
