import type { ExecutionState, LogLevel, TaskRunState } from '@kite/sdk'
import type { MetricEntry } from '../plugins/plugin-host.js'
import type { PluginPin } from '../plugins/plugin-resolver.js'

// The states live in the SDK, shared with plugins (kite.core.condition.ExecutionStatus).
export {
  type ExecutionState,
  type TaskRunState,
  TERMINAL_EXECUTION_STATES,
  TERMINAL_TASK_RUN_STATES,
} from '@kite/sdk'

export interface StateHistory<S extends string> {
  state: S
  date: string
}

/** A state with its history, Kestra's shape. */
export interface StateInfo<S extends string> {
  current: S
  histories: StateHistory<S>[]
  startDate: string
  endDate?: string
  /** Milliseconds from the first to the last history entry, once ended. */
  duration?: number
}

/** One try at running a plugin task. */
export interface TaskRunAttempt {
  state: StateInfo<TaskRunState>
  /** Why the attempt failed. */
  error?: string
  /**
   * The attempt's worker was lost (the process died or stopped heartbeating): it was resubmitted,
   * and it does not count against the task's `retry`.
   */
  workerLost?: boolean
  /** The node (runtime process) that ran it. */
  worker?: string
  metrics?: MetricEntry[]
}

/** A plugin version recorded for an execution, with the tasks that use it. */
export interface ExecutionPlugin extends PluginPin {
  /** Ids of the tasks (or `trigger:<id>`) that resolved to this version. */
  taskIds: string[]
}

export interface TaskRun {
  id: string
  executionId: string
  namespace: string
  flowId: string
  taskId: string
  type: string
  /** The plugin version it ran with (undefined for the runtime's built-in flowable tasks). */
  pluginVersion?: string
  parentTaskRunId?: string
  /** The ForEach value this run belongs to (the innermost one). */
  value?: unknown
  /** The index of that value in its ForEach. */
  iteration?: number
  /** Keys of the ForEach values this run belongs to, outermost first: where its outputs go. */
  valueKeys?: string[]
  state: StateInfo<TaskRunState>
  attempts: TaskRunAttempt[]
  outputs?: Record<string, unknown>
  /** Why the task run failed, when it did. */
  error?: string
  /**
   * A core `flow.Sleep` the executor waits for itself (no worker, no queue entry): when it ends.
   * Kept across restarts, so the wait resumes where it was.
   */
  wakeAt?: string
  /** Order of creation inside the execution. */
  sequence: number
}

/** Where a replay came from: the execution and the task run it started again from. */
export interface ReplayOf {
  executionId: string
  /** Absent: the replay ran the whole flow again. */
  taskRunId?: string
  /** True when the replay kept the original's plugin versions (its lock). */
  keepPlugins: boolean
}

export interface ExecutionParent {
  executionId: string
  namespace: string
  flowId: string
  taskRunId: string
  taskId: string
}

export interface ExecutionTrigger {
  id: string
  type: string
  variables: Record<string, unknown>
}

export interface Execution {
  id: string
  namespace: string
  flowId: string
  flowRevision: number
  state: StateInfo<ExecutionState>
  labels: Record<string, string>
  inputs: Record<string, unknown>
  outputs?: Record<string, unknown>
  plugins: ExecutionPlugin[]
  taskRunList: TaskRun[]
  trigger?: ExecutionTrigger
  parent?: ExecutionParent
  /** Why the execution failed when no task says it (invalid outputs, lost plugin version...). */
  error?: string
  /** Ids of SECRET inputs: their values are masked in logs and in API answers. */
  secretInputs?: string[]
  /** Set on a replay: the execution and task run it started again from. */
  replayOf?: ReplayOf
}

/** An execution without its task runs, as lists show it. */
export type ExecutionSummary = Omit<Execution, 'taskRunList'>

/** One log line of an execution. */
export interface LogEntry {
  executionId: string
  taskRunId?: string
  taskId?: string
  attemptNumber?: number
  level: LogLevel
  message: string
  timestamp: string
}

export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error']

/** Numeric order of a log level. */
export function logLevelRank(level: LogLevel): number {
  return LOG_LEVELS.indexOf(level)
}

/** A state with one history entry. */
export function newState<S extends string>(state: S, date: string): StateInfo<S> {
  return { current: state, histories: [{ state, date }], startDate: date }
}

/** Moves a state on (mutating), setting the end date and duration when it becomes final. */
export function transition<S extends string>(
  info: StateInfo<S>,
  state: S,
  date: string,
  terminal: ReadonlySet<string>,
): void {
  if (info.current === state) return
  info.current = state
  info.histories.push({ state, date })
  if (terminal.has(state)) {
    info.endDate = date
    info.duration = Date.parse(date) - Date.parse(info.startDate)
  } else {
    delete info.endDate
    delete info.duration
  }
}
