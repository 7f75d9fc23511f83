import { hostname } from 'node:os'
import type { ExpressionEngine } from '@kite/expressions'
import { isKiteError, type LogLevel } from '@kite/sdk'
import { createRenderVariables, type RenderVariablesInput } from '@kite/sdk/host'
import { messageOf, RuntimeError } from '../errors.js'
import type { LogLevelName } from '../flow/flow-model.js'
import type { HostRunContext, MetricEntry, PluginHost } from '../plugins/plugin-host.js'
import type { PluginPin } from '../plugins/plugin-resolver.js'
import type { InternalStorageService } from '../storage/internal-storage.js'
import { isConnectionLost } from '../storage/kysely-store.js'
import type { NodeRecord, Store } from '../storage/store.js'
import type { RuntimeLogger } from './engine.js'
import { type LogEntry, logLevelRank } from './execution-model.js'
import type { EngineEvent } from './execution-runner.js'
import { isEncrypted } from './input-encryption.js'
import { createRunServices } from './run-services.js'
import { maskSecrets, type SecretProvider } from './secrets.js'

/**
 * One attempt of a plugin task, as the executor hands it to the workers through the queue: all
 * a worker needs, as plain data (it may run in another process).
 */
export interface TaskJob {
  executionId: string
  namespace: string
  taskRunId: string
  taskId: string
  attempt: number
  pin: PluginPin
  /** Rendered by the executor. */
  properties: Record<string, unknown>
  context: Omit<HostRunContext, 'services'>
  storagePrefix: string
  logLevel?: LogLevelName
  timeoutMs?: number
  /** The variables `ctx.render` sees, without functions (`secret`, `kv` and `envs` are the worker's). */
  variables: Omit<RenderVariablesInput, 'secret' | 'kv' | 'env'>
  /** Ids of SECRET inputs, masked in log lines. */
  secretInputs: string[]
}

/** What a worker reports for an attempt. */
export type TaskResult =
  | { ok: true; outputs: Record<string, unknown>; metrics?: MetricEntry[] }
  | { ok: false; killed: true; metrics?: MetricEntry[] }
  | { ok: false; killed?: false; error: string; retryable: boolean; metrics?: MetricEntry[] }

/** What the executor learns about an attempt: the worker's result, or that its worker was lost. */
export type TaskOutcome = TaskResult | { ok: false; lost: true }

export interface WorkerOptions {
  store: Store
  host: PluginHost
  storage: InternalStorageService
  secrets: SecretProvider
  expressions: ExpressionEngine
  /** `KITE_ENV_*` variables for `{{ envs.* }}` in `ctx.render`. */
  env: Record<string, string>
  nodeId: string
  /** Task runs run at once (`worker.slots`). */
  slots: number
  /** The roles this process plays, recorded with its heartbeat. */
  roles?: string[]
  /**
   * False when this process does not play the worker role: it only heartbeats (its node record
   * is the lease of the executions it advances) and claims nothing.
   */
  claims?: boolean
  /** The plugin versions loaded here (`name@version`), recorded with the heartbeat. */
  plugins?: () => string[]
  /** Milliseconds between heartbeats (default 5 s). */
  heartbeatMs?: number
  /** Nodes silent for longer than this (ms) are forgotten when the worker starts (default 1 h). */
  forgetNodesAfterMs?: number
  /** Milliseconds between looks at the queue when nothing woke the worker (default 1 s). */
  pollMs?: number
  /** Log lines and results (the engine's subscribers). */
  notify: (event: EngineEvent) => void
  /**
   * A result: true when an executor of this process took it at once (it records the attempt's
   * end, with the log lines it is handed, in its own commit); otherwise the worker records it in
   * the store and calls again once it is written.
   */
  onResult: (id: string, result: TaskResult, logs: LogEntry[]) => boolean
  logger: RuntimeLogger
}

/**
 * The worker role: claims queued task runs up to its slots, runs them through the plugin host,
 * heartbeats, and records each result (with its log lines) in the store, batched. Claims,
 * results and logs of many task runs share one transaction when they happen together.
 */
