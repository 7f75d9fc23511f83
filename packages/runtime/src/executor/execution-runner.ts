import { join } from 'node:path'
import type { ExpressionEngine } from '@kite/expressions'
import {
  createRenderVariables,
  type ExecutionInfo,
  guardOutputs,
  type JsonSchema,
  type LogLevel,
  parseDuration,
  type RenderVariablesInput,
  renderProperties,
} from '@kite/sdk'
import { messageOf, RuntimeError } from '../errors.js'
import type {
  FlowTask,
  ForEachTask,
  IfTask,
  LogLevelName,
  ParallelTask,
  PauseTask,
  PluginTask,
  SequentialTask,
  SubflowTask,
  SwitchTask,
} from '../flow/flow-model.js'
import type { PreparedTask, ValidatedFlow } from '../flow/validate-flow.js'
import { createId } from '../ids.js'
import { formatMs } from '../plugins/in-process-host.js'
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
  type TaskRunAttempt,
  type TaskRunState,
  TERMINAL_EXECUTION_STATES,
  TERMINAL_TASK_RUN_STATES,
  transition,
} from './execution-model.js'
import { coerceInput } from './inputs.js'
import { decideRetry } from './retry.js'
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
  /** A local slot for the next entry, which is then committed as claimed by this node. */
  reserve(): boolean
  unreserve(): void
  /** Runs a reserved entry once it is committed. */
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
}

/** The queue entry of a task run's attempt. */
export const queueId = (taskRunId: string, attempt: number) => `${taskRunId}:${attempt}`

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

type Outcome = 'SUCCESS' | 'WARNING' | 'FAILED' | 'KILLED'

interface Scope {
  parentTaskRunId?: string
  iteration?: number
  valueKeys: string[]
  values: unknown[]
}

/** Thrown through the walk when the engine shuts down: nothing more is written. */
class Shutdown extends Error {
  constructor() {
    super('the runtime is shutting down')
  }
}

const ORDER: Record<Outcome, number> = { SUCCESS: 0, WARNING: 1, FAILED: 2, KILLED: 3 }
const worst = (a: Outcome, b: Outcome): Outcome => (ORDER[a] >= ORDER[b] ? a : b)
const toOutcome = (state: TaskRunState): Outcome =>
  state === 'SKIPPED' || state === 'CREATED' || state === 'RUNNING' || state === 'PAUSED'
    ? 'SUCCESS'
    : state
const now = () => new Date().toISOString()
const WORKER_LOST = 'worker lost: the runtime stopped while this attempt was running'

/** Kite's truthiness for `runIf` and `If.condition`: false, 0, '', 'false', '0', null are false. */
export function isTruthy(value: unknown): boolean {
  if (typeof value === 'boolean') return value
  if (value === null || value === undefined) return false
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value)
  if (typeof value === 'string') {
    const text = value.trim().toLowerCase()
    return !(text === '' || text === 'false' || text === '0' || text === 'null')
  }
  return true
}

/** The key a ForEach value gets in value-indexed outputs (`outputs.task[key]`). */
export function valueKey(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))
}

/**
 * Runs one execution: walks the flow's task tree, creating and committing a task run before
 * acting on it, and replays what is already recorded when it resumes after a restart (finished
 * task runs are kept, a running attempt is failed as "worker lost" and retried if its policy
 * allows).
 */
export class ExecutionRunner {
  readonly execution: Execution
  readonly done: Promise<void>
  private readonly deps: RunnerDeps
  private readonly validated: ValidatedFlow
  private readonly index = new Map<string, TaskRun>()
  private readonly outputs: Record<string, unknown> = {}
  private readonly controller = new AbortController()
  private readonly pauses = new Map<string, (result: 'resumed' | 'killed' | 'shutdown') => void>()
  private readonly sleepers = new Set<() => void>()
  private readonly children = new Set<string>()
  private readonly maskValues: readonly string[]
  private readonly recovering: boolean
  private killed = false
  private sequence = 0
  private pendingLogs: LogEntry[] = []
  /** Queue entries that go out with the next commit, and entries whose result it records. */
  private enqueue: QueuedTaskRun[] = []
  private dequeue: string[] = []
  /** After a restart: attempts still in the queue (waited for) or done (their result taken). */
  private readonly resumedEntries = new Map<string, 'waiting' | TaskResult>()
  /** Task runs whose final state goes out with the next commit (see `defer`). */
  private deferred: TaskRun[] = []
  private flushScheduled = false
  /** The execution changed but was not written yet; the next commit carries it. */
  private executionDirty = false
  private logTimer: NodeJS.Timeout | undefined
  private pausedCount = 0
  /** The execution state as last committed (memory may be a step ahead while a commit runs). */
  committedState: ExecutionState
  private startSignal!: () => void

