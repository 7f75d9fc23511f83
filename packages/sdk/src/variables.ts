import type { ExecutionInfo } from './context.js'

/** What a host knows when it renders a task's properties. */
export interface RenderVariablesInput {
  flow: { id: string; namespace: string; revision?: number }
  execution: ExecutionInfo
  inputs?: Record<string, unknown>
  /** The flow's `variables`. */
  vars?: Record<string, unknown>
  /** Outputs of the tasks that already ran, by task id. */
  outputs?: Record<string, unknown>
  trigger?: Record<string, unknown>
  task?: { id: string; type: string }
  taskrun?: { id: string; value?: unknown; attemptsCount?: number }
  parent?: Record<string, unknown>
  /** Environment variables; only `KITE_ENV_*` are exposed, without the prefix. */
  env?: Record<string, string | undefined>
  secret?: (name: string) => string
  kv?: (key: string) => unknown
}

/**
 * The variables `{{ }}` expressions see (SPEC section 3), built the same way by the runtime and
 * by `@kite/sdk/testing`.
 */
export function createRenderVariables(input: RenderVariablesInput): Record<string, unknown> {
  const envs: Record<string, string> = {}
  for (const [key, value] of Object.entries(input.env ?? {})) {
    if (key.startsWith('KITE_ENV_') && value !== undefined) {
      envs[key.slice('KITE_ENV_'.length).toLowerCase()] = value
    }
  }
  const variables: Record<string, unknown> = {
    flow: input.flow,
    execution: {
      id: input.execution.id,
      namespace: input.execution.namespace,
      flowId: input.execution.flowId,
      state: input.execution.state,
      startDate: input.execution.startDate,
    },
    inputs: input.inputs ?? {},
    vars: input.vars ?? {},
    outputs: input.outputs ?? {},
    labels: input.execution.labels,
    envs,
  }
  if (input.trigger !== undefined) variables.trigger = input.trigger
  if (input.task !== undefined) variables.task = input.task
  if (input.taskrun !== undefined) variables.taskrun = input.taskrun
  if (input.parent !== undefined) variables.parent = input.parent
  if (input.secret) variables.secret = input.secret
  if (input.kv) variables.kv = input.kv
  return variables
}
