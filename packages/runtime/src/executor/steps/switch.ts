import type { SwitchTask } from '../../flow/flow-model.js'
import type { TaskRun } from '../execution-model.js'
import type { ExecutionRunner } from '../execution-runner.js'
import { runFlowable } from './flowable.js'
import { type Scope, valueKey } from './shared.js'

/** `kite.flow.Switch`: the case matching its value, decided when the task run starts. */
export function runSwitch(
  r: ExecutionRunner,
  task: SwitchTask,
  scope: Scope,
  existing: TaskRun | undefined,
) {
  return runFlowable(r, task, scope, existing, {
    decide: () => {
      const value = valueKey(r.evaluate(task.value, scope, task, 'value'))
      return { value, defaults: !Object.hasOwn(task.cases, value) }
    },
    body: (childScope, run) => {
      const value = String(run.outputs?.value)
      return r.runBlock(
        Object.hasOwn(task.cases, value) ? (task.cases[value] ?? []) : task.defaults,
        childScope,
      )
    },
  })
}
