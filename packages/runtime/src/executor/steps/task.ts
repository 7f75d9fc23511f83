import { join } from 'node:path'
import { renderProperties } from '@kite/sdk/host'
import { messageOf, RuntimeError } from '../../errors.js'
import type { PluginTask } from '../../flow/flow-model.js'
import type { PreparedTask } from '../../flow/validate-flow.js'
import { formatMs } from '../../plugins/in-process-host.js'
import { executionPrefix } from '../../storage/internal-storage.js'
import {
  newState,
  type TaskRun,
  type TaskRunAttempt,
  type TaskRunState,
  TERMINAL_TASK_RUN_STATES,
  transition,
} from '../execution-model.js'
import type { Delivered, ExecutionRunner } from '../execution-runner.js'
import { decideRetry } from '../retry.js'
import type { TaskJob, TaskOutcome } from '../worker.js'
import {
  countedAttempts,
  now,
  outputsSchema,
  queueId,
  type Scope,
  Shutdown,
  WORKER_LOST,
} from './shared.js'

/** The core plugin's task whose `labels` output the runtime applies to the execution. */
export const LABELS_TASK = 'kite.core.execution.Labels'

// Plugin tasks: each attempt goes to a worker through the queue (see `attempt`).

/** A plugin task: attempts through the queue, with retries and resubmissions. */
export async function runPluginTask(
  r: ExecutionRunner,
  task: PluginTask,
  scope: Scope,
  existing: TaskRun | undefined,
): Promise<TaskRunState> {
  const prepared = r.validated.tasks.get(task.id)
  if (!prepared) {
    throw new RuntimeError(`task "${task.id}" was not validated`, {
      code: 'INTERNAL',
      kind: 'internal',
    })
  }
  // A new attempt is committed together with its queue entry (in `attempt`).
  let run = existing
  if (!run) {
    run = r.createRun(task, scope, 'RUNNING', prepared.resolved.version)
    run.attempts.push(newAttempt(r))
  } else {
    if (r.stopped(scope)) return r.endRun(run, 'KILLED')
    const last = run.attempts.at(-1)
    if (last?.state.current === 'CREATED') {
      // A restart of the execution: this attempt runs at once, whatever the retry policy says.
      r.log('info', `restarted: attempt ${run.attempts.length}`, run)
      last.worker = r.deps.nodeId
      transition(last.state, 'RUNNING', now(), TERMINAL_TASK_RUN_STATES)
    } else if (last?.workerLost) {
      if (!resubmit(r, run)) return failLost(r, run, task.allowFailure)
    } else if (last?.state.current !== 'RUNNING') {
      // Resumed between attempts: the retry policy decides.
      const decision = decideRetry(
        prepared.retry,
        countedAttempts(run),
        Date.parse(run.state.startDate),
        Date.now(),
      )
      if (!decision.retry) {
        return r.failRun(run, task.allowFailure, last?.error ?? WORKER_LOST)
      }
      const lastEnd = Date.parse(last?.state.endDate ?? run.state.startDate)
      if (!(await r.sleep(lastEnd + decision.delayMs - Date.now(), scope.signal))) {
        return r.endRun(run, 'KILLED')
      }
      run.attempts.push(newAttempt(r))
    }
  }
  for (;;) {
    const attempt = run.attempts.at(-1)!
    const result = await runAttempt(r, task, prepared, run, scope, attempt)
    if (result.ok) {
      transition(attempt.state, 'SUCCESS', now(), TERMINAL_TASK_RUN_STATES)
      run.outputs = result.outputs
      const state =
        prepared.retry?.warningOnRetry && countedAttempts(run) > 1 ? 'WARNING' : 'SUCCESS'
      transition(run.state, state, now(), TERMINAL_TASK_RUN_STATES)
      r.expose(task.id, scope.valueKeys, result.outputs, outputsSchema(prepared))
      if (task.type === LABELS_TASK) r.addLabels(result.outputs.labels)
      r.defer(run)
      return state
    }
    if ('lost' in result) {
      // Its worker died while this executor waited (another node): resubmitted.
      transition(attempt.state, 'FAILED', now(), TERMINAL_TASK_RUN_STATES)
      attempt.error = WORKER_LOST
      attempt.workerLost = true
      r.log('warn', `attempt ${run.attempts.length}: ${WORKER_LOST}`, run)
      if (!resubmit(r, run)) return failLost(r, run, task.allowFailure)
      continue
    }
    if (result.killed) {
      transition(attempt.state, 'KILLED', now(), TERMINAL_TASK_RUN_STATES)
      return r.endRun(run, 'KILLED')
    }
    const message = r.mask(result.error)
    attempt.error = message
    transition(attempt.state, 'FAILED', now(), TERMINAL_TASK_RUN_STATES)
    const decision = result.retryable
      ? decideRetry(
          prepared.retry,
          countedAttempts(run),
          Date.parse(run.state.startDate),
          Date.now(),
        )
      : ({ retry: false } as const)
    if (!decision.retry) return r.failRun(run, task.allowFailure, message)
    r.log(
      'warn',
      `attempt ${run.attempts.length} failed: ${message}; retrying in ${formatMs(decision.delayMs)}`,
      run,
    )
    await r.save([run])
    if (!(await r.sleep(decision.delayMs, scope.signal))) return r.endRun(run, 'KILLED')
    run.attempts.push(newAttempt(r))
  }
}