export interface Worker {
  readonly nodeId: string
  readonly slotsInUse: number
  /** Something was queued: look at the queue soon. */
  wake(): void
  /** Keeps a job's data in memory so the claim need not parse it (same content as the payload). */
  remember(id: string, job: TaskJob): void
  /**
   * Holds a free slot for a task run this process is about to queue, when nothing else waits:
   * its entry is then committed as claimed by this node and run at once (`runReserved`).
   */
  /** Drops a remembered job (its entry was withdrawn). */
  forget(id: string): void
  reserve(): boolean
  unreserve(): void
  runReserved(id: string, job: TaskJob): void
  /** Stops a running attempt of this worker (the execution was killed). */
  abort(id: string, reason: unknown): boolean
  /** Looks for claimed attempts whose entry is gone, and stops them (see `withdrawTaskRun`). */
  stopWithdrawn(): void
  /** True while this worker runs the attempt of this queue entry, or records its result. */
  holds(id: string): boolean
  /** Writes the log lines not committed yet. */
  flushLogs(): Promise<void>
  start(): Promise<void>
  /** Stops claiming and aborts what runs; nothing more is written. */
  close(): Promise<void>
}

/**
 * The nodes this process runs now (their workers started and not closed): more than one where
 * runtimes are embedded side by side (tests of a cluster in one process).
 */
export const nodesOfThisProcess = new Set<string>()

