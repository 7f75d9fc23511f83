import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { KiteError } from '@kite/sdk'
import { RuntimeError } from '../errors.js'
import { addToSet, removeFromSet } from '../keyed-sets.js'
import { formatMs } from './in-process-host.js'
import { type InstalledPlugin, installedVersion, type PluginCatalog } from './plugin-catalog.js'
import type { HostRequest, MigrateRequest, PluginHost, RunServices } from './plugin-host.js'
import {
  createSandboxPool,
  type SandboxOptions,
  type SandboxPool,
  type SandboxReach,
  type ThreadHandle,
  withinReach,
} from './sandbox.js'
import {
  PLUGIN_WORKER_CONDITION,
  type WorkerRequest,
  type WorkerResponse,
} from './worker-protocol.js'

export interface WorkerHostOptions {
  catalog: PluginCatalog
  /** End an idle plugin thread after this many milliseconds without calls (default 5 000). */
  idleMs?: number
  /**
   * The most plugin threads alive at once, all versions together, the spare included (default 8).
   * Calls beyond the capacity wait, first come first served.
   */
  maxWorkers?: number
  /** Concurrent calls one thread serves (default 64): calls that mostly wait share a thread. */
  callsPerWorker?: number
  /** Heap limit of one worker in MiB (default 256): an allocation bomb ends only its worker. */
  maxHeapMb?: number
  /**
   * Host for versions whose code is an in-process definition (no module to import in a worker):
   * tests and embedders. Without it such versions are refused.
   */
  fallback?: PluginHost
  /**
   * Keep one worker started ahead (SDK imported, no plugin yet), from `prepare` or the first call
   * on, so a version's first task does not wait for a worker to boot (default true).
   */
  spareWorker?: boolean
  /**
   * Run the threads inside sandbox processes (SPEC 6), one per version, under Node's permission
   * model, instead of in this process. Without it the threads live here (trusted code only).
   * A sandboxed version has no spare thread: a process's permissions name its plugin's directory.
   */
  sandbox?: SandboxOptions
}

/** What the pool holds right now (for tests, the bench and the cluster view). */
export interface WorkerHostUsage {
  /** Live plugin threads, the spare and the ones ending included. */
  threads: number
  /** The most `threads` there ever were. */
  peakThreads: number
  /** Whether a spare thread is ready. */
  spare: boolean
  /** Whether a spare sandbox process is forked (sandbox mode, after the first thread). */
  spareSandbox: boolean
  /** Calls running on a thread. */
  running: number
  /** Calls waiting for capacity. */
  queued: number
  /** Calls run again on a fresh thread because another call's timeout or kill ended theirs. */
  resubmitted: number
}

/** The isolated host, plus what the plugin store and the bench need. */
export interface WorkerHost extends PluginHost {
  /** Ends every worker of one version (uninstall). */
  release(name: string, version: string): Promise<void>
  /** Starts a worker for a version and imports its bundle, ahead of its first call. */
  warm(name: string, version: string): Promise<void>
  /** Live workers per `name@version`. */
  stats(): Record<string, number>
  usage(): WorkerHostUsage
  /** Live sandbox processes by `name@version` with their pid (empty without a sandbox). */
  sandboxes(): Record<string, number>
}

type CallKind = 'task' | 'trigger' | 'condition' | 'load' | 'migrate'

/** One call into plugin code, from the moment it is asked for until it settles. */
interface Call {
  kind: CallKind
  key: string
  entry: string
  plugin: InstalledPlugin
  /** Where the version's sandbox reaches (absent without a sandbox). */
  reach?: SandboxReach
  label: string
  request?: HostRequest
  /** What a `migrate` call migrates. */
  migration?: MigrateRequest
  runId: number
  resolve(value: unknown): void
  reject(error: Error): void
  thread?: Thread
  timer?: NodeJS.Timeout
  onAbort?: () => void
  settled: boolean
  madeWorkingDir: boolean
  /** Times it was run again because its thread was ended for another call. */
  resubmissions: number
}