/**
 * Adds an attempt after a lost one (which does not use the task's own retry policy); false
 * once `worker.maxResubmissions` is used up.
 */
export function resubmit(r: ExecutionRunner, run: TaskRun): boolean {
  const lost = run.attempts.filter((attempt) => attempt.workerLost).length
  if (lost > r.deps.maxResubmissions) return false
  r.log('warn', `resubmitting after a lost worker (attempt ${run.attempts.length + 1})`, run)
  run.attempts.push(newAttempt(r))
  return true
}

export function failLost(
  r: ExecutionRunner,
  run: TaskRun,
  allowFailure: boolean,
): Promise<TaskRunState> {
  const lost = run.attempts.filter((attempt) => attempt.workerLost).length
  return r.failRun(
    run,
    allowFailure,
    `${WORKER_LOST} (lost ${lost} times; worker.maxResubmissions is ${r.deps.maxResubmissions})`,
  )
}

export function newAttempt(r: ExecutionRunner): TaskRunAttempt {
  return { state: newState('RUNNING', now()), worker: r.deps.nodeId }
}

/**
 * Runs one attempt through the queue: renders the properties, commits the attempt with its
 * queue entry, and waits for a worker's result. A resumed attempt whose entry is still queued,
 * running on a live worker or already done is waited for (or taken) instead.
 */
