import { setMaxListeners } from 'node:events'
import type { ExpressionEngine } from '@kite/expressions'
import type { ExecutionInfo, LogLevel } from '@kite/sdk'
import {
  createRenderVariables,
  guardOutputs,
  type JsonSchema,
  type RenderVariablesInput,
} from '@kite/sdk/host'
import { LeaseLostError, messageOf, RuntimeError } from '../errors.js'
import { allTasks, type FlowTask, type LogLevelName, type PauseTask } from '../flow/flow-model.js'
import type { ValidatedFlow } from '../flow/validate-flow.js'
import { createId } from '../ids.js'
import type { PluginResolver } from '../plugins/plugin-resolver.js'
import { executionPrefix, type InternalStorageService } from '../storage/internal-storage.js'
import type { QueuedTaskRun, Store } from '../storage/store.js'
import {
  type Execution,
  type ExecutionState,
  type ExecutionSummary,
  type LogEntry,
  logLevelRank,
  newState,
  type TaskRun,
  type TaskRunState,
  TERMINAL_EXECUTION_STATES,
  TERMINAL_TASK_RUN_STATES,
  transition,
} from './execution-model.js'
import { coerceInput, resolveInputs } from './inputs.js'
import { maskSecrets, type SecretProvider } from './secrets.js'
import { parseTaskResult, type TaskJob, type TaskOutcome, type TaskResult } from './worker.js'

/** How the executor hands attempts to the workers and hears back (the engine implements it). */
export interface TaskDispatch {
  /**
   * Resolves with the worker's result for a queue entry. When the signal fires (kill), an entry
   * no worker claimed yet is withdrawn and a running one is stopped.
   */
  result(id: string, signal: AbortSignal): Promise<Delivered>
  /** Lets the local worker skip parsing the payload. */
  remember(id: string, job: TaskJob): void
  /**
   * A slot of this process's worker for the next attempt, which then runs at once with no queue
   * entry (its task run, committed RUNNING with this node as its worker, is the record).
   */
  reserve(): boolean
  unreserve(): void
  /** Runs a reserved attempt once its task run is committed. */
  runReserved(id: string, job: TaskJob): void
  /** Tells the workers that something was queued. */
  wake(): void
  /** Whether the node that claimed an entry is still alive. */
  isNodeAlive(nodeId: string): Promise<boolean>
}

/** A result as it reaches the executor, with the worker's log lines still to commit. */
export interface Delivered {
  outcome: TaskOutcome
  logs: LogEntry[]
  /** The node whose worker ran the attempt, when another than the executor's. */
  worker?: string
}

/** What the runner of one execution needs from the engine. */
export interface RunnerDeps {
  store: Store
  resolver: PluginResolver
  storage: InternalStorageService
  secrets: SecretProvider
  expressions: ExpressionEngine
  /** `KITE_ENV_*` variables for `{{ envs.* }}`. */
  env: Record<string, string>
  /** Where task working directories go. */
  workDir: string
  /** The queue between this executor and the workers. */
  queue: TaskDispatch
  /** Resubmissions of a task run after lost workers before it fails (`worker.maxResubmissions`). */
  maxResubmissions: number
  /** This process's id, recorded on the attempts it runs. */
  nodeId: string
  /** In a cluster: every commit is fenced by this executor's lease on the execution. */
  fenced?: boolean
  readonly closing: boolean
  startChild(request: ChildStart): Promise<void>
  /** Resolves with the execution once it is in a final state. */
  waitForEnd(id: string): Promise<ExecutionSummary>
  kill(id: string): Promise<unknown>
  notify(event: EngineEvent): void
  onInternalError(error: unknown, executionId: string): void
}

/** A subflow's child execution to create. */
export interface ChildStart {
  id: string
  namespace: string
  flowId: string
  revision?: number
  inputs: Record<string, unknown>
  labels: Record<string, string>
  parent: NonNullable<Execution['parent']>
  trigger: NonNullable<Execution['trigger']>
}

/** What the engine tells subscribers: a state change (committed), or a log line. */
export type EngineEvent =
  | { type: 'state'; executionId: string; state: ExecutionState }
  | { type: 'log'; executionId: string; entry: LogEntry }

import { runStep } from './steps/index.js'
import {
  isTruthy,
  now,
  type Outcome,
  queueId,
  type Scope,
  Shutdown,
  toOutcome,
  WORKER_LOST,
  worst,
} from './steps/shared.js'

