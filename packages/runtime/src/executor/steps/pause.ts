import { parseDuration } from '@kite/sdk'
import { messageOf } from '../../errors.js'
import type { PauseTask } from '../../flow/flow-model.js'
import {
  type TaskRun,
  type TaskRunState,
  TERMINAL_EXECUTION_STATES,
  TERMINAL_TASK_RUN_STATES,
  transition,
} from '../execution-model.js'
import type { ExecutionRunner } from '../execution-runner.js'
import { now, type Scope, Shutdown } from './shared.js'

/** `kite.flow.Pause`: waits for a resume, its `delay` or its `timeout`. */
export async function runPause(
  r: ExecutionRunner,
  task: PauseTask,
  scope: Scope,
  existing: TaskRun | undefined,
): Promise<TaskRunState> {
  let run = existing
  if (!run) {
    run = r.createRun(task, scope, 'RUNNING')
    transition(run.state, 'PAUSED', now(), TERMINAL_TASK_RUN_STATES)
  }
  if (r.stopped(scope)) return r.endRun(run, 'KILLED')
  r.pausedCount++
  const executionChanged = r.execution.state.current === 'RUNNING'
  if (executionChanged) {
    transition(r.execution.state, 'PAUSED', now(), TERMINAL_EXECUTION_STATES)
  }
  const pausedAt = Date.parse(run.state.histories.at(-1)?.date ?? now())
  // The waiter exists before the PAUSED state is committed: a resume may follow at once.
  const waiting = new Promise<'resumed' | 'killed' | 'shutdown' | 'timeout'>((resolve) => {
    const timers: NodeJS.Timeout[] = []
    // A flowable around it that times out stops it as a kill would.
    const stop = () => settle('killed')
    const settle = (value: 'resumed' | 'killed' | 'shutdown' | 'timeout') => {
      for (const timer of timers) clearTimeout(timer)
      scope.signal?.removeEventListener('abort', stop)
      r.pauses.delete(run.id)
      r.pauseTasks.delete(run.id)
      resolve(value)
    }
    r.pauses.set(run.id, settle)
    r.pauseTasks.set(run.id, task)
    scope.signal?.addEventListener('abort', stop, { once: true })
    if (task.delay !== undefined) {
      const wait = pausedAt + parseDuration(task.delay) - Date.now()
      timers.push(setTimeout(() => settle('resumed'), Math.max(0, wait)))
    }
    if (task.timeout !== undefined) {
      const wait = pausedAt + parseDuration(task.timeout) - Date.now()
      timers.push(setTimeout(() => settle('timeout'), Math.max(0, wait)))
    }
  })
  await r.save([run], executionChanged)
  const result = await waiting
  r.pausedCount--
  if (result === 'shutdown') throw new Shutdown()
  const executionResumed = r.pausedCount === 0 && r.execution.state.current === 'PAUSED'
  if (executionResumed) {
    transition(r.execution.state, 'RUNNING', now(), TERMINAL_EXECUTION_STATES)
  }
  if (result === 'killed') return r.endRun(run, 'KILLED', executionResumed)
  if (result === 'timeout') {
    run.error = `not resumed within its timeout ${task.timeout}`
    transition(run.state, 'RUNNING', now(), TERMINAL_TASK_RUN_STATES)
    return r.failRun(run, task.allowFailure, run.error, executionResumed)
  }
  transition(run.state, 'RUNNING', now(), TERMINAL_TASK_RUN_STATES)
  if (task.onResume !== undefined) {
    // Given by the resume; resumed by its delay, the inputs' defaults.
    let values = r.resumeInputs.get(run.id)
    r.resumeInputs.delete(run.id)
    if (!values) {
      try {
        values = await r.resolveOnResume(task, {})
      } catch (error) {
        return r.failRun(run, task.allowFailure, `onResume: ${messageOf(error)}`, executionResumed)
      }
    }
    run.outputs = { onResume: values }
    r.expose(task.id, scope.valueKeys, run.outputs)
  }
  return r.endRun(run, 'SUCCESS', executionResumed)
}
