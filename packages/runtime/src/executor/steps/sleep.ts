import { isDuration, parseDuration } from '@kite/sdk'
import { messageOf } from '../../errors.js'
import type { PluginTask } from '../../flow/flow-model.js'
import type { PreparedTask } from '../../flow/validate-flow.js'
import { formatMs } from '../../plugins/in-process-host.js'
import {
  type TaskRun,
  type TaskRunState,
  TERMINAL_TASK_RUN_STATES,
  transition,
} from '../execution-model.js'
import type { ExecutionRunner } from '../execution-runner.js'
import { now, type Scope } from './shared.js'
import { newAttempt, renderTaskProperties } from './task.js'

/** The core plugin's Sleep, which the executor runs itself as a durable timer (see `runSleep`). */
export const SLEEP_TASK = 'kite.core.flow.Sleep'
const CORE_PACKAGE = '@kite/plugin-core'
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * True when the executor waits for this task itself instead of sending it to a worker: the
 * core plugin's `flow.Sleep` (any version: its contract, wait `duration` then succeed with no
 * outputs, is the same in all), written with `duration` alone. The type is matched after alias
 * resolution and together with its package (a group belongs to one package). A run recorded
 * without a wake-up time (started as a plugin call before an upgrade) goes on as one, unless a
 * restart gave it a new attempt.
 */
export function isExecutorSleep(
  prepared: PreparedTask | undefined,
  existing: TaskRun | undefined,
): prepared is PreparedTask {
  if (!prepared || prepared.resolved.type !== SLEEP_TASK) return false
  if (prepared.resolved.package !== CORE_PACKAGE) return false
  const keys = Object.keys(prepared.properties)
  if (keys.length !== 1 || keys[0] !== 'duration') return false
  return (
    existing === undefined ||
    existing.wakeAt !== undefined ||
    existing.attempts.at(-1)?.state.current === 'CREATED'
  )
}

/**
 * `kite.core.flow.Sleep` as a durable timer: the task run is committed RUNNING with its wake-up
 * time (`wakeAt`), and the executor's timer ends it SUCCESS then. It holds no worker slot and no
 * thread. After a restart or a takeover it wakes at the recorded time (at once when past). A
 * kill, a flowable's timeout around it (KILLED) and the task's own `timeout` (FAILED, counted
 * from the attempt's start) end it as they end the plugin call. `retry` does not apply: nothing
 * in it can fail but a bad duration, which no retry fixes.
 */
export async function runSleep(
  r: ExecutionRunner,
  task: PluginTask,
  prepared: PreparedTask,
  scope: Scope,
  existing: TaskRun | undefined,
): Promise<TaskRunState> {
  let run = existing
  let begin = false
  if (!run) {
    run = r.createRun(task, scope, 'RUNNING', prepared.resolved.version)
    run.attempts.push(newAttempt(r))
    begin = true
  } else if (run.attempts.at(-1)?.state.current === 'CREATED') {
    // A restart of the execution: this attempt sleeps its whole duration again, from now.
    if (r.stopped(scope)) return r.endRun(run, 'KILLED')
    const restarted = run.attempts.at(-1)!
    r.log('info', `restarted: attempt ${run.attempts.length}`, run)
    restarted.worker = r.deps.nodeId
    transition(restarted.state, 'RUNNING', now(), TERMINAL_TASK_RUN_STATES)
    begin = true
  }
  if (begin) {
    let duration: unknown
    try {
      const variables = r.withFunctions(r.variablesInput(scope, task, run))
      duration = renderTaskProperties(r, prepared, variables).duration
    } catch (error) {
      return failAttempt(r, task, run, messageOf(error))
    }
    if (typeof duration !== 'string' || !isDuration(duration)) {
      return failAttempt(
        r,
        task,
        run,
        `task "${task.id}" (${task.type}): invalid properties:\n- duration: must be an ISO-8601 duration such as PT30S, PT5M or PT1H`,
      )
    }
    const startedAt = Date.parse(run.attempts.at(-1)!.state.startDate)
    run.wakeAt = new Date(startedAt + parseDuration(duration)).toISOString()
    r.log('debug', `sleeping for ${duration}`, run, run.attempts.length, prepared.logLevel)
    await r.save([run])
  }
  const attempt = run.attempts.at(-1)!
  const wakeAt = Date.parse(run.wakeAt!)
  const timeoutAt =
    prepared.timeoutMs === undefined
      ? Number.POSITIVE_INFINITY
      : Date.parse(attempt.state.startDate) + prepared.timeoutMs
  // Throws Shutdown when the runtime stops: the wait resumes from the record on the next start.
  // Timers take at most 2^31-1 ms (about 24 days): a longer sleep waits in steps.
  let slept = true
  for (let left = Math.min(wakeAt, timeoutAt) - Date.now(); slept && left > 0; ) {
    slept = await r.sleep(Math.min(left, MAX_TIMER_MS), scope.signal)
    left = Math.min(wakeAt, timeoutAt) - Date.now()
  }
  if (!slept || r.stopped(scope)) {
    transition(attempt.state, 'KILLED', now(), TERMINAL_TASK_RUN_STATES)
    return r.endRun(run, 'KILLED')
  }
  if (timeoutAt < wakeAt) {
    const label = `task "${task.id}" (${prepared.resolved.package}@${prepared.resolved.version})`
    return failAttempt(r, task, run, `${label}: timed out after ${formatMs(prepared.timeoutMs!)}`)
  }
  transition(attempt.state, 'SUCCESS', now(), TERMINAL_TASK_RUN_STATES)
  transition(run.state, 'SUCCESS', now(), TERMINAL_TASK_RUN_STATES)
  run.outputs = {}
  r.expose(task.id, scope.valueKeys, run.outputs)
  r.defer(run)
  return 'SUCCESS'
}

/** Ends the attempt and the task run FAILED (WARNING with `allowFailure`), as a worker's error would. */
function failAttempt(
  r: ExecutionRunner,
  task: PluginTask,
  run: TaskRun,
  error: string,
): Promise<TaskRunState> {
  const attempt = run.attempts.at(-1)!
  attempt.error = r.mask(error)
  transition(attempt.state, 'FAILED', now(), TERMINAL_TASK_RUN_STATES)
  return r.failRun(run, task.allowFailure, error)
}
