import { RuntimeError } from '../../errors.js'
import type { ForEachTask } from '../../flow/flow-model.js'
import type { TaskRun } from '../execution-model.js'
import type { ExecutionRunner } from '../execution-runner.js'
import { runFlowable } from './flowable.js'
import { pool } from './parallel.js'
import { type Scope, valueKey } from './shared.js'

/** `kite.flow.ForEach`: its tasks once per value, `concurrencyLimit` at a time. */
export function runForEach(
  r: ExecutionRunner,
  task: ForEachTask,
  scope: Scope,
  existing: TaskRun | undefined,
) {
  return runFlowable(r, task, scope, existing, {
    decide: () => ({ values: forEachValues(r, task, scope) }),
    body: (childScope, run) => {
      const values = Array.isArray(run.outputs?.values) ? run.outputs.values : []
      return pool(r, childScope, values.length, task.concurrencyLimit, (iteration) => {
        const value = values[iteration]
        return r.runBlock(task.tasks, {
          parentTaskRunId: childScope.parentTaskRunId,
          iteration,
          valueKeys: [...scope.valueKeys, valueKey(value)],
          values: [...scope.values, value],
          ...(childScope.signal ? { signal: childScope.signal } : {}),
        } as Scope)
      })
    },
  })
}

export function forEachValues(r: ExecutionRunner, task: ForEachTask, scope: Scope): unknown[] {
  let values: unknown =
    typeof task.values === 'string'
      ? r.evaluate(task.values, scope, task, 'values')
      : r.deps.expressions.renderDeep(task.values, r.variables(scope, task))
  if (typeof values === 'string') {
    try {
      values = JSON.parse(values)
    } catch {
      // Reported below as not a list.
    }
  }
  if (!Array.isArray(values)) {
    throw new RuntimeError(
      `values: expected a list (or JSON text of one), got ${typeof values === 'string' ? `"${values}"` : JSON.stringify(values)}`,
      { code: 'TASK_FAILED' },
    )
  }
  return values
}
