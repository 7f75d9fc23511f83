import type { ParallelTask } from '../../flow/flow-model.js'
import type { TaskRun } from '../execution-model.js'
import type { ExecutionRunner } from '../execution-runner.js'
import { runFlowable } from './flowable.js'
import { type Outcome, type Scope, toOutcome, worst } from './shared.js'

/** `kite.flow.Parallel`: its tasks at once, `concurrent` at a time. */
export function runParallel(
  r: ExecutionRunner,
  task: ParallelTask,
  scope: Scope,
  existing: TaskRun | undefined,
) {
  const children = task.tasks.filter((child) => !child.disabled)
  return runFlowable(r, task, scope, existing, {
    body: (childScope) =>
      pool(r, childScope, children.length, task.concurrent, async (index) =>
        toOutcome(await r.runTask(children[index]!, childScope)),
      ),
  })
}

/**
 * Runs `count` items at most `limit` at a time (0: all); stops starting new ones after a failure,
 * a kill or the timeout of a flowable around `scope`.
 */
export async function pool(
  r: ExecutionRunner,
  scope: Scope,
  count: number,
  limit: number,
  run: (index: number) => Promise<Outcome>,
): Promise<Outcome> {
  let next = 0
  let outcome: Outcome = 'SUCCESS'
  let stop = false
  const worker = async () => {
    while (!stop && !r.stopped(scope) && next < count) {
      const index = next++
      const result = await run(index)
      outcome = worst(outcome, result)
      if (result === 'FAILED' || result === 'KILLED') stop = true
    }
  }
  const width = limit === 0 ? count : Math.min(limit, count)
  await Promise.all(Array.from({ length: width }, worker))
  return r.stopped(scope) ? 'KILLED' : outcome
}
