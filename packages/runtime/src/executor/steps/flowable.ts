import { messageOf } from '../../errors.js'
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
  const childScope: Scope = { ...scope, parentTaskRunId: run.id }
  let outcome = r.killed ? 'KILLED' : await steps.body(childScope, run)
  if (outcome === 'FAILED' && task.errors.length > 0 && !r.killed) {
    await r.runBlock(task.errors, childScope)
  }
  if (!r.killed && outcome !== 'KILLED' && task.finally.length > 0) {
    outcome = worst(outcome, await r.runBlock(task.finally, childScope))
  }
  if (r.killed) outcome = 'KILLED'
  if (run.outputs) r.expose(task.id, scope.valueKeys, run.outputs)
  const state: TaskRunState = outcome === 'FAILED' && task.allowFailure ? 'WARNING' : outcome
  if (outcome === 'FAILED') run.error = 'a task inside failed'
  return r.endRun(run, state)
}