export { isTruthy, queueId, valueKey } from './steps/shared.js'

/**
 * Runs one execution: walks the flow's task tree, creating and committing a task run before
 * acting on it, and replays what is already recorded when it resumes after a restart (finished
 * task runs are kept; an attempt still in the queue is waited for, a lost one is resubmitted).
 * Each kind of step lives in `steps/<kind>.ts`, dispatched from `steps/index.ts`; the members
 * below are the state and services those steps share (not used outside the executor).
 */
export class ExecutionRunner {
  readonly execution: Execution
  readonly done: Promise<void>
  readonly deps: RunnerDeps
  readonly validated: ValidatedFlow
  readonly index = new Map<string, TaskRun>()
  readonly outputs: Record<string, unknown> = {}
  readonly controller = new AbortController()
  readonly pauses = new Map<string, (result: 'resumed' | 'killed' | 'shutdown') => void>()
  /** The Pause of each paused task run, and the `onResume` inputs a resume gave it. */
  readonly pauseTasks = new Map<string, PauseTask>()
  readonly resumeInputs = new Map<string, Record<string, unknown>>()
  readonly sleepers = new Set<() => void>()
  readonly children = new Set<string>()
  readonly maskValues: readonly string[]
  readonly recovering: boolean
  killed = false
  /** Another executor took this execution over: nothing more is written from here. */
  leaseLost = false
  sequence = 0
  pendingLogs: LogEntry[] = []
  /** Queue entries that go out with the next commit, and entries whose result it records. */
  enqueue: QueuedTaskRun[] = []
  dequeue: string[] = []
  /** After a restart: attempts still in the queue (waited for) or done (their result taken). */
  readonly resumedEntries = new Map<string, 'waiting' | TaskResult>()
  /** Task runs whose final state goes out with the next commit (see `defer`). */
  deferred: TaskRun[] = []
  flushScheduled = false
  /** The execution changed but was not written yet; the next commit carries it. */
  executionDirty = false
  logTimer: NodeJS.Timeout | undefined
  pausedCount = 0
  /** The execution state as last committed (memory may be a step ahead while a commit runs). */
  committedState: ExecutionState
  /**
   * With `creates`: settles when the first commit, which also creates the execution, is written
   * (or fails, or the runner ends without one). Otherwise resolved: the execution was stored.
   */
  readonly created: Promise<void>
  private creating: { resolve: () => void; reject: (error: unknown) => void } | undefined
  private startSignal!: () => void

  constructor(
    deps: RunnerDeps,
    execution: Execution,
    validated: ValidatedFlow,
    options: { recovering: boolean; creates?: boolean },
  ) {
    this.deps = deps
    this.execution = execution
    this.validated = validated
    this.recovering = options.recovering
    this.committedState = execution.state.current
    this.created = options.creates
      ? new Promise<void>((resolve, reject) => {
          this.creating = { resolve, reject }
        })
      : Promise.resolve()
    // Nobody may wait for it (a runner that ends first rejects it with a shutdown).
    this.created.catch(() => {})
    const secretInputs = (execution.secretInputs ?? [])
      .map((id) => execution.inputs[id])
      .filter((value): value is string => typeof value === 'string' && value.length > 0)
    // Every attempt in flight listens for a kill: a ForEach may have hundreds at once.
    setMaxListeners(0, this.controller.signal)
    this.maskValues = [...deps.secrets.values(), ...secretInputs].sort(
      (a, b) => b.length - a.length,
    )
    const started = new Promise<void>((resolve) => {
      this.startSignal = resolve
    })
    this.done = started.then(() => this.run())
  }

  /** Starts the walk (separate from construction so the engine can register the runner first). */
  start(): Promise<void> {
    this.startSignal()
    return this.done
  }

  /** Asks the execution to stop: running tasks are aborted, nothing new starts. */
  async kill(): Promise<void> {
    if (this.killed || TERMINAL_EXECUTION_STATES.has(this.execution.state.current)) return
    this.killed = true
    transition(this.execution.state, 'KILLING', now(), TERMINAL_EXECUTION_STATES)
    await this.save([], true)
    this.controller.abort(new RuntimeError('the execution was killed', { code: 'TASK_KILLED' }))
    for (const wake of this.pauses.values()) wake('killed')
    for (const wake of this.sleepers) wake()
    await Promise.all([...this.children].map((id) => this.deps.kill(id).catch(() => {})))
  }

