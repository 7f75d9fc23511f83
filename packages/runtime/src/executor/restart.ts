import { RuntimeError } from '../errors.js'
import {
  type Execution,
  newState,
  type TaskRun,
  TERMINAL_EXECUTION_STATES,
  TERMINAL_TASK_RUN_STATES,
  transition,
} from './execution-model.js'

/** The execution states a restart starts from. */
export const RESTARTABLE_STATES: ReadonlySet<Execution['state']['current']> = new Set([
  'FAILED',
  'KILLED',
])

/**
 * Prepares a FAILED or KILLED execution to run again from its failed task runs (mutating it):
 * the execution goes back to RUNNING, each FAILED or KILLED task run to RUNNING (PAUSED for a
 * Pause) and a plugin task run gains a CREATED attempt that the runner starts at once, after the
 * attempts it already had. Successful task runs are kept; the runner then walks the flow as it
 * does after a crash (`recovering`), skipping what has ended. Returns the task runs it changed.
 */
export function prepareRestart(execution: Execution, date: string): TaskRun[] {
  if (!RESTARTABLE_STATES.has(execution.state.current)) {
    throw new RuntimeError(
      `execution ${execution.id} cannot be restarted: it is ${execution.state.current} (only FAILED or KILLED executions restart)`,
      { code: 'EXECUTION_STATE' },
    )
  }
  const failed = execution.taskRunList.filter(
    (run) => run.state.current === 'FAILED' || run.state.current === 'KILLED',
  )
  const subflow = failed.find((run) => run.type === 'kite.flow.Subflow')
  if (subflow) {
    throw new RuntimeError(
      `execution ${execution.id} cannot be restarted: its Subflow task "${subflow.taskId}" failed; restart the child execution ${String(subflow.outputs?.executionId)} instead`,
      { code: 'EXECUTION_STATE' },
    )
  }
  for (const run of failed) {
    delete run.error
    if (run.type === 'kite.flow.Pause') {
      transition(run.state, 'PAUSED', date, TERMINAL_TASK_RUN_STATES)
      continue
    }
    transition(run.state, 'RUNNING', date, TERMINAL_TASK_RUN_STATES)
    // A plugin task run (the built-in kite.flow.* ones have no attempts): the restart attempt.
    if (!run.type.startsWith('kite.flow.')) {
      run.attempts.push({ state: newState('CREATED', date) })
    }
  }
  delete execution.error
  delete execution.outputs
  transition(execution.state, 'RUNNING', date, TERMINAL_EXECUTION_STATES)
  return failed
}