  constructor(
    deps: RunnerDeps,
    execution: Execution,
    validated: ValidatedFlow,
    options: { recovering: boolean },
  ) {
    this.deps = deps
    this.execution = execution
    this.validated = validated
    this.recovering = options.recovering
    this.committedState = execution.state.current
    const secretInputs = (execution.secretInputs ?? [])
      .map((id) => execution.inputs[id])
      .filter((value): value is string => typeof value === 'string' && value.length > 0)
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

  /** Resumes every paused task run; throws when none is paused. */
  resume(): void {
    if (this.pauses.size === 0) {
      throw new RuntimeError(
        `execution ${this.execution.id} is not paused (it is ${this.execution.state.current})`,
        { code: 'EXECUTION_STATE' },
      )
    }
    for (const wake of this.pauses.values()) wake('resumed')
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

  private async run(): Promise<void> {
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
    }
  }

  private async walk(): Promise<void> {
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
    if (this.killed) outcome = 'KILLED'
    await this.finish(outcome)
  }

  /**
   * Rebuilds memory from the recorded task runs. An attempt that was running is looked up in the
   * queue: still queued or claimed by a live worker, it is waited for; done, its result is taken;
   * otherwise its worker was lost and it is recorded so (then resubmitted, see `runPluginTask`).
   */
  private async recover(): Promise<void> {
    const inFlight: TaskRun[] = []
    for (const run of this.execution.taskRunList) {
      this.index.set(this.keyOf(run.parentTaskRunId, run.taskId, run.iteration), run)
      this.sequence = Math.max(this.sequence, run.sequence + 1)
      if (run.outputs && (run.state.current === 'SUCCESS' || run.state.current === 'WARNING')) {
        this.expose(run.taskId, run.valueKeys ?? [], run.outputs)
      }
      const attempt = run.attempts.at(-1)
      if (run.state.current === 'RUNNING' && attempt?.state.current === 'RUNNING') {
        inFlight.push(run)
      }
    }
    if (inFlight.length === 0) return
    const killing = this.execution.state.current === 'KILLING'
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
      if (!killing && entry?.state === 'DONE' && recorded) {
        this.resumedEntries.set(id, recorded)
        continue
      }
      if (
        !killing &&
        entry &&
        (entry.state === 'QUEUED' ||
          (entry.nodeId !== undefined && (await this.deps.queue.isNodeAlive(entry.nodeId))))
      ) {
        this.resumedEntries.set(id, 'waiting')
        continue
      }
      if (entry) this.dequeue.push(id)
      transition(attempt.state, killing ? 'KILLED' : 'FAILED', now(), TERMINAL_TASK_RUN_STATES)
      if (!killing) {
        attempt.error = WORKER_LOST
        attempt.workerLost = true
        this.log(
          'warn',
          `task "${run.taskId}": attempt ${run.attempts.length}: ${WORKER_LOST}`,
          run,
        )
      }
      lost.push(run)
    }
    if (lost.length > 0) await this.save(lost)
  }

  private keyOf(parent: string | undefined, taskId: string, iteration: number | undefined): string {
    return `${parent ?? ''}/${taskId}/${iteration ?? ''}`
  }

  private async runBlock(tasks: readonly FlowTask[], scope: Scope): Promise<Outcome> {
    let outcome: Outcome = 'SUCCESS'
    for (const task of tasks) {
      if (task.disabled) continue
      if (this.killed) return 'KILLED'
      const state = toOutcome(await this.runTask(task, scope))
      if (state === 'KILLED' || state === 'FAILED') return state
      outcome = worst(outcome, state)
    }
    return outcome
  }