  /**
   * Resumes every paused task run with the inputs of its Pause's `onResume` (validated like flow
   * inputs, `INPUTS_INVALID` before anything resumes); throws when none is paused.
   */
  async resume(given: Record<string, unknown> = {}): Promise<void> {
    if (this.pauses.size === 0) {
      throw new RuntimeError(
        `execution ${this.execution.id} is not paused (it is ${this.execution.state.current})`,
        { code: 'EXECUTION_STATE' },
      )
    }
    const resolved = new Map<string, Record<string, unknown>>()
    for (const [runId, task] of this.pauseTasks) {
      resolved.set(runId, await this.resolveOnResume(task, given))
    }
    for (const [runId, values] of resolved) this.resumeInputs.set(runId, values)
    for (const wake of this.pauses.values()) wake('resumed')
  }

  /** A Pause's `onResume` inputs from what the resume gave (defaults when it gave none). */
  resolveOnResume(task: PauseTask, given: Record<string, unknown>) {
    const flow = this.validated.flow
    const where = `${executionPrefix(flow.namespace, flow.id, this.execution.id)}/${task.id}/onResume`
    return resolveInputs(task.onResume ?? [], given, {
      renderDefault: (value) =>
        this.deps.expressions.renderDeep(value, this.variables({ valueKeys: [], values: [] })),
      storeFile: (inputId, name, content) =>
        this.deps.storage.put(`${where}/${inputId}`, name, content),
    })
  }

  /** Writes the log lines not committed yet (a follower is about to read them). */
  async flushLogs(): Promise<void> {
    if (this.pendingLogs.length > 0 && !this.deps.closing) await this.save([])
  }

  /** Stops without writing anything more (engine shutdown): the execution resumes on restart. */
  abort(): void {
    this.controller.abort(new RuntimeError('the runtime is shutting down', { code: 'TASK_KILLED' }))
    for (const wake of this.pauses.values()) wake('shutdown')
    for (const wake of this.sleepers) wake()
  }

  async run(): Promise<void> {
    try {
      await this.walk()
    } catch (error) {
      if (error instanceof Shutdown || this.deps.closing) return
      this.deps.onInternalError(error, this.execution.id)
      try {
        this.execution.error = `internal error: ${messageOf(error)}`
        transition(this.execution.state, 'FAILED', now(), TERMINAL_EXECUTION_STATES)
        await this.save([], true)
      } catch {
        // The store itself failed; the execution resumes on the next start.
      }
    } finally {
      clearTimeout(this.logTimer)
      // Ended before its first commit (the engine is stopping): the execution was never stored.
      this.creating?.reject(
        new RuntimeError('the runtime is shutting down', {
          code: 'EXECUTION_STATE',
          kind: 'operational',
        }),
      )
      this.creating = undefined
    }
  }

  async walk(): Promise<void> {
    const flow = this.validated.flow
    if (this.recovering) await this.recover()
    if (this.execution.state.current === 'KILLING') this.killed = true
    if (this.execution.state.current === 'CREATED') {
      // Committed with the first task run, before that task acts.
      transition(this.execution.state, 'RUNNING', now(), TERMINAL_EXECUTION_STATES)
      this.executionDirty = true
    }
    const root: Scope = { valueKeys: [], values: [] }
    let outcome = await this.runBlock(flow.tasks, root)
    if (outcome === 'FAILED' && flow.errors.length > 0 && !this.killed) {
      await this.runBlock(flow.errors, root)
    }
    if (!this.killed && flow.finally.length > 0) {
      outcome = worst(outcome, await this.runBlock(flow.finally, root))
    }
    if (this.killed) {
      outcome = 'KILLED'
      // A kill that came while this runner recovered stops the walk before it reaches the task
      // runs recorded open (a Pause, a Subflow): they end here, as at a restart mid-kill.
      await this.endKilled()
    }
    await this.finish(outcome)
  }

