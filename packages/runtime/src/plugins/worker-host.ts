import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { KiteError } from '@kite/sdk'
import { RuntimeError } from '../errors.js'
import { formatMs } from './in-process-host.js'
import type { PluginCatalog } from './plugin-catalog.js'
import type { HostRequest, PluginHost, RunServices } from './plugin-host.js'
import type { WorkerRequest, WorkerResponse } from './worker-protocol.js'

export interface WorkerHostOptions {
  catalog: PluginCatalog
  /** End a version's idle workers after this many milliseconds (default 60 000). */
  idleMs?: number
  /** Heap limit of one worker in MiB (default 256): an allocation bomb ends only its worker. */
  maxHeapMb?: number
  /**
   * Host for versions whose code is an in-process definition (no module to import in a worker):
   * tests and embedders. Without it such versions are refused.
   */
  fallback?: PluginHost
  /**
   * Keep one worker started ahead (SDK imported, no plugin yet), from the first call on, so a
   * version's first task does not wait for a worker to boot (default true).
   */
  spareWorker?: boolean
}

/** The isolated host, plus what the plugin store and the bench need. */
export interface WorkerHost extends PluginHost {
  /** Ends every worker of one version (uninstall). */
  release(name: string, version: string): Promise<void>
  /** Starts a worker for a version and imports its bundle, ahead of its first call. */
  warm(name: string, version: string): Promise<void>
  /** Live workers per `name@version`. */
  stats(): Record<string, number>
}

interface PooledWorker {
  worker: Worker
  key: string
  busy: boolean
  idleTimer?: NodeJS.Timeout
  /** Settles the call in progress when the worker dies. */
  onDeath?: (error: Error) => void
  onResponse?: (message: WorkerResponse) => void
}

/**
 * Runs each plugin version in worker threads of its own (SPEC 6, isolation). A worker runs one
 * call at a time; a version gets as many workers as it has concurrent calls, started on demand
 * and ended after `idleMs` without work. A timeout or a kill terminates the worker running the
 * call (the code really stops); the next call starts a fresh one. Workers get an empty
 * environment and a heap limit.
 */