  private async runTask(task: FlowTask, scope: Scope): Promise<TaskRunState> {
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
    switch (task.kind) {
      case 'plugin':
        return this.runPluginTask(task, scope, existing)
      case 'sequential':
        return this.runFlowable(task, scope, existing, {
          body: (childScope) => this.runBlock(task.tasks, childScope),
        })
      case 'parallel':
        return this.runParallel(task, scope, existing)
      case 'if':
        return this.runIf(task, scope, existing)
      case 'switch':
        return this.runSwitch(task, scope, existing)
      case 'forEach':
        return this.runForEach(task, scope, existing)
      case 'subflow':
        return this.runSubflow(task, scope, existing)
      case 'pause':
        return this.runPause(task, scope, existing)
    }
  }

  // ── plugin tasks ────────────────────────────────────────────────────────────────────────────

  private async runPluginTask(
    task: PluginTask,
    scope: Scope,
    existing: TaskRun | undefined,
  ): Promise<TaskRunState> {
    const prepared = this.validated.tasks.get(task.id)
    if (!prepared) {
      throw new RuntimeError(`task "${task.id}" was not validated`, {
        code: 'INTERNAL',
        kind: 'internal',
      })
    }
    // A new attempt is committed together with its queue entry (in `attempt`).
    let run = existing
    if (!run) {
      run = this.createRun(task, scope, 'RUNNING', prepared.resolved.version)
      run.attempts.push(this.newAttempt())
    } else {
      if (this.killed) return this.endRun(run, 'KILLED')
      const last = run.attempts.at(-1)
      if (last?.workerLost) {
        if (!this.resubmit(run)) return this.failLost(run, task.allowFailure)
      } else if (last?.state.current !== 'RUNNING') {
        // Resumed between attempts: the retry policy decides.
        const decision = decideRetry(
          prepared.retry,
          countedAttempts(run),
          Date.parse(run.state.startDate),
          Date.now(),
        )
        if (!decision.retry) {
          return this.failRun(run, task.allowFailure, last?.error ?? WORKER_LOST)
        }
        const lastEnd = Date.parse(last?.state.endDate ?? run.state.startDate)
        if (!(await this.sleep(lastEnd + decision.delayMs - Date.now()))) {
          return this.endRun(run, 'KILLED')
        }
        run.attempts.push(this.newAttempt())
      }
    }
    for (;;) {
      const attempt = run.attempts.at(-1)!
      const result = await this.attempt(task, prepared, run, scope, attempt)
      if (result.ok) {
        transition(attempt.state, 'SUCCESS', now(), TERMINAL_TASK_RUN_STATES)
        run.outputs = result.outputs
        const state =
          prepared.retry?.warningOnRetry && countedAttempts(run) > 1 ? 'WARNING' : 'SUCCESS'
        transition(run.state, state, now(), TERMINAL_TASK_RUN_STATES)
        this.expose(task.id, scope.valueKeys, result.outputs, outputsSchema(prepared))
        this.defer(run)
        return state
      }
      if ('lost' in result) {
        // Its worker died while this executor waited (another node): resubmitted.
        transition(attempt.state, 'FAILED', now(), TERMINAL_TASK_RUN_STATES)
        attempt.error = WORKER_LOST
        attempt.workerLost = true
        this.log('warn', `attempt ${run.attempts.length}: ${WORKER_LOST}`, run)
        if (!this.resubmit(run)) return this.failLost(run, task.allowFailure)
        continue
      }
      if (result.killed) {
        transition(attempt.state, 'KILLED', now(), TERMINAL_TASK_RUN_STATES)
        return this.endRun(run, 'KILLED')
      }
      const message = this.mask(result.error)
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
      if (!decision.retry) return this.failRun(run, task.allowFailure, message)
      this.log(
        'warn',
        `attempt ${run.attempts.length} failed: ${message}; retrying in ${formatMs(decision.delayMs)}`,
        run,
      )
      await this.save([run])
      if (!(await this.sleep(decision.delayMs))) return this.endRun(run, 'KILLED')
      run.attempts.push(this.newAttempt())
    }
  }