  /**
   * Rebuilds memory from the recorded task runs. An attempt that was running is looked up in the
   * queue: still queued or claimed by a live worker, it is waited for; done, its result is taken;
   * otherwise its worker was lost and it is recorded so (then resubmitted, see `runPluginTask`).
   * An attempt with no entry at all was run by its executor's own worker (`TaskDispatch.reserve`),
   * in a process that is gone, since its runner is recovering: lost too.
   */
  async recover(): Promise<void> {
    const inFlight: TaskRun[] = []
    for (const run of this.execution.taskRunList) {
      this.index.set(this.keyOf(run.parentTaskRunId, run.taskId, run.iteration), run)
      this.sequence = Math.max(this.sequence, run.sequence + 1)
      if (run.outputs && (run.state.current === 'SUCCESS' || run.state.current === 'WARNING')) {
        this.expose(run.taskId, run.valueKeys ?? [], run.outputs)
      }
      const attempt = run.attempts.at(-1)
      // A sleep the executor waits for has no queue entry: it resumes its wait (steps/sleep.ts).
      if (run.wakeAt !== undefined) continue
      if (run.state.current === 'RUNNING' && attempt?.state.current === 'RUNNING') {
        inFlight.push(run)
      }
    }
    // A kill was under way: the walk stops before reaching any task, so what it left open ends here.
    if (this.execution.state.current === 'KILLING') return this.endKilled()
    if (inFlight.length === 0) return
    const entries = new Map(
      (
        await this.deps.store.getQueueEntries(
          inFlight.map((run) => queueId(run.id, run.attempts.length)),
        )
      ).map((entry) => [entry.id, entry]),
    )
    const lost: TaskRun[] = []
    for (const run of inFlight) {
      const id = queueId(run.id, run.attempts.length)
      const entry = entries.get(id)
      const attempt = run.attempts.at(-1)!
      const recorded = entry?.result === undefined ? undefined : parseTaskResult(entry.result)
      if (entry?.state === 'DONE' && recorded) {
        this.resumedEntries.set(id, recorded)
        continue
      }
      if (
        entry &&
        (entry.state === 'QUEUED' ||
          (entry.nodeId !== undefined && (await this.deps.queue.isNodeAlive(entry.nodeId))))
      ) {
        this.resumedEntries.set(id, 'waiting')
        continue
      }
      if (entry) this.dequeue.push(id)
      transition(attempt.state, 'FAILED', now(), TERMINAL_TASK_RUN_STATES)
      attempt.error = WORKER_LOST
      attempt.workerLost = true
      this.log('warn', `task "${run.taskId}": attempt ${run.attempts.length}: ${WORKER_LOST}`, run)
      lost.push(run)
    }
    if (lost.length > 0) await this.save(lost)
  }

  /**
   * Ends KILLED every task run (and its open attempt) a kill left open when the runtime stopped:
   * plugin tasks, sleeps, pauses, subflows and the flowables around them. Queue entries of the
   * attempts that were in flight are removed, so no worker starts them again, and the child
   * executions of waiting subflows are killed as a live kill kills them (`kill`) — before the
   * task runs are committed ended, so a stop in between kills them on the next start.
   */
  async endKilled(): Promise<void> {
    const open = this.execution.taskRunList.filter(
      (run) => !TERMINAL_TASK_RUN_STATES.has(run.state.current),
    )
    if (open.length === 0) return
    // Attempts that went to the queue (a sleep's wait has no entry).
    const inFlight = open.filter(
      (run) => run.wakeAt === undefined && run.attempts.at(-1)?.state.current === 'RUNNING',
    )
    const waitingSubflows = new Set(
      allTasks(this.validated.flow)
        .filter((task) => task.kind === 'subflow' && task.wait)
        .map((task) => task.id),
    )
    const children = open
      .filter((run) => waitingSubflows.has(run.taskId))
      .map((run) => run.outputs?.executionId)
      .filter((id): id is string => typeof id === 'string')
    // A child that ended, or was never started, has nothing to kill.
    await Promise.all(children.map((id) => this.deps.kill(id).catch(() => {})))
    const ids = inFlight.map((run) => queueId(run.id, run.attempts.length))
    for (const entry of await this.deps.store.getQueueEntries(ids)) this.dequeue.push(entry.id)
    const date = now()
    for (const run of open) {
      const attempt = run.attempts.at(-1)
      if (attempt && !TERMINAL_TASK_RUN_STATES.has(attempt.state.current)) {
        transition(attempt.state, 'KILLED', date, TERMINAL_TASK_RUN_STATES)
      }
      transition(run.state, 'KILLED', date, TERMINAL_TASK_RUN_STATES)
    }
    await this.save(open)
  }

  keyOf(parent: string | undefined, taskId: string, iteration: number | undefined): string {
    return `${parent ?? ''}/${taskId}/${iteration ?? ''}`
  }

