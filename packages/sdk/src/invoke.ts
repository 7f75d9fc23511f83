import type { z } from 'zod'
import type { ConditionContext, RunContext, TriggerContext } from './context.js'
import type { AnyCondition, AnyDefinition, AnyTask, AnyTrigger } from './define.js'
import { formatIssues, KiteError } from './errors.js'

/**
 * Validates rendered properties with a definition's schema (applying defaults). Throws a
 * KiteError listing every invalid property.
 */
export function parseProperties(
  definition: AnyDefinition,
  properties: unknown,
  label: string,
): unknown {
  const result = definition.properties.safeParse(properties)
  if (result.success) return result.data
  throw new KiteError(
    `${label}: invalid properties:\n- ${formatIssues(result.error.issues).join('\n- ')}`,
    {
      code: 'PROPERTIES_INVALID',
      kind: 'user',
    },
  )
}

/**
 * Runs a task the way every host does: validate the rendered properties, call `run`, validate
 * what it returned against `outputs`. Hosts (the runtime's workers, the test harness) add
 * timeouts and isolation around it.
 */
export async function invokeTask(
  task: AnyTask,
  properties: unknown,
  ctx: RunContext,
): Promise<Record<string, unknown>> {
  const label = `task "${ctx.task.id}" (${ctx.task.type})`
  const props = parseProperties(task, properties, label)
  const returned = (await task.run(props, ctx)) ?? {}
  return parseResult(task.outputs, returned, `${label} returned invalid outputs`, 'OUTPUTS_INVALID')
}

/** Polls a trigger once and returns its events, each validated against the trigger's outputs. */
export async function invokeTrigger(
  trigger: AnyTrigger,
  properties: unknown,
  ctx: TriggerContext,
): Promise<Record<string, unknown>[]> {
  const label = `trigger "${ctx.task.id}" (${ctx.task.type})`
  const props = parseProperties(trigger, properties, label)
  const returned = await trigger.poll(props, ctx)
  const events = returned == null ? [] : Array.isArray(returned) ? returned : [returned]
  return events.map((event, index) =>
    parseResult(
      trigger.outputs,
      event,
      `${label} returned an invalid event #${index + 1}`,
      'EVENT_INVALID',
    ),
  )
}

/** Tests a condition once. */
export async function invokeCondition(
  condition: AnyCondition,
  properties: unknown,
  ctx: ConditionContext,
): Promise<boolean> {
  const label = `condition ${ctx.task.type}`
  const props = parseProperties(condition, properties, label)
  const result = await condition.test(props, ctx)
  if (typeof result !== 'boolean') {
    throw new KiteError(`${label} returned ${typeof result}, not a boolean`, {
      code: 'OUTPUTS_INVALID',
      kind: 'internal',
    })
  }
  return result
}

function parseResult(
  schema: z.ZodType,
  value: unknown,
  label: string,
  code: 'OUTPUTS_INVALID' | 'EVENT_INVALID',
): Record<string, unknown> {
  const result = schema.safeParse(value)
  if (result.success) return result.data as Record<string, unknown>
  throw new KiteError(`${label}:\n- ${formatIssues(result.error.issues).join('\n- ')}`, {
    code,
    kind: 'internal',
  })
}