interface Thread {
  worker: ThreadHandle
  /** `name@version`, or '' for the spare. */
  key: string
  /** The bundle it imported: a version rebuilt in place (`--watch`) gets threads of its own. */
  entry?: string
  calls: Map<number, Call>
  /** `ctx.pluginConfig` objects already sent to this thread, by identity. */
  configs: Map<object, number>
  idleTimer?: NodeJS.Timeout
  /** Takes no new calls and ends when its last call settles (its slot goes to another version). */
  draining: boolean
  /** Terminated (or terminating): still counted until its `exit`. */
  ending: boolean
  /** Its version's bundle is imported (a call or a load finished): calls run without waiting. */
  ready: boolean
  /** It has loaded the SDK (its `booted` message came). */
  booted: boolean
  /** Given to a version before it booted: the next spare starts once it has. */
  replaceWhenBooted?: boolean
  /** The version waiting for this thread's slot. */
  endingFor?: string
  lastError?: Error
}

/** Resubmissions of one call after sibling timeouts or kills before it fails as WORKER_LOST. */
const MAX_RESUBMISSIONS = 3

/**
 * Runs each plugin version in worker threads of its own (SPEC 6 isolation, SPEC 9 bounded
 * resources). All versions share a pool of at most `maxWorkers` threads; a thread serves one
 * version and up to `callsPerWorker` concurrent calls of it, multiplexed by run id. A call
 * takes an idle thread of its version; else a new thread (the spare first) while its version has
 * fewer threads than there are cores and the pool has room; else the least busy loaded thread of
 * its version with a free slot; else a new thread while the pool has room. When the pool is full,
 * an idle thread of another version ends for it, and a version with no thread at all drains the
 * least busy thread of another version. Calls that find no room wait in one FIFO queue. Threads end after `idleMs` without
 * calls. A timeout or a kill terminates the thread running the call (the code really stops); the
 * other calls on that thread run again on a fresh one (see `HostRequest.onWorkerLost`). A thread
 * that dies by itself (process.exit, a crash, out of memory) fails the calls it was running: all
 * of one version. Workers get an empty environment and a heap limit. With `sandbox`, the threads
 * live in sandbox processes (one per version, Node's permission model, see `sandbox.ts`) and the
 * same rules apply; files the host copies for a call stay within the version's reach.
 */
