/**
 * The states of an execution and of a task run: the one list the runtime, its API and plugins
 * (`kite.core.condition.ExecutionStatus`) share. KILLING is transient: a kill was asked and
 * running tasks are stopping.
 */
export const EXECUTION_STATES = [
  'CREATED',
  'RUNNING',
  'PAUSED',
  'KILLING',
  'SUCCESS',
  'WARNING',
  'FAILED',
  'KILLED',
] as const
export type ExecutionState = (typeof EXECUTION_STATES)[number]

/** The states of a task run. */
export const TASK_RUN_STATES = [
  'CREATED',
  'RUNNING',
  'PAUSED',
  'SUCCESS',
  'WARNING',
  'FAILED',
  'KILLED',
  'SKIPPED',
] as const
export type TaskRunState = (typeof TASK_RUN_STATES)[number]

/** Execution states after which nothing more happens. */
export const TERMINAL_EXECUTION_STATES: ReadonlySet<ExecutionState> = new Set([
  'SUCCESS',
  'WARNING',
  'FAILED',
  'KILLED',
])

/** Task-run states after which nothing more happens. */
export const TERMINAL_TASK_RUN_STATES: ReadonlySet<TaskRunState> = new Set([
  'SUCCESS',
  'WARNING',
  'FAILED',
  'KILLED',
  'SKIPPED',
])