export function createWorkerHost(options: WorkerHostOptions): WorkerHost {
  const idleMs = options.idleMs ?? 60_000
  const maxHeapMb = options.maxHeapMb ?? 256
  const spareWorker = options.spareWorker ?? true
  const pools = new Map<string, Set<PooledWorker>>()
  let script: URL | undefined
  let closed = false

  /** A started worker with the SDK loaded but no plugin yet: the next new version takes it. */
  let spare: PooledWorker | undefined

  const start = (key: string): PooledWorker => {
    script ??= workerScript()
    const worker = new Worker(script, {
      env: {},
      resourceLimits: { maxOldGenerationSizeMb: maxHeapMb, maxYoungGenerationSizeMb: 32 },
      stdout: false,
      stderr: false,
    })
    const pooled: PooledWorker = { worker, key, busy: false }
    worker.on('message', (message: WorkerResponse) => pooled.onResponse?.(message))
    let lastError: Error | undefined
    worker.on('error', (error) => {
      lastError = error
    })
    worker.on('exit', (code) => {
      if (spare === pooled) spare = undefined
      pools.get(pooled.key)?.delete(pooled)
      clearTimeout(pooled.idleTimer)
      const reason =
        lastError && (lastError as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `its worker ran out of memory (heap limit ${maxHeapMb} MiB) and was stopped`
          : lastError
            ? `its worker crashed: ${lastError.message}`
            : `its worker exited with code ${code} (process.exit in plugin code?)`
      pooled.onDeath?.(new Error(reason))
    })
    return pooled
  }

  const spawn = (key: string, entry: string): PooledWorker => {
    const pooled = spare ?? start(key)
    spare = undefined
    pooled.worker.ref()
    pooled.key = key
    pooled.worker.postMessage({
      type: 'init',
      entry: pathToFileURL(entry).href,
    } satisfies WorkerRequest)
    if (spareWorker && !closed) {
      // Started off the critical path, so the next new version does not pay for the SDK's import.
      setImmediate(() => {
        if (!spare && !closed) {
          spare = start('')
          spare.worker.unref()
        }
      })
    }
    let pool = pools.get(key)
    if (!pool) {
      pool = new Set()
      pools.set(key, pool)
    }
    pool.add(pooled)
    return pooled
  }

  const acquire = (key: string, entry: string): PooledWorker => {
    for (const pooled of pools.get(key) ?? []) {
      if (!pooled.busy) {
        clearTimeout(pooled.idleTimer)
        pooled.busy = true
        return pooled
      }
    }
    const pooled = spawn(key, entry)
    pooled.busy = true
    return pooled
  }

  const releaseWorker = (pooled: PooledWorker) => {
    pooled.busy = false
    pooled.onDeath = undefined
    pooled.onResponse = undefined
    pooled.idleTimer = setTimeout(() => void pooled.worker.terminate(), idleMs)
    pooled.idleTimer.unref()
  }

  const entryOf = (request: HostRequest): { key: string; entry: string } | undefined => {
    const { pin } = request
    const plugin = options.catalog.get(pin.package, pin.version)
    if (!plugin) {
      throw new RuntimeError(`${pin.package}@${pin.version} is not installed`, {
        code: 'PLUGIN_VERSION',
        kind: 'operational',
      })
    }
    if (plugin.code.kind !== 'module') return undefined
    return { key: `${plugin.name}@${plugin.version}`, entry: plugin.code.entry }
  }

  async function call<T>(request: HostRequest, kind: 'task' | 'trigger' | 'condition'): Promise<T> {
    if (closed) {
      throw new RuntimeError('the plugin host is closed', {
        code: 'WORKER_LOST',
        kind: 'operational',
      })
    }
    const target = entryOf(request)
    if (!target) {
      if (!options.fallback) {
        throw new RuntimeError(
          `${request.pin.package}@${request.pin.version} has no bundle to run in a worker`,
          { code: 'INTERNAL', kind: 'internal' },
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
    const label = `${kind} "${request.context.task.id}" (${target.key})`
    const pooled = acquire(target.key, target.entry)
    const { services, ...context } = request.context
    let timer: NodeJS.Timeout | undefined
    let onAbort: (() => void) | undefined
    let dead = false
    try {
      return await new Promise<T>((resolve, reject) => {
        const stop = (error: RuntimeError) => {
          dead = true
          void pooled.worker.terminate()
          reject(error)
        }
        pooled.onDeath = (error) => {
          dead = true
          reject(
            new RuntimeError(`${label} failed: ${error.message}`, {
              code: 'TASK_FAILED',
              kind: 'user',
            }),
          )
        }
        pooled.onResponse = (message) => {
          if (message.type === 'call') {
            answer(pooled.worker, services, message.callId, message.method, message.args)
            return
          }
          if (message.ok) resolve(message.value as T)
          else {
            const error = message.error ?? { message: 'unknown error' }
            reject(
              new KiteError(error.message, {
                code: error.code ?? 'TASK_FAILED',
                kind: (error.kind as 'user' | 'operational' | 'internal' | undefined) ?? 'user',
              }),
            )
          }
        }
        onAbort = () =>
          stop(new RuntimeError(`${label}: killed`, { code: 'TASK_KILLED', kind: 'user' }))
        if (request.signal.aborted) return onAbort()
        request.signal.addEventListener('abort', onAbort, { once: true })
        if (request.timeoutMs !== undefined) {
          timer = setTimeout(
            () =>
              stop(
                new RuntimeError(`${label}: timed out after ${formatMs(request.timeoutMs ?? 0)}`, {
                  code: 'TASK_TIMEOUT',
                }),
              ),
            request.timeoutMs,
          )
        }
        const message: WorkerRequest = {
          type: 'run',
          kind,
          type_: request.pin.type,
          properties: request.properties,
          context,
        }
        pooled.worker.postMessage(message)
      })
    } finally {
      clearTimeout(timer)
      if (onAbort) request.signal.removeEventListener('abort', onAbort)
      if (!dead) releaseWorker(pooled)
      await rm(request.context.workingDir, { recursive: true, force: true }).catch(() => {})
    }
  }

  const endPool = async (key: string) => {
    const pool = pools.get(key)
    pools.delete(key)
    await Promise.all([...(pool ?? [])].map((pooled) => pooled.worker.terminate()))
  }

  return {
    runTask: (request) => call(request, 'task'),
    pollTrigger: (request) => call(request, 'trigger'),
    testCondition: (request) => call(request, 'condition'),
    release: (name, version) => endPool(`${name}@${version}`),
    async warm(name, version) {
      const plugin = options.catalog.get(name, version)
      if (plugin?.code.kind !== 'module') return
      const pooled = acquire(`${name}@${version}`, plugin.code.entry)
      try {
        await new Promise<void>((resolve, reject) => {
          pooled.onDeath = reject
          pooled.onResponse = (message) => {
            if (message.type !== 'done') return
            if (message.ok) resolve()
            else reject(new Error(message.error?.message))
          }
          pooled.worker.postMessage({ type: 'load' } satisfies WorkerRequest)
        })
      } finally {
        releaseWorker(pooled)
      }
    },
    stats: () => Object.fromEntries([...pools].map(([key, pool]) => [key, pool.size])),
    async close() {
      closed = true
      await spare?.worker.terminate()
      await Promise.all([...pools.keys()].map(endPool))
      await options.fallback?.close()
    },
  }
}

function answer(
  worker: Worker,
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