export function createWorkerHost(options: WorkerHostOptions): WorkerHost {
  const idleMs = options.idleMs ?? 5_000
  const maxWorkers = Math.max(1, options.maxWorkers ?? 8)
  const callsPerWorker = Math.max(1, options.callsPerWorker ?? 64)
  const maxHeapMb = options.maxHeapMb ?? 256
  const spreadUpTo = Math.min(maxWorkers, availableParallelism())
  const sandboxes: SandboxPool | undefined = options.sandbox
    ? createSandboxPool(options.sandbox)
    : undefined
  const spareWorker = !sandboxes && (options.spareWorker ?? true)
  /** Every live thread, the spare and the ending ones included: what the cap counts. */
  const threads = new Set<Thread>()
  /** Threads that take calls, per version. */
  const byKey = new Map<string, Set<Thread>>()
  const queue: Call[] = []
  /** Working directories being removed, off the call's path; `close` waits for them. */
  const removals = new Set<Promise<void>>()
  let script: URL | undefined
  let closed = false
  let nextRunId = 1
  let nextConfigId = 1
  let peakThreads = 0
  let resubmitted = 0
  /** A started worker with the SDK loaded but no plugin yet: the next new version takes it. */
  let spare: Thread | undefined

  const resourceLimits = { maxOldGenerationSizeMb: maxHeapMb, maxYoungGenerationSizeMb: 32 }
  const start = (key: string, plugin?: InstalledPlugin): Thread => {
    let worker: ThreadHandle
    if (sandboxes && plugin) worker = sandboxes.startThread(plugin, resourceLimits)
    else {
      script ??= workerScript()
      worker = new Worker(script, {
        env: {},
        execArgv: [...process.execArgv, PLUGIN_WORKER_CONDITION],
        resourceLimits,
        stdout: false,
        stderr: false,
      })
    }
    const thread: Thread = {
      worker,
      key,
      calls: new Map(),
      configs: new Map(),
      draining: false,
      ending: false,
      ready: false,
      booted: false,
    }
    threads.add(thread)
    peakThreads = Math.max(peakThreads, threads.size)
    worker.on('message', (message: WorkerResponse) => onMessage(thread, message))
    worker.on('error', (error) => {
      thread.lastError = error
    })
    worker.on('exit', (code) => onExit(thread, code))
    return thread
  }

  const keep = (thread: Thread) => addToSet(byKey, thread.key, thread)
  const forget = (thread: Thread) => removeFromSet(byKey, thread.key, thread)

  const endThread = (thread: Thread, endingFor?: string) => {
    if (thread.ending) return
    thread.ending = true
    if (endingFor !== undefined) thread.endingFor = endingFor
    clearTimeout(thread.idleTimer)
    forget(thread)
    if (spare === thread) spare = undefined
    void thread.worker.terminate()
  }

  const replenishSpare = () => {
    if (!spareWorker || closed || spare || threads.size >= maxWorkers) return
    // Started off the critical path, so the next new version does not pay for the SDK's import.
    setImmediate(() => {
      if (spare || closed || threads.size >= maxWorkers) return
      spare = start('')
      spare.worker.unref()
    })
  }

  /** A thread for a new version: the spare if there is one, else a fresh start. */
  const spawn = (call: Pick<Call, 'key' | 'entry' | 'plugin'>): Thread => {
    const { key, entry } = call
    const thread = spare ?? start(key, call.plugin)
    spare = undefined
    thread.worker.ref()
    thread.key = key
    thread.entry = entry
    thread.worker.postMessage({
      type: 'init',
      entry: pathToFileURL(entry).href,
    } satisfies WorkerRequest)
    keep(thread)
    // Not while this thread still boots: two boots at once share the CPU its first call waits for.
    if (thread.booted) replenishSpare()
    else thread.replaceWhenBooted = true
    return thread
  }

  /** Where a call can run now, or undefined (it waits; maybe a thread is drained for it). */
  const place = (call: Call): Thread | undefined => {
    const own = [...(byKey.get(call.key) ?? [])].filter(
      (thread) => !thread.draining && thread.entry === call.entry,
    )
    const idle = own.find((thread) => thread.calls.size === 0)
    if (idle) return idle
    const room = spare !== undefined || threads.size < maxWorkers
    // Up to one thread per core, a version spreads (CPU-bound code gains nothing past that)...
    if (room && own.length < spreadUpTo) return spawn(call)
    // ...then packs calls onto its threads, loaded ones first (a thread still importing the
    // bundle would only make them wait), and grows by one thread when they are all full.
    let least: Thread | undefined
    for (const thread of own) {
      if (thread.calls.size >= callsPerWorker) continue
      if (
        !least ||
        (thread.ready && !least.ready) ||
        (thread.ready === least.ready && thread.calls.size < least.calls.size)
      ) {
        least = thread
      }
    }
    if (least) return least
    if (room) return spawn(call)
    // The pool is full: free a slot of another version for this one, one at a time. An idle
    // thread ends at once; a busy one is drained only for a version that has no thread at all.
    for (const thread of threads) if (thread.endingFor === call.key) return undefined
    let victim: Thread | undefined
    for (const thread of threads) {
      if (thread.ending || thread.draining || thread.key === '' || thread.key === call.key) continue
      if (!victim || thread.calls.size < victim.calls.size) victim = thread
    }
    if (!victim || (victim.calls.size > 0 && own.length > 0)) return undefined
    victim.endingFor = call.key
    if (victim.calls.size === 0) endThread(victim, call.key)
    else {
      victim.draining = true
      forget(victim)
    }
    return undefined
  }

  let dispatching = false
  const dispatch = () => {
    if (dispatching || closed) return
    dispatching = true
    try {
      const blocked = new Set<string>()
      for (let index = 0; index < queue.length; ) {
        const call = queue[index] as Call
        const thread = blocked.has(call.key) ? undefined : place(call)
        if (!thread) {
          blocked.add(call.key)
          index++
          continue
        }
        queue.splice(index, 1)
        begin(thread, call)
      }
    } finally {
      dispatching = false
    }
  }

  const begin = (thread: Thread, call: Call) => {
    clearTimeout(thread.idleTimer)
    thread.idleTimer = undefined
    thread.calls.set(call.runId, call)
    call.thread = thread
    const { request } = call
    if (call.migration) {
      const { pin, fromVersion, properties, label } = call.migration
      thread.worker.postMessage({
        type: 'migrate',
        runId: call.runId,
        kind: pin.kind,
        type_: pin.type,
        fromVersion,
        properties,
        label,
      } satisfies WorkerRequest)
      return
    }
    if (!request) {
      thread.worker.postMessage({ type: 'load', runId: call.runId } satisfies WorkerRequest)
      return
    }
    if (request.timeoutMs !== undefined) {
      const timeoutMs = request.timeoutMs
      call.timer = setTimeout(
        () =>
          stop(
            call,
            new RuntimeError(`${call.label}: timed out after ${formatMs(timeoutMs)}`, {
              code: 'TASK_TIMEOUT',
            }),
          ),
        timeoutMs,
      )
    }
    const { services, pluginConfig, ...context } = request.context
    let configId = thread.configs.get(pluginConfig)
    const sendConfig = configId === undefined
    if (configId === undefined) {
      configId = nextConfigId++
      thread.configs.set(pluginConfig, configId)
    }
    const message: WorkerRequest = {
      type: 'run',
      runId: call.runId,
      kind: call.kind as 'task' | 'trigger' | 'condition',
      type_: request.pin.type,
      properties: request.properties,
      context,
      configId,
      ...(sendConfig ? { pluginConfig } : {}),
    }
    thread.worker.postMessage(message)
  }

  const removeWorkingDir = (call: Call) => {
    if (!call.request) return
    const removal = rm(call.request.context.workingDir, { recursive: true, force: true })
      .catch(() => {})
      .finally(() => removals.delete(removal))
    removals.add(removal)
  }

  /** Settles a call once: clears its timer and listener, removes its working dir if it made one. */
  const settle = (call: Call, outcome: { value: unknown } | { error: Error }) => {
    if (call.settled) return
    call.settled = true
    clearTimeout(call.timer)
    if (call.onAbort) call.request?.signal.removeEventListener('abort', call.onAbort)
    if (call.madeWorkingDir) removeWorkingDir(call)
    if ('error' in outcome) call.reject(outcome.error)
    else call.resolve(outcome.value)
  }

  /** After a call leaves a thread: the thread idles, drains or takes the next waiting call. */
  const vacate = (thread: Thread) => {
    if (thread.calls.size === 0 && !thread.ending) {
      if (thread.draining) endThread(thread, thread.endingFor)
      else {
        thread.idleTimer = setTimeout(() => endThread(thread), idleMs)
        thread.idleTimer.unref()
      }
    }
    dispatch()
  }

  /** A timeout or a kill: end the thread that runs the call; its other calls run again. */
  const stop = (call: Call, error: Error) => {
    const { thread } = call
    if (!thread) {
      const index = queue.indexOf(call)
      if (index >= 0) queue.splice(index, 1)
      settle(call, { error })
      return
    }
    const siblings = [...thread.calls.values()].filter((other) => other !== call)
    thread.calls.clear()
    endThread(thread)
    // The code may have made its working directory before it was stopped.
    call.madeWorkingDir = true
    settle(call, { error })
    const again: Call[] = []
    for (const sibling of siblings) {
      clearTimeout(sibling.timer)
      sibling.timer = undefined
      sibling.thread = undefined
      if (
        sibling.request?.onWorkerLost === 'reject' ||
        sibling.resubmissions >= MAX_RESUBMISSIONS
      ) {
        sibling.madeWorkingDir = true
        settle(sibling, {
          error: new RuntimeError(
            `${sibling.label}: worker lost (its thread was ended to stop another call: ${error.message})`,
            { code: 'WORKER_LOST', kind: 'operational' },
          ),
        })
        continue
      }
      sibling.resubmissions++
      resubmitted++
      again.push(sibling)
    }
    // First in line: they were running already.
    queue.unshift(...again)
    dispatch()
  }

  const onMessage = (thread: Thread, message: WorkerResponse) => {
    if (message.type === 'booted') {
      thread.booted = true
      if (thread.replaceWhenBooted) {
        thread.replaceWhenBooted = false
        replenishSpare()
      }
      return
    }
    const call = thread.calls.get(message.runId)
    if (!call) return
    if (message.type === 'call') {
      if (!call.request) return
      // A download without a target lands in the working directory: it exists now.
      if (message.method === 'storageGetFile') call.madeWorkingDir = true
      const { request } = call
      const answerCall = () =>
        answer(
          thread.worker,
          request.context.services,
          message.callId,
          message.method,
          message.args,
        )
      const path = storagePath(message.method, message.args)
      if (!call.reach || path === undefined) answerCall()
      else {
        // The host copies files for the plugin: only where the plugin itself may go.
        const mode = message.method === 'storagePutFile' ? 'read' : 'write'
        const roots = [request.context.workingDir, ...call.reach[mode]]
        void withinReach(path, roots, mode).then((ok) =>
          ok
            ? answerCall()
            : answerDenied(
                thread.worker,
                message.callId,
                `${message.method}: ${path} is outside what ${call.key} may ${mode}`,
              ),
        )
      }
      return
    }
    thread.calls.delete(message.runId)
    thread.ready = true
    if (message.madeWorkingDir) call.madeWorkingDir = true
    if (message.ok) settle(call, { value: message.value })
    else {
      const error = message.error ?? { message: 'unknown error' }
      settle(call, {
        error:
          call.kind === 'load'
            ? new Error(error.message)
            : new KiteError(error.message, {
                code: error.code ?? 'TASK_FAILED',
                kind: (error.kind as 'user' | 'operational' | 'internal' | undefined) ?? 'user',
              }),
      })
    }
    vacate(thread)
  }

  const onExit = (thread: Thread, code: number) => {
    threads.delete(thread)
    forget(thread)
    if (spare === thread) spare = undefined
    clearTimeout(thread.idleTimer)
    const { lastError } = thread
    const reason =
      lastError && (lastError as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY'
        ? `its worker ran out of memory (heap limit ${maxHeapMb} MiB) and was stopped`
        : lastError
          ? `its worker crashed: ${lastError.message}`
          : thread.ending
            ? 'its worker was ended (the version was released or the host closed)'
            : `its worker exited with code ${code} (process.exit in plugin code?)`
    // A thread that dies by itself fails what it ran: every call on it is of the same version.
    for (const call of thread.calls.values()) {
      call.madeWorkingDir = true
      settle(call, {
        error: new RuntimeError(`${call.label} failed: ${reason}`, {
          code: 'TASK_FAILED',
          kind: 'user',
        }),
      })
    }
    thread.calls.clear()
    // The slot was freed for a waiting version: it goes to that version's first call, not to
    // whichever call is first in line (which may be of the version that just gave it up).
    const heir =
      thread.endingFor === undefined ? -1 : queue.findIndex((call) => call.key === thread.endingFor)
    if (heir >= 0 && !closed && threads.size < maxWorkers) {
      const [call] = queue.splice(heir, 1) as [Call]
      begin(spawn(call), call)
    }
    // Not after the spare itself died: a spare that cannot start would be restarted forever.
    if (thread.key !== '') replenishSpare()
    dispatch()
  }

  type Target = Pick<Call, 'key' | 'entry' | 'plugin' | 'reach'>
  const targetOf = (plugin: InstalledPlugin & { code: { kind: 'module' } }): Target => ({
    key: `${plugin.name}@${plugin.version}`,
    entry: plugin.code.entry,
    plugin,
    // Throws PLUGIN_PERMISSION when the version asks for more than is granted.
    ...(sandboxes ? { reach: sandboxes.reachOf(plugin) } : {}),
  })

  const entryOf = (request: HostRequest): Target | undefined => {
    const { pin } = request
    const plugin = installedVersion(options.catalog, pin)
    if (plugin.code.kind !== 'module') return undefined
    return targetOf(plugin as InstalledPlugin & { code: { kind: 'module' } })
  }

  const closedError = () =>
    new RuntimeError('the plugin host is closed', { code: 'WORKER_LOST', kind: 'operational' })

  const submit = <T>(
    target: Target,
    kind: CallKind,
    request?: HostRequest,
    migration?: MigrateRequest,
  ): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const call: Call = {
        kind,
        ...target,
        label: request
          ? `${kind} "${request.context.task.id}" (${target.key})`
          : (migration?.label ?? target.key),
        runId: nextRunId++,
        resolve: resolve as (value: unknown) => void,
        reject,
        settled: false,
        madeWorkingDir: false,
        resubmissions: 0,
        ...(request ? { request } : {}),
        ...(migration ? { migration } : {}),
      }
      if (request) {
        const onAbort = () =>
          stop(
            call,
            new RuntimeError(`${call.label}: killed`, { code: 'TASK_KILLED', kind: 'user' }),
          )
        if (request.signal.aborted) {
          settle(call, {
            error: new RuntimeError(`${call.label}: killed`, { code: 'TASK_KILLED', kind: 'user' }),
          })
          return
        }
        call.onAbort = onAbort
        request.signal.addEventListener('abort', onAbort, { once: true })
      }
      queue.push(call)
      dispatch()
    })

  function call<T>(request: HostRequest, kind: 'task' | 'trigger' | 'condition'): Promise<T> {
    if (closed) return Promise.reject(closedError())
    let target: Target | undefined
    try {
      target = entryOf(request)
    } catch (error) {
      return Promise.reject(error)
    }
    if (!target) {
      if (!options.fallback) {
        return Promise.reject(
          new RuntimeError(
            `${request.pin.package}@${request.pin.version} has no bundle to run in a worker`,
            { code: 'INTERNAL', kind: 'internal' },
          ),
        )
      }
      const fallback = options.fallback
      return (
        kind === 'task'
          ? fallback.runTask(request)
          : kind === 'trigger'
            ? fallback.pollTrigger(request)
            : fallback.testCondition(request)
      ) as Promise<T>
    }
    return submit<T>(target, kind, request)
  }

  const endVersion = async (key: string) => {
    const ended = [...(byKey.get(key) ?? [])]
    for (const thread of threads)
      if (thread.key === key && !ended.includes(thread)) ended.push(thread)
    await Promise.all(
      ended.map((thread) => {
        endThread(thread)
        return thread.worker.terminate()
      }),
    )
  }

  return {
    runTask: (request) => call(request, 'task'),
    pollTrigger: (request) => call(request, 'trigger'),
    testCondition: (request) => call(request, 'condition'),
    migrate(request) {
      if (closed) return Promise.reject(closedError())
      const { pin } = request
      const plugin = options.catalog.get(pin.package, pin.version)
      if (!plugin) {
        return Promise.reject(
          new RuntimeError(`${pin.package}@${pin.version} is not installed`, {
            code: 'PLUGIN_VERSION',
            kind: 'operational',
          }),
        )
      }
      if (plugin.code.kind !== 'module') {
        if (options.fallback) return options.fallback.migrate(request)
        return Promise.reject(
          new RuntimeError(`${pin.package}@${pin.version} has no bundle to run in a worker`, {
            code: 'INTERNAL',
            kind: 'internal',
          }),
        )
      }
      let target: Target
      try {
        target = targetOf(plugin as InstalledPlugin & { code: { kind: 'module' } })
      } catch (error) {
        return Promise.reject(error)
      }
      return submit(target, 'migrate', undefined, request)
    },
    prepare() {
      if (closed) return
      if (sandboxes) sandboxes.prepare(resourceLimits)
      else replenishSpare()
    },
    release: (name, version) => endVersion(`${name}@${version}`),
    async warm(name, version) {
      const plugin = options.catalog.get(name, version)
      if (plugin?.code.kind !== 'module' || closed) return
      await submit<void>(targetOf(plugin as InstalledPlugin & { code: { kind: 'module' } }), 'load')
    },
    stats: () => Object.fromEntries([...byKey].map(([key, set]) => [key, set.size])),
    usage: () => {
      let running = 0
      for (const thread of threads) running += thread.calls.size
      return {
        threads: threads.size,
        peakThreads,
        spare: spare !== undefined,
        spareSandbox: sandboxes?.spare() !== undefined,
        running,
        queued: queue.length,
        resubmitted,
      }
    },
    sandboxes: () => sandboxes?.processes() ?? {},
    async close() {
      closed = true
      for (const waiting of queue.splice(0)) settle(waiting, { error: closedError() })
      await Promise.all(
        [...threads].map((thread) => {
          endThread(thread)
          return thread.worker.terminate()
        }),
      )
      await Promise.all([...removals])
      await sandboxes?.close()
      await options.fallback?.close()
    },
  }
}