export async function runAttempt(
  r: ExecutionRunner,
  task: PluginTask,
  prepared: PreparedTask,
  run: TaskRun,
  scope: Scope,
  attempt: TaskRunAttempt,
): Promise<TaskOutcome> {
  const attemptNumber = run.attempts.length
  const id = queueId(run.id, attemptNumber)
  const resumed = r.resumedEntries.get(id)
  r.resumedEntries.delete(id)
  // A resumed attempt has its queue entry; a fresh one run by this process's worker has none.
  let queued = true
  let result: TaskOutcome
  if (resumed && resumed !== 'waiting') {
    result = resumed
  } else {
    let waiting: Promise<Delivered>
    if (resumed === 'waiting') {
      waiting = r.deps.queue.result(id, r.signalOf(scope))
    } else {
      const input = r.variablesInput(scope, task, run)
      let properties: Record<string, unknown>
      try {
        properties = renderTaskProperties(r, prepared, r.withFunctions(input))
      } catch (error) {
        return { ok: false, error: messageOf(error), retryable: false }
      }
      const { versionSpec: _spec, manifestEntry: _entry, ...pin } = prepared.resolved
      const workingDir = join(r.deps.workDir, r.execution.id, `${run.id}-${attemptNumber}`)
      const job: TaskJob = {
        executionId: r.execution.id,
        namespace: r.execution.namespace,
        taskRunId: run.id,
        taskId: task.id,
        attempt: attemptNumber,
        pin,
        properties,
        context: {
          execution: r.executionInfo(),
          task: { id: task.id, type: task.type, version: prepared.resolved.version },
          // The key stays the same across retries and resubmissions of this task run.
          taskRun: {
            id: run.id,
            attempt: attemptNumber,
            idempotencyKey: `${r.execution.id}:${run.id}`,
          },
          workingDir,
          pluginConfig: r.deps.resolver.pluginConfig(task.type),
          ...(r.execution.trigger ? { trigger: r.execution.trigger.variables } : {}),
        },
        storagePrefix: `${executionPrefix(r.execution.namespace, r.execution.flowId, r.execution.id)}/${task.id}`,
        ...(prepared.logLevel === undefined ? {} : { logLevel: prepared.logLevel }),
        ...(prepared.timeoutMs === undefined ? {} : { timeoutMs: prepared.timeoutMs }),
        variables: input,
        secretInputs: r.execution.secretInputs ?? [],
      }
      // With a free slot in this process's worker the attempt runs at once and gets no queue
      // entry: the attempt committed RUNNING, with this node as its worker, is the record (no
      // claim round trip; no entry written and deleted, ~40 % of a task's SQLite time). Should
      // this process die, its runner's recovery finds a running attempt without an entry and
      // records it lost, as it does an entry of a dead node (`ExecutionRunner.recover`).
      const local = r.deps.queue.reserve()
      queued = !local
      if (queued) {
        r.enqueue.push({
          id,
          executionId: r.execution.id,
          taskRunId: run.id,
          attempt: attemptNumber,
          payload: JSON.stringify(job),
        })
      }
      try {
        await r.save([run])
      } catch (error) {
        if (local) r.deps.queue.unreserve()
        throw error
      }
      if (local) {
        r.deps.queue.runReserved(id, job)
      } else {
        r.deps.queue.remember(id, job)
        r.deps.queue.wake()
      }
      // A result that arrives before this asks for it is kept for it.
      waiting = r.deps.queue.result(id, r.signalOf(scope))
    }
    try {
      const delivered = await waiting
      result = delivered.outcome
      if (delivered.worker !== undefined) attempt.worker = delivered.worker
      // Written by the worker, committed with this attempt's end.
      if (delivered.logs.length > 0) r.pendingLogs.push(...delivered.logs)
    } catch (error) {
      if (r.deps.closing) throw new Shutdown()
      throw error
    }
  }
  if (r.deps.closing) throw new Shutdown()
  // The entry goes with the commit that records this attempt's end.
  if (queued) r.dequeue.push(id)
  if ('metrics' in result && result.metrics && result.metrics.length > 0) {
    attempt.metrics = result.metrics
  }
  if (!result.ok && !('killed' in result && result.killed) && r.stopped(scope)) {
    return { ok: false, killed: true }
  }
  return result
}

/** Renders a task's properties one by one, so an error names the property. */
export function renderTaskProperties(
  r: ExecutionRunner,
  prepared: PreparedTask,
  variables: Record<string, unknown>,
): Record<string, unknown> {
  const schema = prepared.resolved.manifestEntry.properties
  const render = (value: unknown) => r.deps.expressions.renderDeep(value, variables)
  const rendered: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(prepared.properties)) {
    try {
      Object.assign(rendered, renderProperties({ [key]: value }, schema, render))
    } catch (error) {
      throw new RuntimeError(`property "${key}": ${messageOf(error)}`, {
        code: 'EXPRESSION',
        cause: error,
      })
    }
  }
  return rendered
}
