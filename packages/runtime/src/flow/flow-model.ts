/**
 * The parsed shape of a flow (SPEC section 3). `parseFlow` builds it from YAML; the executor
 * walks it. Every task and trigger remembers where it came from in the YAML (`path`, `line`).
 */

/** Types of flow inputs. */
export type InputType =
  | 'STRING'
  | 'INT'
  | 'FLOAT'
  | 'BOOLEAN'
  | 'DATETIME'
  | 'JSON'
  | 'ENUM'
  | 'SECRET'
  | 'FILE'

export interface FlowInput {
  id: string
  type: InputType
  description?: string
  /** Default true, as in Kestra; an input with `defaults` never needs a value. */
  required: boolean
  defaults?: unknown
  /** ENUM only: the allowed values. */
  values?: string[]
}

export interface FlowOutput {
  id: string
  type?: InputType
  description?: string
  /** Usually an expression over `outputs`: rendered when the execution ends. */
  value: unknown
}

/** A `pluginDefaults` entry (flow, namespace or instance level). */
export interface PluginDefaultEntry {
  /** An exact type (`kite.http.Request`) or a group/prefix (`kite.http`). */
  type: string
  values: Record<string, unknown>
  forced: boolean
}

export type RetryPolicy =
  | {
      type: 'constant'
      interval: string
      maxAttempts: number
      maxDuration?: string
      warningOnRetry: boolean
    }
  | {
      type: 'exponential'
      interval: string
      maxInterval?: string
      delayFactor: number
      maxAttempts: number
      maxDuration?: string
      warningOnRetry: boolean
    }

export type LogLevelName = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR'

/** Keys every task has, whatever its type. */
export interface TaskCommon {
  id: string
  type: string
  version?: string
  description?: string
  disabled: boolean
  runIf?: string | boolean
  allowFailure: boolean
  timeout?: string
  retry?: RetryPolicy
  /** The lowest level of the task's log lines that are kept. */
  logLevel?: LogLevelName
  /** Where the task is in the YAML, e.g. `tasks[1].then[0]`. */
  path: string
  line?: number
  column?: number
}

/** A task provided by a plugin: everything but the common keys is the plugin's properties. */
export interface PluginTask extends TaskCommon {
  kind: 'plugin'
  properties: Record<string, unknown>
}

/** Branches every flowable task may have: `errors` run on failure, `finally` always. */
export interface FlowableBranches {
  errors: FlowTask[]
  finally: FlowTask[]
}

export interface SequentialTask extends TaskCommon, FlowableBranches {
  kind: 'sequential'
  tasks: FlowTask[]
}

export interface ParallelTask extends TaskCommon, FlowableBranches {
  kind: 'parallel'
  tasks: FlowTask[]
  /** How many children run at once; 0 means all. */
  concurrent: number
}

export interface IfTask extends TaskCommon, FlowableBranches {
  kind: 'if'
  condition: string | boolean
  then: FlowTask[]
  else: FlowTask[]
}

export interface SwitchTask extends TaskCommon, FlowableBranches {
  kind: 'switch'
  value: string | number | boolean
  cases: Record<string, FlowTask[]>
  defaults: FlowTask[]
}

export interface ForEachTask extends TaskCommon, FlowableBranches {
  kind: 'forEach'
  /** A list, or an expression (or JSON text) that renders to one. */
  values: string | unknown[]
  /** How many iterations run at once; 0 means all. Default 1. */
  concurrencyLimit: number
  tasks: FlowTask[]
}

export interface SubflowTask extends TaskCommon {
  kind: 'subflow'
  namespace: string
  flowId: string
  revision?: number
  inputs: Record<string, unknown>
  labels: Record<string, string>
  wait: boolean
  transmitFailed: boolean
}

export interface PauseTask extends TaskCommon {
  kind: 'pause'
  /** Resume by itself after this ISO-8601 duration; without it, wait for the API. */
  delay?: string
  /** Inputs the resume gives (typed like flow inputs): `outputs.<id>.onResume.<input>`. */
  onResume?: FlowInput[]
}

export type FlowableTask =
  | SequentialTask
  | ParallelTask
  | IfTask
  | SwitchTask
  | ForEachTask
  | SubflowTask
  | PauseTask