  /**
   * Adds an attempt after a lost one (which does not use the task's own retry policy); false
   * once `worker.maxResubmissions` is used up.
   */
  private resubmit(run: TaskRun): boolean {
    const lost = run.attempts.filter((attempt) => attempt.workerLost).length
    if (lost > this.deps.maxResubmissions) return false
    this.log('warn', `resubmitting after a lost worker (attempt ${run.attempts.length + 1})`, run)
    run.attempts.push(this.newAttempt())
    return true
  }

  private failLost(run: TaskRun, allowFailure: boolean): Promise<TaskRunState> {
    const lost = run.attempts.filter((attempt) => attempt.workerLost).length
    return this.failRun(
      run,
      allowFailure,
      `${WORKER_LOST} (lost ${lost} times; worker.maxResubmissions is ${this.deps.maxResubmissions})`,
    )
  }

  private newAttempt(): TaskRunAttempt {
    return { state: newState('RUNNING', now()), worker: this.deps.nodeId }
  }

  /**
   * Runs one attempt through the queue: renders the properties, commits the attempt with its
   * queue entry, and waits for a worker's result. A resumed attempt whose entry is still queued,
   * running on a live worker or already done is waited for (or taken) instead.
   */
  private async attempt(
    task: PluginTask,
    prepared: PreparedTask,
    run: TaskRun,
    scope: Scope,
    attempt: TaskRunAttempt,
  ): Promise<TaskOutcome> {
    const attemptNumber = run.attempts.length
    const id = queueId(run.id, attemptNumber)
    const resumed = this.resumedEntries.get(id)
    this.resumedEntries.delete(id)
    let result: TaskOutcome
    if (resumed && resumed !== 'waiting') {
      result = resumed
    } else {
      let waiting: Promise<Delivered>
      if (resumed === 'waiting') {
        waiting = this.deps.queue.result(id, this.controller.signal)
      } else {
        const input = this.variablesInput(scope, task, run)
        let properties: Record<string, unknown>
        try {
          properties = this.renderTaskProperties(prepared, this.withFunctions(input))
        } catch (error) {
          return { ok: false, error: messageOf(error), retryable: false }
        }
        const { versionSpec: _spec, manifestEntry: _entry, ...pin } = prepared.resolved
        const workingDir = join(this.deps.workDir, this.execution.id, `${run.id}-${attemptNumber}`)
        const job: TaskJob = {
          executionId: this.execution.id,
          namespace: this.execution.namespace,
          taskRunId: run.id,
          taskId: task.id,
          attempt: attemptNumber,
          pin,
          properties,
          context: {
            execution: this.executionInfo(),
            task: { id: task.id, type: task.type, version: prepared.resolved.version },
            // The key stays the same across retries and resubmissions of this task run.
            taskRun: {
              id: run.id,
              attempt: attemptNumber,
              idempotencyKey: `${this.execution.id}:${run.id}`,
            },
            workingDir,
            pluginConfig: this.deps.resolver.pluginConfig(task.type),
            ...(this.execution.trigger ? { trigger: this.execution.trigger.variables } : {}),
          },
          storagePrefix: `${executionPrefix(this.execution.namespace, this.execution.flowId, this.execution.id)}/${task.id}`,
          ...(prepared.logLevel === undefined ? {} : { logLevel: prepared.logLevel }),
          ...(prepared.timeoutMs === undefined ? {} : { timeoutMs: prepared.timeoutMs }),
          variables: input,
          secretInputs: this.execution.secretInputs ?? [],
        }
        // With a free local slot the entry is committed as claimed by this node and runs at once
        // (no claim round trip); its payload is then never read (a lost one is rebuilt).
        const local = this.deps.queue.reserve()
        this.enqueue.push({
          id,
          executionId: this.execution.id,
          taskRunId: run.id,
          attempt: attemptNumber,
          payload: local ? '' : JSON.stringify(job),
          ...(local ? { nodeId: this.deps.nodeId } : {}),
        })
        try {
          await this.save([run])
        } catch (error) {
          if (local) this.deps.queue.unreserve()
          throw error
        }
        if (local) {
          this.deps.queue.runReserved(id, job)
        } else {
          this.deps.queue.remember(id, job)
          this.deps.queue.wake()
        }
        // A result that arrives before this asks for it is kept for it.
        waiting = this.deps.queue.result(id, this.controller.signal)
      }
      try {
        const delivered = await waiting
        result = delivered.outcome
        // Written by the worker, committed with this attempt's end.
        if (delivered.logs.length > 0) this.pendingLogs.push(...delivered.logs)
      } catch (error) {
        if (this.deps.closing) throw new Shutdown()
        throw error
      }
    }
    if (this.deps.closing) throw new Shutdown()
    // The entry goes with the commit that records this attempt's end.
    this.dequeue.push(id)
    if ('metrics' in result && result.metrics && result.metrics.length > 0) {
      attempt.metrics = result.metrics
    }
    if (!result.ok && !('killed' in result && result.killed) && this.killed) {
      return { ok: false, killed: true }
    }
    return result
  }