/** The path argument of a storage service that copies a file for the plugin, if any. */
function storagePath(method: string, args: unknown[]): string | undefined {
  if (method !== 'storagePutFile' && method !== 'storageGetFile') return undefined
  const path = args[1]
  return typeof path === 'string' ? path : undefined
}

function answerDenied(worker: ThreadHandle, callId: number, message: string): void {
  try {
    worker.postMessage({
      type: 'reply',
      callId,
      ok: false,
      error: { message, code: 'ERR_ACCESS_DENIED' },
    })
  } catch {
    // The worker ended meanwhile.
  }
}

function answer(
  worker: ThreadHandle,
  services: RunServices,
  callId: number,
  method: string,
  args: unknown[],
): void {
  const fn = (services as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[
    method
  ]
  const reply = (message: WorkerRequest) => {
    try {
      worker.postMessage(message)
    } catch {
      // The worker ended while the service answered: nobody is waiting any more.
    }
  }
  if (callId === 0) {
    // One way (logs, metrics): nobody waits for an answer.
    if (typeof fn === 'function') fn.apply(services, args).catch(() => {})
    return
  }
  if (typeof fn !== 'function') {
    reply({ type: 'reply', callId, ok: false, error: { message: `no run service "${method}"` } })
    return
  }
  fn.apply(services, args).then(
    (value) => reply({ type: 'reply', callId, ok: true, value }),
    (error: unknown) =>
      reply({
        type: 'reply',
        callId,
        ok: false,
        error: {
          message: error instanceof Error ? error.message : String(error),
          ...(typeof (error as { code?: unknown }).code === 'string'
            ? { code: (error as { code: string }).code }
            : {}),
        },
      }),
  )
}

/**
 * The worker's script: `dist/plugin-worker.js` next to the built runtime. When the runtime runs
 * from source (tests), the built file of the package is used, so build the runtime first.
 */
function workerScript(): URL {
  const beside = new URL('./plugin-worker.js', import.meta.url)
  if (existsSync(fileURLToPath(beside))) return beside
  const built = new URL('../../dist/plugin-worker.js', import.meta.url)
  if (existsSync(fileURLToPath(built))) return built
  try {
    // Bundled into another file (tests, embedders): the installed package's copy.
    const installed = new URL(
      './plugin-worker.js',
      pathToFileURL(createRequire(import.meta.url).resolve('@kite/runtime')),
    )
    if (existsSync(fileURLToPath(installed))) return installed
  } catch {
    // Not resolvable from here: fall through to the error below.
  }
  throw new RuntimeError(
    `the plugin worker script is missing (${fileURLToPath(built)}): build @kite/runtime first`,
    { code: 'INTERNAL', kind: 'internal' },
  )
}