export function createWorker(options: WorkerOptions): Worker {
  const { store, host, nodeId, logger } = options
  const running = new Map<string, AbortController>()
  /** The running attempts that came from the queue (the others run here without an entry). */
  const claimedHere = new Set<string>()
  const remembered = new Map<string, TaskJob>()
  const heartbeatMs = options.heartbeatMs ?? 5000
  const pollMs = options.pollMs ?? 1000
  const claims = options.claims !== false
  const startedAt = new Date().toISOString()
  let pendingLogs: LogEntry[] = []
  let pendingResults: Array<{ id: string; result: TaskResult }> = []
  let reserved = 0
  let flushing: Promise<void> | undefined
  /** The ids of the results `flushing` writes. */
  let recording = new Set<string>()
  let flushScheduled = false
  let claimScheduled = false
  let claiming = false
  let claimAgain = false
  // False once a claim found the queue empty, until something may have been queued since (a
  // wake, a notification, the poll): a finished run looks at the queue only then.
  let mayHaveQueued = true
  let closed = false
  let pollTimer: NodeJS.Timeout | undefined
  let heartbeatTimer: NodeJS.Timeout | undefined
  let logTimer: NodeJS.Timeout | undefined
  let stopListening: (() => void) | undefined
  let stopListeningWithdrawn: (() => void) | undefined

  const nodeRecord = (): NodeRecord => ({
    id: nodeId,
    roles: options.roles ?? ['executor', 'worker', 'scheduler', 'api'],
    host: hostname(),
    pid: process.pid,
    slots: claims ? options.slots : 0,
    slotsInUse: running.size,
    startedAt,
    heartbeatAt: new Date().toISOString(),
    plugins: options.plugins?.() ?? [],
  })

  /** Results and log lines go out together, one transaction for all that piled up. */
  const flush = async (): Promise<void> => {
    if (flushing) {
      await flushing
      if (pendingResults.length === 0 && pendingLogs.length === 0) return
    }
    const results = pendingResults
    const logs = pendingLogs
    pendingResults = []
    pendingLogs = []
    if (results.length === 0 && logs.length === 0) return
    recording = new Set(results.map(({ id }) => id))
    flushing = store
      .completeTaskRuns(
        results.map(({ id, result }) => ({ id, result: JSON.stringify(result) })),
        logs,
      )
      .finally(() => {
        flushing = undefined
      })
    try {
      await flushing
    } catch (error) {
      if (closed) return
      if (isConnectionLost(error)) {
        // Kept, and written with a later flush (the store itself already waited a while):
        // their executors wait for them.
        pendingResults = [...results, ...pendingResults]
        pendingLogs = [...logs, ...pendingLogs]
        setTimeout(scheduleFlush, 1000).unref()
      }
      recording = new Set()
      logger.error(`the worker could not record ${results.length} results: ${messageOf(error)}`)
      throw error
    }
    // Only once recorded does the executor act on a result.
    for (const { id, result } of results) options.onResult(id, result, [])
    recording = new Set()
  }

  const scheduleFlush = () => {
    if (flushScheduled) return
    flushScheduled = true
    setImmediate(() => {
      flushScheduled = false
      if (!closed) flush().catch(() => {})
    })
  }

  /** Something may have been queued: claim soon. */
  const lookAtQueue = () => {
    mayHaveQueued = true
    scheduleClaim()
  }

  const scheduleClaim = () => {
    if (claimScheduled || closed || !claims) return
    claimScheduled = true
    setImmediate(() => {
      claimScheduled = false
      claim().catch((error: unknown) => {
        if (!closed) logger.error(`the worker could not claim task runs: ${messageOf(error)}`)
      })
    })
  }

  const claim = async (): Promise<void> => {
    if (claiming) {
      claimAgain = true
      return
    }
    claiming = true
    try {
      do {
        claimAgain = false
        const free = options.slots - running.size - reserved
        if (free <= 0 || closed) return
        mayHaveQueued = false
        let claimed: Array<{ id: string; payload: string }>
        try {
          claimed = await store.claimTaskRuns(nodeId, free)
        } catch (error) {
          mayHaveQueued = true
          throw error
        }
        if (closed) return
        for (const { id, payload } of claimed) {
          const job = remembered.get(id) ?? parseJob(payload)
          remembered.delete(id)
          if (typeof job === 'string') {
            pendingResults.push({
              id,
              result: {
                ok: false,
                error: `queued task run ${id} cannot be read: ${job}`,
                retryable: false,
              },
            })
            scheduleFlush()
          } else {
            run(id, job, true)
          }
        }
        if (claimed.length === free) {
          mayHaveQueued = true
          claimAgain = true
        }
      } while (claimAgain)
    } finally {
      claiming = false
      if (lookAgainForWithdrawn && !lookingForWithdrawn) checkWithdrawn()
    }
  }

  /**
   * Stops the claimed attempts whose entry is gone: their executor ended them (a kill, or it
   * took this worker for lost and handed the attempt on), so nobody waits for their result.
   */
  const stopWithdrawn = async () => {
    const ids = [...claimedHere]
    if (ids.length === 0 || closed) return
    const entries = await store.getQueueEntries(ids)
    const ours = new Set(entries.filter((entry) => entry.nodeId === nodeId).map(({ id }) => id))
    for (const id of ids) {
      if (ours.has(id)) continue
      running.get(id)?.abort(
        new RuntimeError(`attempt ${id} was withdrawn from this worker: its execution was killed`, {
          code: 'TASK_KILLED',
        }),
      )
    }
  }
  // One look at a time; asked for meanwhile (or while claiming, when a just claimed attempt is
  // not in `claimedHere` yet), one more after it.
  let lookingForWithdrawn: Promise<void> | undefined
  let lookAgainForWithdrawn = false
  const checkWithdrawn = () => {
    if (lookingForWithdrawn || claiming) {
      lookAgainForWithdrawn = true
      return
    }
    lookAgainForWithdrawn = false
    lookingForWithdrawn = stopWithdrawn()
      .catch((error: unknown) => {
        if (!closed) {
          logger.warn(`the worker could not look for withdrawn attempts: ${messageOf(error)}`)
        }
      })
      .finally(() => {
        lookingForWithdrawn = undefined
        if (lookAgainForWithdrawn) checkWithdrawn()
      })
  }

  const run = (id: string, job: TaskJob, claimed = false) => {
    const controller = new AbortController()
    running.set(id, controller)
    if (claimed) claimedHere.add(id)
    execute(job, controller.signal)
      .then((result) => {
        running.delete(id)
        claimedHere.delete(id)
        if (closed) return
        const logs = pendingLogs
        pendingLogs = []
        if (!options.onResult(id, result, logs)) {
          pendingLogs = [...logs, ...pendingLogs]
          pendingResults.push({ id, result })
          scheduleFlush()
        }
        if (mayHaveQueued) scheduleClaim()
      })
      .catch((error: unknown) => {
        running.delete(id)
        claimedHere.delete(id)
        if (!closed) logger.error(`task run ${id} failed inside the worker: ${messageOf(error)}`)
      })
  }

  const log = (entry: LogEntry) => {
    pendingLogs.push(entry)
    options.notify({ type: 'log', executionId: entry.executionId, entry })
    if (!logTimer) {
      // Lines of long tasks are written a little later, with the next result at the latest.
      logTimer = setTimeout(() => {
        logTimer = undefined
        if (!closed && pendingLogs.length > 0) flush().catch(() => {})
      }, 200)
      logTimer.unref()
    }
  }

  const execute = async (job: TaskJob, signal: AbortSignal): Promise<TaskResult> => {
    const secretInputs = job.secretInputs
      .map((inputId) => job.variables.inputs?.[inputId])
      .filter((value): value is string => typeof value === 'string' && value.length > 0)
    const maskValues = [...options.secrets.values(), ...secretInputs].sort(
      (a, b) => b.length - a.length,
    )
    const mask = (text: string) => (maskValues.length === 0 ? text : maskSecrets(text, maskValues))
    const minRank =
      job.logLevel === undefined ? -1 : logLevelRank(job.logLevel.toLowerCase() as LogLevel)
    const metrics: MetricEntry[] = []
    let variables: Record<string, unknown> | undefined
    const render = (template: string, vars?: Record<string, unknown>) => {
      variables ??= createRenderVariables({
        ...job.variables,
        env: options.env,
        secret: (name) => options.secrets.get(name),
        kv: (key) => options.store.kvGetNow(job.namespace, key),
      })
      return options.expressions.renderString(
        template,
        vars ? { ...variables, ...vars } : variables,
      )
    }
    const context: HostRunContext = {
      ...job.context,
      services: createRunServices({
        store,
        storage: options.storage,
        secrets: options.secrets,
        namespace: job.namespace,
        storagePrefix: job.storagePrefix,
        workingDir: job.context.workingDir,
        log: (level, message) => {
          if (logLevelRank(level) < minRank) return
          log({
            executionId: job.executionId,
            taskRunId: job.taskRunId,
            taskId: job.taskId,
            attemptNumber: job.attempt,
            level,
            message: mask(message),
            timestamp: new Date().toISOString(),
          })
        },
        render,
        metrics,
      }),
    }
    const withMetrics = <T extends TaskResult>(result: T): T =>
      metrics.length > 0 ? { ...result, metrics } : result
    try {
      const outputs = await host.runTask({
        pin: job.pin,
        properties: job.properties,
        context,
        signal,
        ...(job.timeoutMs === undefined ? {} : { timeoutMs: job.timeoutMs }),
      })
      return withMetrics({ ok: true, outputs })
    } catch (error) {
      if (signal.aborted) return withMetrics({ ok: false, killed: true })
      const code = (error as { code?: unknown }).code
      const retryable = !(isKiteError(error) && code === 'PROPERTIES_INVALID')
      return withMetrics({ ok: false, error: mask(messageOf(error)), retryable })
    }
  }

  const heartbeat = () => {
    checkWithdrawn()
    return store.saveNode(nodeRecord()).catch((error: unknown) => {
      if (!closed) logger.warn(`the worker's heartbeat failed: ${messageOf(error)}`)
    })
  }

  return {
    nodeId,
    get slotsInUse() {
      return running.size
    },
    wake: lookAtQueue,
    remember(id, job) {
      if (claims) remembered.set(id, job)
    },
    forget(id) {
      remembered.delete(id)
    },
    reserve() {
      if (closed || !claims || claiming || remembered.size > 0) return false
      if (running.size + reserved >= options.slots) return false
      reserved++
      return true
    },
    unreserve() {
      reserved = Math.max(0, reserved - 1)
    },
    runReserved(id, job) {
      reserved = Math.max(0, reserved - 1)
      if (closed) return
      run(id, job)
    },
    abort(id, reason) {
      const controller = running.get(id)
      if (!controller) return false
      controller.abort(reason)
      return true
    },
    stopWithdrawn: checkWithdrawn,
    holds(id) {
      if (running.has(id) || recording.has(id) || claiming) return true
      return pendingResults.some((pending) => pending.id === id)
    },
    async flushLogs() {
      if (pendingLogs.length > 0 && !closed) await flush()
    },
    async start() {
      // Processes that died without a goodbye leave their row; long-silent ones go.
      const forgetAfter = options.forgetNodesAfterMs ?? 3_600_000
      await store.removeNodesSilentSince(new Date(Date.now() - forgetAfter).toISOString())
      await store.saveNode(nodeRecord())
      nodesOfThisProcess.add(nodeId)
      heartbeatTimer = setInterval(heartbeat, heartbeatMs)
      heartbeatTimer.unref()
      if (!claims) return
      stopListeningWithdrawn = await store
        .listen?.('withdrawn', checkWithdrawn)
        .catch((error: unknown) => {
          logger.warn(
            `the worker looks for withdrawn attempts at heartbeats only: ${messageOf(error)}`,
          )
          return undefined
        })
      // Other processes' entries wake it through the store (PostgreSQL's NOTIFY); in one process
      // every enqueue wakes the worker directly. Polling is the fallback for both.
      stopListening = await store.listen?.('queued', lookAtQueue).catch((error: unknown) => {
        logger.warn(`the worker polls the queue only: ${messageOf(error)}`)
        return undefined
      })
      pollTimer = setInterval(lookAtQueue, pollMs)
      pollTimer.unref()
      lookAtQueue()
    },
    async close() {
      if (closed) return
      closed = true
      nodesOfThisProcess.delete(nodeId)
      stopListening?.()
      stopListeningWithdrawn?.()
      clearInterval(heartbeatTimer)
      clearInterval(pollTimer)
      clearTimeout(logTimer)
      for (const controller of running.values()) {
        controller.abort(new Error('the runtime is shutting down'))
      }
      await flushing?.catch(() => {})
      // Its claimed entries now belong to a node that is gone: they are resubmitted.
      await store.removeNode(nodeId).catch(() => {})
    },
  }
}