  /** Renders a task's properties one by one, so an error names the property. */
  private renderTaskProperties(
    prepared: PreparedTask,
    variables: Record<string, unknown>,
  ): Record<string, unknown> {
    const schema = prepared.resolved.manifestEntry.properties
    const render = (value: unknown) => this.deps.expressions.renderDeep(value, variables)
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

  // ── flowable tasks ──────────────────────────────────────────────────────────────────────────

  /**
   * The shape every flowable shares: decide (and record) what to run when the task run is
   * created, run the body, then `errors` on failure and `finally` always.
   */
  private async runFlowable(
    task: SequentialTask | ParallelTask | IfTask | SwitchTask | ForEachTask,
    scope: Scope,
    existing: TaskRun | undefined,
    steps: {
      decide?: () => Record<string, unknown>
      body: (childScope: Scope, run: TaskRun) => Promise<Outcome>
    },
  ): Promise<TaskRunState> {
    let run = existing
    if (!run) {
      let decided: Record<string, unknown> | undefined
      if (steps.decide) {
        try {
          decided = steps.decide()
        } catch (error) {
          const failed = this.createRun(task, scope, 'RUNNING')
          return this.failRun(failed, task.allowFailure, messageOf(error))
        }
      }
      run = this.createRun(task, scope, 'RUNNING')
      if (decided) run.outputs = decided
      await this.save([run])
    }
    const childScope: Scope = { ...scope, parentTaskRunId: run.id }
    let outcome = this.killed ? 'KILLED' : await steps.body(childScope, run)
    if (outcome === 'FAILED' && task.errors.length > 0 && !this.killed) {
      await this.runBlock(task.errors, childScope)
    }
    if (!this.killed && outcome !== 'KILLED' && task.finally.length > 0) {
      outcome = worst(outcome, await this.runBlock(task.finally, childScope))
    }
    if (this.killed) outcome = 'KILLED'
    if (run.outputs) this.expose(task.id, scope.valueKeys, run.outputs)
    const state: TaskRunState = outcome === 'FAILED' && task.allowFailure ? 'WARNING' : outcome
    if (outcome === 'FAILED') run.error = 'a task inside failed'
    return this.endRun(run, state)
  }

  private runParallel(task: ParallelTask, scope: Scope, existing: TaskRun | undefined) {
    const children = task.tasks.filter((child) => !child.disabled)
    return this.runFlowable(task, scope, existing, {
      body: (childScope) =>
        this.pool(children.length, task.concurrent, async (index) =>
          toOutcome(await this.runTask(children[index]!, childScope)),
        ),
    })
  }

  private runIf(task: IfTask, scope: Scope, existing: TaskRun | undefined) {
    return this.runFlowable(task, scope, existing, {
      decide: () => ({
        condition: isTruthy(this.evaluate(task.condition, scope, task, 'condition')),
      }),
      body: (childScope, run) =>
        this.runBlock(run.outputs?.condition === true ? task.then : task.else, childScope),
    })
  }

  private runSwitch(task: SwitchTask, scope: Scope, existing: TaskRun | undefined) {
    return this.runFlowable(task, scope, existing, {
      decide: () => {
        const value = valueKey(this.evaluate(task.value, scope, task, 'value'))
        return { value, defaults: !Object.hasOwn(task.cases, value) }
      },
      body: (childScope, run) => {
        const value = String(run.outputs?.value)
        return this.runBlock(
          Object.hasOwn(task.cases, value) ? (task.cases[value] ?? []) : task.defaults,
          childScope,
        )
      },
    })
  }

  private runForEach(task: ForEachTask, scope: Scope, existing: TaskRun | undefined) {
    return this.runFlowable(task, scope, existing, {
      decide: () => ({ values: this.forEachValues(task, scope) }),
      body: (childScope, run) => {
        const values = Array.isArray(run.outputs?.values) ? run.outputs.values : []
        return this.pool(values.length, task.concurrencyLimit, (iteration) => {
          const value = values[iteration]
          return this.runBlock(task.tasks, {
            parentTaskRunId: childScope.parentTaskRunId,
            iteration,
            valueKeys: [...scope.valueKeys, valueKey(value)],
            values: [...scope.values, value],
          } as Scope)
        })
      },
    })
  }

  private forEachValues(task: ForEachTask, scope: Scope): unknown[] {
    let values: unknown =
      typeof task.values === 'string'
        ? this.evaluate(task.values, scope, task, 'values')
        : this.deps.expressions.renderDeep(task.values, this.variables(scope, task))
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

  /** Runs `count` items at most `limit` at a time (0: all); stops starting new ones after a failure. */
  private async pool(
    count: number,
    limit: number,
    run: (index: number) => Promise<Outcome>,
  ): Promise<Outcome> {
    let next = 0
    let outcome: Outcome = 'SUCCESS'
    let stop = false
    const worker = async () => {
      while (!stop && !this.killed && next < count) {
        const index = next++
        const result = await run(index)
        outcome = worst(outcome, result)
        if (result === 'FAILED' || result === 'KILLED') stop = true
      }
    }
    const width = limit === 0 ? count : Math.min(limit, count)
    await Promise.all(Array.from({ length: width }, worker))
    return this.killed ? 'KILLED' : outcome
  }

  private async runSubflow(
    task: SubflowTask,
    scope: Scope,
    existing: TaskRun | undefined,
  ): Promise<TaskRunState> {
    let run = existing
    if (!run) {
      let target: {
        namespace: string
        flowId: string
        inputs: Record<string, unknown>
        labels: Record<string, string>
      }
      try {
        const variables = this.variables(scope, task)
        const render = (value: unknown) => this.deps.expressions.renderDeep(value, variables)
        target = {
          namespace: String(render(task.namespace)),
          flowId: String(render(task.flowId)),
          inputs: render(task.inputs) as Record<string, unknown>,
          labels: Object.fromEntries(
            Object.entries(render(task.labels) as Record<string, unknown>).map(([key, value]) => [
              key,
              String(value),
            ]),
          ),
        }
      } catch (error) {
        const failed = this.createRun(task, scope, 'RUNNING')
        return this.failRun(failed, task.allowFailure, messageOf(error))
      }
      // The child's id is recorded before the child exists, so a restart never starts it twice.
      run = this.createRun(task, scope, 'RUNNING')
      run.outputs = { executionId: createId(), namespace: target.namespace, flowId: target.flowId }
      await this.save([run])
      try {
        await this.deps.startChild({
          id: String(run.outputs.executionId),
          namespace: target.namespace,
          flowId: target.flowId,
          ...(task.revision === undefined ? {} : { revision: task.revision }),
          inputs: target.inputs,
          labels: target.labels,
          parent: {
            executionId: this.execution.id,
            namespace: this.execution.namespace,
            flowId: this.execution.flowId,
            taskRunId: run.id,
            taskId: task.id,
          },
          trigger: {
            id: task.id,
            type: task.type,
            variables: {
              executionId: this.execution.id,
              namespace: this.execution.namespace,
              flowId: this.execution.flowId,
              flowRevision: this.execution.flowRevision,
            },
          },
        })
      } catch (error) {
        if (this.deps.closing) throw new Shutdown()
        return this.failRun(run, task.allowFailure, `cannot start the subflow: ${messageOf(error)}`)
      }
    } else if (this.killed) {
      await this.deps.kill(String(run.outputs?.executionId)).catch(() => {})
    }
    const childId = String(run.outputs?.executionId)
    if (!task.wait) {
      run.outputs = { executionId: childId }
      this.expose(task.id, scope.valueKeys, run.outputs)
      return this.endRun(run, 'SUCCESS')
    }
    this.children.add(childId)
    let child: ExecutionSummary
    try {
      child = await this.deps.waitForEnd(childId)
    } catch (error) {
      if (this.deps.closing) throw new Shutdown()
      return this.failRun(run, task.allowFailure, messageOf(error))
    } finally {
      this.children.delete(childId)
    }
    if (this.deps.closing) throw new Shutdown()
    const state = child.state.current
    run.outputs = { executionId: childId, state, outputs: child.outputs ?? {} }
    this.expose(task.id, scope.valueKeys, run.outputs)
    if (this.killed) return this.endRun(run, 'KILLED')
    if (state === 'SUCCESS' || state === 'WARNING') return this.endRun(run, state)
    if (!task.transmitFailed) return this.endRun(run, 'SUCCESS')
    return this.failRun(
      run,
      task.allowFailure,
      `subflow ${child.namespace}/${child.flowId} execution ${childId} ended ${state}${child.error ? `: ${child.error}` : ''}`,
    )
  }

  private async runPause(
    task: PauseTask,
    scope: Scope,
    existing: TaskRun | undefined,
  ): Promise<TaskRunState> {
    let run = existing
    if (!run) {
      run = this.createRun(task, scope, 'RUNNING')
      transition(run.state, 'PAUSED', now(), TERMINAL_TASK_RUN_STATES)
    }
    if (this.killed) return this.endRun(run, 'KILLED')
    this.pausedCount++
    const executionChanged = this.execution.state.current === 'RUNNING'
    if (executionChanged) {
      transition(this.execution.state, 'PAUSED', now(), TERMINAL_EXECUTION_STATES)
    }
    const pausedAt = Date.parse(run.state.histories.at(-1)?.date ?? now())
    // The waiter exists before the PAUSED state is committed: a resume may follow at once.
    const waiting = new Promise<'resumed' | 'killed' | 'shutdown' | 'timeout'>((resolve) => {
      const timers: NodeJS.Timeout[] = []
      const settle = (value: 'resumed' | 'killed' | 'shutdown' | 'timeout') => {
        for (const timer of timers) clearTimeout(timer)
        this.pauses.delete(run.id)
        resolve(value)
      }
      this.pauses.set(run.id, settle)
      if (task.delay !== undefined) {
        const wait = pausedAt + parseDuration(task.delay) - Date.now()
        timers.push(setTimeout(() => settle('resumed'), Math.max(0, wait)))
      }
      if (task.timeout !== undefined) {
        const wait = pausedAt + parseDuration(task.timeout) - Date.now()
        timers.push(setTimeout(() => settle('timeout'), Math.max(0, wait)))
      }
    })
    await this.save([run], executionChanged)
    const result = await waiting
    this.pausedCount--
    if (result === 'shutdown') throw new Shutdown()
    const executionResumed = this.pausedCount === 0 && this.execution.state.current === 'PAUSED'
    if (executionResumed) {
      transition(this.execution.state, 'RUNNING', now(), TERMINAL_EXECUTION_STATES)
    }
    if (result === 'killed') return this.endRun(run, 'KILLED', executionResumed)
    if (result === 'timeout') {
      run.error = `not resumed within its timeout ${task.timeout}`
      transition(run.state, 'RUNNING', now(), TERMINAL_TASK_RUN_STATES)
      return this.failRun(run, task.allowFailure, run.error, executionResumed)
    }
    transition(run.state, 'RUNNING', now(), TERMINAL_TASK_RUN_STATES)
    return this.endRun(run, 'SUCCESS', executionResumed)
  }

  // ── state, outputs, logs ────────────────────────────────────────────────────────────────────

  private createRun(
    task: FlowTask,
    scope: Scope,
    state: TaskRunState,
    pluginVersion?: string,
  ): TaskRun {
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

  private async endRun(run: TaskRun, state: TaskRunState, executionChanged = false) {
    transition(run.state, state, now(), TERMINAL_TASK_RUN_STATES)
    await this.save([run], executionChanged)
    return state
  }

  private async failRun(
    run: TaskRun,
    allowFailure: boolean,
    message: string,
    executionChanged = false,
  ): Promise<TaskRunState> {
    run.error = this.mask(message)
    this.log('error', run.error, run)
    return this.endRun(run, allowFailure ? 'WARNING' : 'FAILED', executionChanged)
  }

  private async finish(outcome: Outcome): Promise<void> {
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

  private async save(runs: readonly TaskRun[], executionChanged = false): Promise<void> {
    if (this.deps.closing) throw new Shutdown()
    const logs = this.pendingLogs
    this.pendingLogs = []
    let taskRuns = runs
    if (this.deferred.length > 0) {
      taskRuns = [...this.deferred.filter((run) => !runs.includes(run)), ...runs]
      this.deferred = []
    }
    let execution: ExecutionSummary | undefined
    if (executionChanged || this.executionDirty) {
      const { taskRunList: _runs, ...summary } = this.execution
      execution = summary
      this.executionDirty = false
    }
    const enqueue = this.enqueue
    const dequeue = this.dequeue
    this.enqueue = []
    this.dequeue = []
    await this.deps.store.commit({
      ...(execution ? { execution } : {}),
      taskRuns,
      logs,
      ...(enqueue.length > 0 ? { enqueue } : {}),
      ...(dequeue.length > 0 ? { dequeue } : {}),
    })
    if (execution) this.committedState = execution.state.current
    this.deps.notify({ type: 'state', executionId: this.execution.id, state: this.committedState })
  }

  /**
   * Commits a task run's final state with the next commit rather than in a transaction of its
   * own: the next step (the following task run, the end of the execution) commits before it acts,
   * so nothing acts on this state before it is written. A turn of the event loop later at the
   * latest, it is written anyway.
   */
  private defer(run: TaskRun): void {
    if (!this.deferred.includes(run)) this.deferred.push(run)
    if (this.flushScheduled) return
    this.flushScheduled = true
    setImmediate(() => {
      this.flushScheduled = false
      if (this.deferred.length > 0 && !this.deps.closing) this.save([]).catch(() => {})
    })
  }

  private log(
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

  private mask(text: string): string {
    return this.maskValues.length === 0 ? text : maskSecrets(text, this.maskValues)
  }

  /** Puts a task's outputs where expressions find them: `outputs.<id>`, value-indexed in loops. */
  private expose(
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

  private evaluate(
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

  private executionInfo(): ExecutionInfo {
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

  private variables(scope: Scope, task?: FlowTask, run?: TaskRun): Record<string, unknown> {
    return this.withFunctions(this.variablesInput(scope, task, run))
  }

  /** The variables as plain data (what a worker gets for `ctx.render`). */
  private variablesInput(
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

  private withFunctions(
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

  /** Waits, unless the execution is killed or the engine stops (false then). */
  private sleep(ms: number): Promise<boolean> {
    if (this.killed) return Promise.resolve(false)
    if (this.deps.closing) throw new Shutdown()
    if (ms <= 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer)
        this.sleepers.delete(wake)
        resolve(false)
      }
      const timer = setTimeout(() => {
        this.sleepers.delete(wake)
        resolve(!this.killed)
      }, ms)
      this.sleepers.add(wake)
    }).then((slept) => {
      if (this.deps.closing) throw new Shutdown()
      return slept as boolean
    })
  }
}

/** Attempts that count against the task's `retry`: every one but those lost with their worker. */
function countedAttempts(run: TaskRun): number {
  let count = 0
  for (const attempt of run.attempts) if (!attempt.workerLost) count++
  return count
}

function outputsSchema(prepared: PreparedTask): JsonSchema | undefined {
  const entry = prepared.resolved.manifestEntry
  return 'outputs' in entry ? (entry.outputs as JsonSchema) : undefined
}
