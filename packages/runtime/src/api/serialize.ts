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
  const summary = validated ? summaryOf(validated.flow) : summaryOfSource(stored.source)
  return {
    namespace: stored.namespace,
    id: stored.id,
    revision: stored.revision,
    ...summary,
    updated: stored.createdAt,
    source: stored.source,
    ...(validated ? { plugins: flowPlugins(validated), warnings: validated.warnings } : {}),
  }
}

/** What the flows list shows of a flow besides its source. */
function summaryOf(flow: Flow) {
  return {
    ...(flow.description === undefined ? {} : { description: flow.description }),
    labels: flow.labels,
    disabled: flow.disabled,
    inputs: flow.inputs,
    tasks: flow.tasks.length,
    triggers: flow.triggers.map((trigger) => ({ id: trigger.id, type: trigger.type })),
  }
}

/**
 * A stored flow's summary without validating its plugins (the flows list); empty when its source
 * no longer parses. A stored revision never changes, so each source is parsed once (YAML and the
 * flow schema: ~0.3 ms a flow, which made the list of 500 flows take ~180 ms every time); the
 * summaries of the last `SUMMARIES_KEPT` sources are kept. Shared, never changed by a caller.
 */
function summaryOfSource(source: string): Partial<ReturnType<typeof summaryOf>> {
  let summary = summaries.get(source)
  if (summary) return summary
  try {
    summary = summaryOf(parseFlow(source))
  } catch {
    summary = {}
  }
  if (summaries.size >= SUMMARIES_KEPT) {
    const oldest = summaries.keys().next()
    if (!oldest.done) summaries.delete(oldest.value)
  }
  summaries.set(source, summary)
  return summary
}

const SUMMARIES_KEPT = 5_000
const summaries = new Map<string, Partial<ReturnType<typeof summaryOf>>>()

/** Masks SECRET inputs and drops internal fields. */
export function executionJson<T extends Execution | ExecutionSummary>(execution: T): T {
  const { secretInputs, ...rest } = execution
  if (!secretInputs || secretInputs.length === 0) return rest as T
  const inputs: Record<string, unknown> = { ...rest.inputs }
  for (const id of secretInputs)
    if (inputs[id] !== null && inputs[id] !== undefined) inputs[id] = MASK
  return { ...rest, inputs } as T
}
