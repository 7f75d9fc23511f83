import type { SequentialTask } from '../../flow/flow-model.js'
import type { TaskRun } from '../execution-model.js'
import type { ExecutionRunner } from '../execution-runner.js'
import { runFlowable } from './flowable.js'
import type { Scope } from './shared.js'

/** `kite.flow.Sequential`: its tasks one after the other. */
export function runSequential(
  r: ExecutionRunner,
  task: SequentialTask,
  scope: Scope,
  existing: TaskRun | undefined,
) {
  return runFlowable(r, task, scope, existing, {
    body: (childScope) => r.runBlock(task.tasks, childScope),
  })
}