  async runBlock(tasks: readonly FlowTask[], scope: Scope): Promise<Outcome> {
    let outcome: Outcome = 'SUCCESS'
    for (const task of tasks) {
      if (task.disabled) continue
      if (this.stopped(scope)) return 'KILLED'
      const state = toOutcome(await this.runTask(task, scope))
      if (state === 'KILLED' || state === 'FAILED') return state
      outcome = worst(outcome, state)
    }
    return outcome
  }

  async runTask(task: FlowTask, scope: Scope): Promise<TaskRunState> {
    const existing = this.index.get(this.keyOf(scope.parentTaskRunId, task.id, scope.iteration))
    if (existing && TERMINAL_TASK_RUN_STATES.has(existing.state.current)) {
      return existing.state.current
    }
    if (!existing && task.runIf !== undefined) {
      let proceed: boolean
      try {
        proceed = isTruthy(this.evaluate(task.runIf, scope, task))
      } catch (error) {
        const run = this.createRun(task, scope, 'RUNNING')
        return this.failRun(run, task.allowFailure, `runIf: ${messageOf(error)}`)
      }
      if (!proceed) {
        this.defer(this.createRun(task, scope, 'SKIPPED'))
        return 'SKIPPED'
      }
    }
    return runStep(this, task, scope, existing)
  }

  // ── plugin tasks ────────────────────────────────────────────────────────────────────────────

  // ── flowable tasks ──────────────────────────────────────────────────────────────────────────

  // ── state, outputs, logs ────────────────────────────────────────────────────────────────────

  createRun(task: FlowTask, scope: Scope, state: TaskRunState, pluginVersion?: string): TaskRun {
    const date = now()
    const run: TaskRun = {
      id: createId(),
      executionId: this.execution.id,
      namespace: this.execution.namespace,
      flowId: this.execution.flowId,
      taskId: task.id,
      type: task.type,
      ...(pluginVersion === undefined ? {} : { pluginVersion }),
      ...(scope.parentTaskRunId === undefined ? {} : { parentTaskRunId: scope.parentTaskRunId }),
      ...(scope.values.length > 0
        ? { value: scope.values.at(-1), valueKeys: scope.valueKeys }
        : {}),
      ...(scope.iteration === undefined ? {} : { iteration: scope.iteration }),
      state: newState('CREATED', date),
      attempts: [],
      sequence: this.sequence++,
    }
    transition(run.state, state, date, TERMINAL_TASK_RUN_STATES)
    this.execution.taskRunList.push(run)
    this.index.set(this.keyOf(scope.parentTaskRunId, task.id, scope.iteration), run)
    return run
  }

  async endRun(run: TaskRun, state: TaskRunState, executionChanged = false) {
    transition(run.state, state, now(), TERMINAL_TASK_RUN_STATES)
    await this.save([run], executionChanged)
    return state
  }

  async failRun(
    run: TaskRun,
    allowFailure: boolean,
    message: string,
    executionChanged = false,
  ): Promise<TaskRunState> {
    run.error = this.mask(message)
    this.log('error', run.error, run)
    return this.endRun(run, allowFailure ? 'WARNING' : 'FAILED', executionChanged)
  }

  async finish(outcome: Outcome): Promise<void> {
    let final: ExecutionState = outcome
    const flow = this.validated.flow
    if ((outcome === 'SUCCESS' || outcome === 'WARNING') && flow.outputs.length > 0) {
      const variables = this.variables({ valueKeys: [], values: [] })
      const outputs: Record<string, unknown> = {}
      try {
        for (const output of flow.outputs) {
          let value: unknown
          try {
            value = this.deps.expressions.renderDeep(output.value, variables)
          } catch (error) {
            throw new Error(`output "${output.id}": ${messageOf(error)}`)
          }
          if (output.type) {
            const coerced = coerceInput(output.type, value)
            if (!coerced.ok)
              throw new Error(`output "${output.id}" (${output.type}): ${coerced.message}`)
            value = coerced.value
          }
          outputs[output.id] = value
        }
        this.execution.outputs = outputs
      } catch (error) {
        final = 'FAILED'
        this.execution.error = this.mask(messageOf(error))
        this.log('error', this.execution.error)
      }
    }
    transition(this.execution.state, final, now(), TERMINAL_EXECUTION_STATES)
    clearTimeout(this.logTimer)
    await this.save([], true)
  }

