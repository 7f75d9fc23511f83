import type { z } from '@hono/zod-openapi'
import type { Execution, ExecutionSummary } from '../executor/execution-model.js'
import { MASK } from '../executor/secrets.js'
import type { Flow } from '../flow/flow-model.js'
import { parseFlow } from '../flow/parse-flow.js'
import type { ValidatedFlow } from '../flow/validate-flow.js'
import type { ResolvedPlugin } from '../plugins/plugin-resolver.js'
import type { StoredFlow } from '../storage/store.js'
import type { FlowPlugin } from './schemas.js'

/** A resolved plugin task as the flow API shows it. */
export type FlowPluginJson = z.infer<typeof FlowPlugin>

/** What a plugin version was resolved for each task, trigger and condition of a flow. */
export function flowPlugins(validated: ValidatedFlow): FlowPluginJson[] {
  const list: FlowPluginJson[] = []
  const add = (taskId: string, resolved: ResolvedPlugin) => {
    list.push({
      taskId,
      type: resolved.type,
      package: resolved.package,
      version: resolved.version,
      versionSpec: resolved.versionSpec,
      decidedBy: resolved.decidedBy,
      ...(resolved.integrity ? { integrity: resolved.integrity } : {}),
    })
  }
  for (const [id, task] of validated.tasks) add(id, task.resolved)
  for (const [id, trigger] of validated.triggers) {
    if (trigger.resolved) add(`trigger:${id}`, trigger.resolved)
    for (const [index, condition] of trigger.conditions.entries()) {
      add(`trigger:${id}:condition:${index}`, condition.resolved)
    }
  }
  return list
}

/** A flow as the API returns it. */
export function flowJson(stored: StoredFlow, validated?: ValidatedFlow) {
  const flow = validated?.flow ?? parsedOrNone(stored.source)
  return {
    namespace: stored.namespace,
    id: stored.id,
    revision: stored.revision,
    ...(flow?.description === undefined ? {} : { description: flow.description }),
    ...(flow ? { labels: flow.labels, disabled: flow.disabled } : {}),
    ...(flow
      ? {
          inputs: flow.inputs,
          tasks: flow.tasks.length,
          triggers: flow.triggers.map((trigger) => ({ id: trigger.id, type: trigger.type })),
        }
      : {}),
    updated: stored.createdAt,
    source: stored.source,
    ...(validated ? { plugins: flowPlugins(validated), warnings: validated.warnings } : {}),
  }
}

/**
 * A stored flow's structure without validating its plugins (the flows list: description, labels,
 * inputs, task count); none when its source no longer parses.
 */
function parsedOrNone(source: string): Flow | undefined {
  try {
    return parseFlow(source)
  } catch {
    return undefined
  }
}

/** Masks SECRET inputs and drops internal fields. */
export function executionJson<T extends Execution | ExecutionSummary>(execution: T): T {
  const { secretInputs, ...rest } = execution
  if (!secretInputs || secretInputs.length === 0) return rest as T
  const inputs: Record<string, unknown> = { ...rest.inputs }
  for (const id of secretInputs)
    if (inputs[id] !== null && inputs[id] !== undefined) inputs[id] = MASK
  return { ...rest, inputs } as T
}
