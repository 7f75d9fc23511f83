import { setMaxListeners } from 'node:events'
import { parseDuration } from '@kite/sdk'
import { messageOf, RuntimeError } from '../../errors.js'
import type {
  ForEachTask,
  IfTask,
  ParallelTask,
  SequentialTask,
  SwitchTask,
} from '../../flow/flow-model.js'
import type { TaskRun, TaskRunState } from '../execution-model.js'
import type { ExecutionRunner } from '../execution-runner.js'
import { type Outcome, type Scope, worst } from './shared.js'

/**
 * The shape every flowable shares: decide (and record) what to run when the task run is
 * created, run the body, then `errors` on failure and `finally` always.
 */
export async function runFlowable(
  r: ExecutionRunner,
  task: SequentialTask | ParallelTask | IfTask | SwitchTask | ForEachTask,
  scope: Scope,
  existing: TaskRun | undefined,
  steps: {
    decide?: () => Record<string, unknown>
    body: (childScope: Scope, run: TaskRun) => Promise<Outcome>
  },
): Promise<TaskRunState> {
  let run = existing
  if (!run) {
    let decided: Record<string, unknown> | undefined
    if (steps.decide) {
      try {
        decided = steps.decide()
      } catch (error) {
        const failed = r.createRun(task, scope, 'RUNNING')
        return r.failRun(failed, task.allowFailure, messageOf(error))
      }
    }
    run = r.createRun(task, scope, 'RUNNING')
    if (decided) run.outputs = decided
    await r.save([run])
  }
  const timeout = task.timeout === undefined ? undefined : startTimeout(r, task.timeout, run, scope)
  // The body runs under the timeout; `errors` and `finally` run after it, outside it.
  const branchScope: Scope = { ...scope, parentTaskRunId: run.id }
  const childScope: Scope = timeout ? { ...branchScope, signal: timeout.signal } : branchScope
  let outcome: Outcome
  try {
    outcome = r.stopped(scope) ? 'KILLED' : await steps.body(childScope, run)
  } finally {
    timeout?.clear()
  }
  const timedOut = timeout?.signal.aborted === true && !r.stopped(scope)
  if (timedOut) {
    outcome = 'FAILED'
    r.log('error', `timed out after ${task.timeout}: its running tasks were killed`, run)
  }
  if (outcome === 'FAILED' && task.errors.length > 0 && !r.stopped(scope)) {
    await r.runBlock(task.errors, branchScope)
  }
  if (!r.stopped(scope) && outcome !== 'KILLED' && task.finally.length > 0) {
    outcome = worst(outcome, await r.runBlock(task.finally, branchScope))
  }
  if (r.stopped(scope)) outcome = 'KILLED'
  if (run.outputs) r.expose(task.id, scope.valueKeys, run.outputs)
  const state: TaskRunState = outcome === 'FAILED' && task.allowFailure ? 'WARNING' : outcome
  if (outcome === 'FAILED') {
    run.error = timedOut ? `timed out after ${task.timeout}` : 'a task inside failed'
  }
  return r.endRun(run, state)
}

/**
 * A flowable's `timeout`, counted from its task run's start (so it holds across a restart of the
 * runtime): its signal fires at the deadline, or with the signal of the scope around it.
 */
function startTimeout(r: ExecutionRunner, timeout: string, run: TaskRun, scope: Scope) {
  const controller = new AbortController()
  setMaxListeners(0, controller.signal)
  const parent = r.signalOf(scope)
  const stop = () => controller.abort(parent.reason)
  if (parent.aborted) stop()
  else parent.addEventListener('abort', stop, { once: true })
  const wait = Date.parse(run.state.startDate) + parseDuration(timeout) - Date.now()
  const timer = setTimeout(
    () =>
      controller.abort(
        new RuntimeError(`task "${run.taskId}" timed out after ${timeout}`, {
          code: 'TASK_TIMEOUT',
        }),
      ),
    Math.max(0, wait),
  )
  return {
    signal: controller.signal,
    clear() {
      clearTimeout(timer)
      parent.removeEventListener('abort', stop)
    },
  }
}