  async save(runs: readonly TaskRun[], executionChanged = false): Promise<void> {
    if (this.deps.closing || this.leaseLost) throw new Shutdown()
    const logs = this.pendingLogs
    this.pendingLogs = []
    let taskRuns = runs
    if (this.deferred.length > 0) {
      taskRuns = [...this.deferred.filter((run) => !runs.includes(run)), ...runs]
      this.deferred = []
    }
    const creating = this.creating
    this.creating = undefined
    let execution: ExecutionSummary | undefined
    if (executionChanged || this.executionDirty || creating) {
      const { taskRunList: _runs, ...summary } = this.execution
      execution = summary
      this.executionDirty = false
    }
    const enqueue = this.enqueue
    const dequeue = this.dequeue
    this.enqueue = []
    this.dequeue = []
    try {
      await this.deps.store.commit({
        ...(execution ? { execution } : {}),
        // Creates the execution, only if no execution has its id (`EXECUTION_EXISTS` otherwise).
        ...(creating ? { create: true } : {}),
        taskRuns,
        logs,
        ...(enqueue.length > 0 ? { enqueue } : {}),
        ...(dequeue.length > 0 ? { dequeue } : {}),
        ...(this.deps.fenced
          ? { lease: { executionId: this.execution.id, executorId: this.deps.nodeId } }
          : {}),
      })
    } catch (error) {
      if (creating) {
        // Not created: the caller of `Engine.start` gets the error, and nothing more is written.
        creating.reject(error)
        throw new Shutdown()
      }
      if (!(error instanceof LeaseLostError)) throw error
      // Another executor carries on from what is committed: this walk ends, writing nothing.
      this.leaseLost = true
      throw new Shutdown()
    }
    creating?.resolve()
    if (execution) this.committedState = execution.state.current
    this.deps.notify({ type: 'state', executionId: this.execution.id, state: this.committedState })
  }

  /**
   * Commits a task run's final state with the next commit rather than in a transaction of its
   * own: the next step (the following task run, the end of the execution) commits before it acts,
   * so nothing acts on this state before it is written. A turn of the event loop later at the
   * latest, it is written anyway.
   */
  defer(run: TaskRun): void {
    if (!this.deferred.includes(run)) this.deferred.push(run)
    if (this.flushScheduled) return
    this.flushScheduled = true
    setImmediate(() => {
      this.flushScheduled = false
      if (this.deferred.length > 0 && !this.deps.closing) this.save([]).catch(() => {})
    })
  }

  log(
    level: LogLevel,
    message: string,
    run?: TaskRun,
    attemptNumber?: number,
    minLevel?: LogLevelName,
  ): void {
    if (minLevel && logLevelRank(level) < logLevelRank(minLevel.toLowerCase() as LogLevel)) return
    const entry: LogEntry = {
      executionId: this.execution.id,
      ...(run ? { taskRunId: run.id, taskId: run.taskId } : {}),
      ...(attemptNumber === undefined ? {} : { attemptNumber }),
      level,
      message: this.mask(message),
      timestamp: now(),
    }
    this.pendingLogs.push(entry)
    this.deps.notify({ type: 'log', executionId: this.execution.id, entry })
    if (!this.logTimer && !TERMINAL_EXECUTION_STATES.has(this.execution.state.current)) {
      // Lines of long tasks are written a little later, with the next commit at the latest.
      this.logTimer = setTimeout(() => {
        this.logTimer = undefined
        if (this.pendingLogs.length > 0) this.save([]).catch(() => {})
      }, 200)
      this.logTimer.unref()
    }
  }

  /**
   * Merges labels into the execution's (a `kite.core.execution.Labels` output; existing keys
   * are overwritten), written with the next commit. Values that are not text are ignored.
   */
  addLabels(labels: unknown): void {
    if (typeof labels !== 'object' || labels === null) return
    for (const [key, value] of Object.entries(labels)) {
      if (typeof value === 'string' && key.length > 0) this.execution.labels[key] = value
    }
    this.executionDirty = true
  }

  mask(text: string): string {
    return this.maskValues.length === 0 ? text : maskSecrets(text, this.maskValues)
  }