/** A queued job, or why its payload is not one. */
export function parseJob(payload: string): TaskJob | string {
  if (isEncrypted(payload)) {
    return 'its payload is encrypted, and this node has no secrets.encryptionKey or not the one it was encrypted with (every node needs the same key)'
  }
  let value: unknown
  try {
    value = JSON.parse(payload)
  } catch (error) {
    return `its payload is not JSON (${messageOf(error)})`
  }
  const job = value as Partial<TaskJob> | null
  if (
    typeof job !== 'object' ||
    job === null ||
    typeof job.executionId !== 'string' ||
    typeof job.taskRunId !== 'string' ||
    typeof job.pin?.type !== 'string' ||
    typeof job.context?.workingDir !== 'string' ||
    typeof job.properties !== 'object' ||
    !Array.isArray(job.secretInputs)
  ) {
    return 'its payload is not a task job'
  }
  return job as TaskJob
}

/** A recorded result, or undefined when the stored text is not one. */
export function parseTaskResult(text: string): TaskResult | undefined {
  try {
    const value = JSON.parse(text) as Partial<TaskResult> | null
    if (typeof value !== 'object' || value === null || typeof value.ok !== 'boolean') {
      return undefined
    }
    if (value.ok && typeof (value as { outputs?: unknown }).outputs !== 'object') return undefined
    return value as TaskResult
  } catch {
    return undefined
  }
}
