import { RuntimeError } from '../errors.js'
import { createId } from '../ids.js'
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

export interface ReplayRequest {
  /** The new execution's id. */
  id: string
  date: string
  /** The task run to start again from; the whole flow when absent. */
  taskRunId?: string
  flowRevision: number
  plugins: Execution['plugins']
  keepPlugins: boolean
}

/**
 * A new execution (CREATED) that runs an ended one again from one of its task runs: the task runs
 * created before it are copied with their outputs (under new ids), its parent flowables go back
 * to RUNNING so the runner walks into them, and it and everything after it run anew. The runner
 * walks the copy as it does after a crash (`recovering`), skipping what has ended.
 */
export function prepareReplay(original: Execution, request: ReplayRequest): Execution {
  if (!TERMINAL_EXECUTION_STATES.has(original.state.current)) {
    throw new RuntimeError(
      `execution ${original.id} cannot be replayed: it is ${original.state.current}; wait for it to end or kill it first`,
      { code: 'EXECUTION_STATE' },
    )
  }
  let kept: TaskRun[] = []
  const parents = new Set<string>()
  if (request.taskRunId !== undefined) {
    const byId = new Map(original.taskRunList.map((run) => [run.id, run]))
    const target = byId.get(request.taskRunId)
    if (!target) {
      throw new RuntimeError(
        `execution ${original.id} has no task run "${request.taskRunId}"; GET /api/v1/executions/${original.id} lists its task runs`,
        { code: 'NOT_FOUND' },
      )
    }
    for (let at = target.parentTaskRunId; at !== undefined; at = byId.get(at)?.parentTaskRunId) {
      parents.add(at)
    }
    kept = original.taskRunList.filter((run) => run.sequence < target.sequence)
  }
  const ids = new Map(kept.map((run) => [run.id, createId()]))
  const taskRunList = kept.map((run): TaskRun => {
    const { parentTaskRunId, ...copy } = structuredClone(run)
    const parent = parentTaskRunId === undefined ? undefined : ids.get(parentTaskRunId)
    const taskRun: TaskRun = {
      ...copy,
      id: ids.get(run.id)!,
      executionId: request.id,
      ...(parent === undefined ? {} : { parentTaskRunId: parent }),
    }
    if (parents.has(run.id)) {
      delete taskRun.error
      transition(taskRun.state, 'RUNNING', request.date, TERMINAL_TASK_RUN_STATES)
    }
    return taskRun
  })
  return {
    id: request.id,
    namespace: original.namespace,
    flowId: original.flowId,
    flowRevision: request.flowRevision,
    state: newState('CREATED', request.date),
    labels: { ...original.labels },
    inputs: structuredClone(original.inputs),
    plugins: request.plugins,
    taskRunList,
    ...(original.trigger ? { trigger: structuredClone(original.trigger) } : {}),
    ...(original.secretInputs ? { secretInputs: [...original.secretInputs] } : {}),
    replayOf: {
      executionId: original.id,
      ...(request.taskRunId === undefined ? {} : { taskRunId: request.taskRunId }),
      keepPlugins: request.keepPlugins,
    },
  }
}
