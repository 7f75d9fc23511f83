import { type AnyCondition, type ConditionContext, defineCondition, KiteError, z } from '@kite/sdk'
import { invokeCondition, isPlainObject, propertiesJsonSchema } from '@kite/sdk/host'
import { executionFlow, executionNamespace, executionStatus } from './execution-conditions.js'
import { expression } from './expression-condition.js'
import { dayOfWeek, timeBetween } from './time-conditions.js'

const GROUP = 'kite.core'

const NestedCondition = z
  .looseObject({
    type: z
      .string()
      .min(1)
      .describe('The full type of a core condition, e.g. `kite.core.condition.DayOfWeek`.'),
  })
  .describe("A core condition: its `type` and that condition's own properties.")
type NestedCondition = z.infer<typeof NestedCondition>

const conditionsProperty = z
  .array(NestedCondition)
  .min(1)
  .meta({ dynamic: false })
  .describe(
    "The conditions, each `{ type: kite.core.condition.<Name>, ...its properties }`. Only core conditions can be nested; their expressions are rendered when each is tested, in the condition's context.",
  )

export const not = defineCondition({
  name: 'condition.Not',
  title: 'Not',
  description: 'Passes when none of the nested conditions passes.',
  properties: z.object({ conditions: conditionsProperty }),
  examples: [
    {
      title: 'Not on weekends',
      code: [
        'conditions:',
        '  - type: kite.core.condition.DayOfWeek',
        '    dayOfWeek: SATURDAY',
        '  - type: kite.core.condition.DayOfWeek',
        '    dayOfWeek: SUNDAY',
      ].join('\n'),
    },
  ],
  test: async (props, ctx) => !(await anyPasses(props.conditions, ctx)),
})

export const or = defineCondition({
  name: 'condition.Or',
  title: 'Or',
  description:
    'Passes when at least one of the nested conditions passes; they are tested in order and testing stops at the first that passes.',
  properties: z.object({ conditions: conditionsProperty }),
  examples: [
    {
      title: 'After a failure or at night',
      code: [
        'conditions:',
        '  - type: kite.core.condition.ExecutionStatus',
        '    in: [FAILED]',
        '  - type: kite.core.condition.TimeBetween',
        '    after: "22:00"',
        '    before: "06:00"',
      ].join('\n'),
    },
  ],
  test: (props, ctx) => anyPasses(props.conditions, ctx),
})

/** Whether one of the nested conditions passes: tested in order, stopping at the first that does. */
async function anyPasses(conditions: NestedCondition[], ctx: ConditionContext): Promise<boolean> {
  for (const condition of conditions) {
    if (await testNested(condition, ctx)) return true
  }
  return false
}

let nestable: Map<string, AnyCondition> | undefined

/** Every condition of this plugin, in the order the plugin lists them. */
export function coreConditions(): AnyCondition[] {
  return [
    executionStatus,
    executionFlow,
    executionNamespace,
    dayOfWeek,
    timeBetween,
    expression,
    not,
    or,
  ]
}

/** The conditions that can be nested: every condition of this plugin, by full type. */
function nestableConditions(): Map<string, AnyCondition> {
  nestable ??= new Map(
    coreConditions().map((condition) => [`${GROUP}.${condition.name}`, condition]),
  )
  return nestable
}

function resolveNested(type: string, parent: string): AnyCondition {
  const conditions = nestableConditions()
  const found = conditions.get(type)
  if (found) return found
  const known = [...conditions.keys()].join(', ')
  const reason = type.startsWith(`${GROUP}.`)
    ? `"${type}" is not a ${GROUP} condition`
    : `"${type}" is not a ${GROUP} condition, and only those can be nested`
  throw new KiteError(`${parent}: ${reason}; use one of ${known}`, {
    code: 'CONDITION_UNKNOWN',
    kind: 'user',
  })
}

async function testNested(condition: NestedCondition, ctx: ConditionContext): Promise<boolean> {
  const { type, ...raw } = condition
  const definition = resolveNested(type, ctx.task.type)
  const properties = await renderNested(definition, raw, ctx)
  return invokeCondition(definition, properties, { ...ctx, task: { ...ctx.task, type } })
}

/**
 * Renders a nested condition's properties as the runtime renders a condition's: properties marked
 * `dynamic: false` pass through. `ctx.render` gives text, so a property that is exactly one
 * `{{ }}` expression and whose schema does not take the text gets the text read as JSON (a
 * number, list, boolean), as the runtime's native-value rule would have given it.
 */
async function renderNested(
  definition: AnyCondition,
  raw: Record<string, unknown>,
  ctx: ConditionContext,
): Promise<Record<string, unknown>> {
  const schema = propertiesJsonSchema(definition.properties)
  const rendered: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(raw)) {
    if (schema.properties?.[key]?.$dynamic === false) {
      rendered[key] = value
      continue
    }
    const property: z.ZodType | undefined = definition.properties.shape[key]
    if (typeof value === 'string' && property && isSingleExpression(value)) {
      const text = await ctx.render(value)
      rendered[key] = property.safeParse(text).success ? text : (parseJson(text) ?? text)
    } else {
      rendered[key] = await renderDeep(value, ctx)
    }
  }
  return rendered
}

async function renderDeep(value: unknown, ctx: ConditionContext): Promise<unknown> {
  if (typeof value === 'string') return hasExpression(value) ? ctx.render(value) : value
  if (Array.isArray(value)) return Promise.all(value.map((item) => renderDeep(item, ctx)))
  if (isPlainObject(value)) {
    const entries = await Promise.all(
      Object.entries(value).map(async ([key, item]) => [key, await renderDeep(item, ctx)]),
    )
    return Object.fromEntries(entries)
  }
  return value
}

function hasExpression(value: string): boolean {
  return value.includes('{{') || value.includes('{%')
}

function isSingleExpression(value: string): boolean {
  const trimmed = value.trim()
  return (
    trimmed.startsWith('{{') &&
    trimmed.endsWith('}}') &&
    trimmed.indexOf('{{', 2) === -1 &&
    !trimmed.includes('{%')
  )
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