  /** Puts a task's outputs where expressions find them: `outputs.<id>`, value-indexed in loops. */
  expose(
    taskId: string,
    valueKeys: readonly string[],
    outputs: Record<string, unknown>,
    schema?: JsonSchema,
  ): void {
    const guarded = schema ? guardOutputs(outputs, schema, taskId) : outputs
    if (valueKeys.length === 0) {
      this.outputs[taskId] = guarded
      return
    }
    const child = (parent: Record<string, unknown>, key: string): Record<string, unknown> => {
      const existing = parent[key]
      if (typeof existing === 'object' && existing !== null)
        return existing as Record<string, unknown>
      const created: Record<string, unknown> = {}
      parent[key] = created
      return created
    }
    let node = child(this.outputs, taskId)
    for (const key of valueKeys.slice(0, -1)) node = child(node, key)
    node[valueKeys.at(-1)!] = guarded
  }

  evaluate(
    value: string | number | boolean,
    scope: Scope,
    task: FlowTask,
    property?: string,
  ): unknown {
    if (typeof value !== 'string') return value
    try {
      return this.deps.expressions.render(value, this.variables(scope, task))
    } catch (error) {
      if (!property) throw error
      throw new RuntimeError(`${property}: ${messageOf(error)}`, {
        code: 'EXPRESSION',
        cause: error,
      })
    }
  }

  executionInfo(): ExecutionInfo {
    return {
      id: this.execution.id,
      namespace: this.execution.namespace,
      flowId: this.execution.flowId,
      flowRevision: this.execution.flowRevision,
      state: this.execution.state.current,
      labels: this.execution.labels,
      startDate: this.execution.state.startDate,
    }
  }

  variables(scope: Scope, task?: FlowTask, run?: TaskRun): Record<string, unknown> {
    return this.withFunctions(this.variablesInput(scope, task, run))
  }

  /** The variables as plain data (what a worker gets for `ctx.render`). */
  variablesInput(
    scope: Scope,
    task?: FlowTask,
    run?: TaskRun,
  ): Omit<RenderVariablesInput, 'secret' | 'kv' | 'env'> {
    const flow = this.validated.flow
    const values = scope.values
    const parent =
      values.length >= 2 ? { taskrun: { value: values[values.length - 2] } } : undefined
    return {
      flow: { id: flow.id, namespace: flow.namespace, revision: this.execution.flowRevision },
      execution: this.executionInfo(),
      inputs: this.execution.inputs,
      vars: flow.variables,
      outputs: this.outputs,
      ...(this.execution.trigger ? { trigger: this.execution.trigger.variables } : {}),
      ...(task ? { task: { id: task.id, type: task.type } } : {}),
      ...(run
        ? {
            taskrun: {
              id: run.id,
              ...(values.length > 0 ? { value: values.at(-1) } : {}),
              attemptsCount: run.attempts.length,
            },
          }
        : values.length > 0
          ? { taskrun: { id: '', value: values.at(-1) } }
          : {}),
      ...(parent ? { parent } : {}),
    }
  }

  withFunctions(
    input: Omit<RenderVariablesInput, 'secret' | 'kv' | 'env'>,
  ): Record<string, unknown> {
    return createRenderVariables({
      ...input,
      env: this.deps.env,
      secret: (name) => this.deps.secrets.get(name),
      kv: (key) => {
        const found = this.deps.store.kvGetNow(this.execution.namespace, key)
        if (found === undefined) {
          throw new RuntimeError(
            `kv key "${key}" is not set in namespace ${this.execution.namespace}`,
            { code: 'NOT_FOUND' },
          )
        }
        return found
      },
    })
  }

  /** True once the execution is killed or a flowable around `scope` timed out. */
  stopped(scope: Scope): boolean {
    return this.killed || scope.signal?.aborted === true
  }

  /** What stops the work of `scope`: its flowable's timeout, or the execution's kill. */
  signalOf(scope: Scope): AbortSignal {
    return scope.signal ?? this.controller.signal
  }

  /** Waits, unless the execution is killed, `signal` fires or the engine stops (false then). */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (this.killed || signal?.aborted) return Promise.resolve(false)
    if (this.deps.closing) throw new Shutdown()
    if (ms <= 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer)
        this.sleepers.delete(wake)
        signal?.removeEventListener('abort', wake)
        resolve(false)
      }
      const timer = setTimeout(() => {
        this.sleepers.delete(wake)
        signal?.removeEventListener('abort', wake)
        resolve(!this.killed && !signal?.aborted)
      }, ms)
      this.sleepers.add(wake)
      signal?.addEventListener('abort', wake, { once: true })
    }).then((slept) => {
      if (this.deps.closing) throw new Shutdown()
      return slept as boolean
    })
  }
}