export type FlowTask = PluginTask | FlowableTask
export type TaskKind = FlowTask['kind']

/** A condition on a trigger (always provided by a plugin). */
export interface FlowCondition {
  type: string
  version?: string
  properties: Record<string, unknown>
  path: string
  line?: number
  column?: number
}

export interface TriggerCommon {
  id: string
  type: string
  version?: string
  description?: string
  disabled: boolean
  conditions: FlowCondition[]
  path: string
  line?: number
  column?: number
}

export interface ScheduleTrigger extends TriggerCommon {
  kind: 'schedule'
  cron: string
  timezone?: string
  inputs: Record<string, unknown>
  recoverMissedSchedules: 'LAST' | 'NONE' | 'ALL'
}

export interface WebhookTrigger extends TriggerCommon {
  kind: 'webhook'
  key: string
}

export interface FlowTriggerCondition {
  namespace: string
  flowId: string
  states: string[]
}

export interface UpstreamFlowTrigger extends TriggerCommon {
  kind: 'flow'
  preconditions: { flows: FlowTriggerCondition[] }
}

export interface PluginTrigger extends TriggerCommon {
  kind: 'plugin'
  interval?: string
  properties: Record<string, unknown>
}

export type FlowTrigger = ScheduleTrigger | WebhookTrigger | UpstreamFlowTrigger | PluginTrigger

export interface Flow {
  id: string
  namespace: string
  description?: string
  labels: Record<string, string>
  inputs: FlowInput[]
  variables: Record<string, unknown>
  tasks: FlowTask[]
  errors: FlowTask[]
  finally: FlowTask[]
  triggers: FlowTrigger[]
  pluginDefaults: PluginDefaultEntry[]
  outputs: FlowOutput[]
  disabled: boolean
  /** The YAML the flow was parsed from. */
  source: string
}

/** Built-in flowable task types and the kind each parses to. */
export const FLOWABLE_TYPES = {
  'kite.flow.Sequential': 'sequential',
  'kite.flow.Parallel': 'parallel',
  'kite.flow.If': 'if',
  'kite.flow.Switch': 'switch',
  'kite.flow.ForEach': 'forEach',
  'kite.flow.Subflow': 'subflow',
  'kite.flow.Pause': 'pause',
} as const satisfies Record<string, FlowableTask['kind']>

/** Built-in trigger types. */
export const BUILTIN_TRIGGER_TYPES = {
  'kite.trigger.Schedule': 'schedule',
  'kite.trigger.Webhook': 'webhook',
  'kite.trigger.Flow': 'flow',
} as const satisfies Record<string, Exclude<FlowTrigger['kind'], 'plugin'>>

/** Child task lists of a task, with the key each sits under (for walking the tree). */
export function childBranches(task: FlowTask): Array<{ key: string; tasks: FlowTask[] }> {
  switch (task.kind) {
    case 'plugin':
    case 'subflow':
    case 'pause':
      return []
    case 'sequential':
    case 'parallel':
    case 'forEach':
      return [
        { key: 'tasks', tasks: task.tasks },
        { key: 'errors', tasks: task.errors },
        { key: 'finally', tasks: task.finally },
      ]
    case 'if':
      return [
        { key: 'then', tasks: task.then },
        { key: 'else', tasks: task.else },
        { key: 'errors', tasks: task.errors },
        { key: 'finally', tasks: task.finally },
      ]
    case 'switch':
      return [
        ...Object.entries(task.cases).map(([key, tasks]) => ({ key: `cases.${key}`, tasks })),
        { key: 'defaults', tasks: task.defaults },
        { key: 'errors', tasks: task.errors },
        { key: 'finally', tasks: task.finally },
      ]
  }
}

/** Every task of the flow, nested ones included, depth first in YAML order. */
export function allTasks(flow: Pick<Flow, 'tasks' | 'errors' | 'finally'>): FlowTask[] {
  const found: FlowTask[] = []
  const visit = (tasks: FlowTask[]) => {
    for (const task of tasks) {
      found.push(task)
      for (const branch of childBranches(task)) visit(branch.tasks)
    }
  }
  visit(flow.tasks)
  visit(flow.errors)
  visit(flow.finally)
  return found
}
