import type { IfTask } from '../../flow/flow-model.js'
import type { TaskRun } from '../execution-model.js'
import type { ExecutionRunner } from '../execution-runner.js'
import { runFlowable } from './flowable.js'
import { isTruthy, type Scope } from './shared.js'

/** `kite.flow.If`: `then` or `else`, decided (and recorded) when the task run starts. */
export function runIf(
  r: ExecutionRunner,
  task: IfTask,
  scope: Scope,
  existing: TaskRun | undefined,
) {
  return runFlowable(r, task, scope, existing, {
    decide: () => ({
      condition: isTruthy(r.evaluate(task.condition, scope, task, 'condition')),
    }),
    body: (childScope, run) =>
      r.runBlock(run.outputs?.condition === true ? task.then : task.else, childScope),
  })
}
