import type { FlowTask } from '../../flow/flow-model.js'
import type { TaskRun, TaskRunState } from '../execution-model.js'
import type { ExecutionRunner } from '../execution-runner.js'
import { runForEach } from './for-each.js'
import { runIf } from './if.js'
import { runParallel } from './parallel.js'
import { runPause } from './pause.js'
import { runSequential } from './sequential.js'
import type { Scope } from './shared.js'
import { isExecutorSleep, runSleep } from './sleep.js'
import { runSubflow } from './subflow.js'
import { runSwitch } from './switch.js'
import { runPluginTask } from './task.js'

/** How one kind of step runs: creates (or resumes) its task run and returns its final state. */
type Step<T extends FlowTask> = (
  runner: ExecutionRunner,
  task: T,
  scope: Scope,
  existing: TaskRun | undefined,
) => Promise<TaskRunState>

/** Every kind of step, by `kind`: the executor's one dispatch table. */
export const STEPS: { [K in FlowTask['kind']]: Step<Extract<FlowTask, { kind: K }>> } = {
  plugin: (runner, task, scope, existing) => {
    // The core Sleep waits in the executor, holding no worker slot (see `sleep.ts`).
    const prepared = runner.validated.tasks.get(task.id)
    return isExecutorSleep(prepared, existing)
      ? runSleep(runner, task, prepared, scope, existing)
      : runPluginTask(runner, task, scope, existing)
  },
  sequential: runSequential,
  parallel: runParallel,
  if: runIf,
  switch: runSwitch,
  forEach: runForEach,
  subflow: runSubflow,
  pause: runPause,
}

/** Runs a step through the table. */
export function runStep(
  runner: ExecutionRunner,
  task: FlowTask,
  scope: Scope,
  existing: TaskRun | undefined,
): Promise<TaskRunState> {
  // The table is keyed by kind, so the entry always takes this task's type.
  return (STEPS[task.kind] as Step<FlowTask>)(runner, task, scope, existing)
}
