/**
 * What runs plugin code, in a plugin worker thread (`plugin-worker.ts`) or on the main thread of
 * a sandbox process (`sandbox-entry.ts`). One worker serves one plugin version and runs several
 * calls at once (`plugins.callsPerWorker`), each named by a run id: the host posts `run`, the
 * worker imports the version's bundle (once), builds the SDK run context whose services are
 * answered by the host, invokes the type and posts `done`.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { format } from 'node:util'
import { type AnyDefinition, isKiteError, type PluginDefinition } from '@kite/sdk'
import { invokeCondition, invokeTask, invokeTrigger, isDefinition } from '@kite/sdk/host'
import { runMigrations } from './migrate.js'
import { createPluginRunContext, type RunServices } from './plugin-host.js'
import type { WorkerRequest, WorkerResponse } from './worker-protocol.js'

/** How a worker talks to its host: a thread's `parentPort`, or a sandbox process's IPC channel. */
export interface HostChannel {
  post(message: WorkerResponse): void
  listen(listener: (message: WorkerRequest) => void): void
}

let port: HostChannel | undefined
/** The version's bundle (a file URL), set by the host's `init` message. */
let entry = ''

let definition: Promise<PluginDefinition> | undefined
const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>()
let nextCallId = 1
/** `ctx.pluginConfig` objects the host sent, by id. */
const configs = new Map<number, Record<string, unknown>>()

const post = (message: WorkerResponse) => port?.post(message)

const load = (): Promise<PluginDefinition> => {
  definition ??= import(entry).then((module: { default?: unknown }) => {
    if (!isDefinition(module.default, 'plugin')) {
      throw new Error(`the bundle ${entry} does not export a definePlugin(...) by default`)
    }
    return module.default
  })
  return definition
}

const ONE_WAY: ReadonlySet<string> = new Set(['log', 'metric'])

/** The run whose code is executing, across its awaits: `console.*` lines belong to it. */
const currentRun = new AsyncLocalStorage<number>()
const CONSOLE_LEVELS = {
  log: 'info',
  info: 'info',
  debug: 'debug',
  trace: 'trace',
  warn: 'warn',
  error: 'error',
} as const
/** The services of one run: every call names the run, so the host answers with its services. */
const servicesOf = (runId: number): RunServices =>
  new Proxy({} as RunServices, {
    get:
      (_, method: string) =>
      (...args: unknown[]) =>
        // Logs and metrics are fire-and-forget: posted without a call id, never answered.
        ONE_WAY.has(method)
          ? Promise.resolve(post({ type: 'call', runId, callId: 0, method, args }))
          : new Promise((resolve, reject) => {
              const callId = nextCallId++
              pending.set(callId, { resolve, reject })
              post({ type: 'call', runId, callId, method, args })
            }),
  })

/**
 * Serves the host's requests on `channel` (once per thread or process). Plugin code's console
 * goes to the execution's logs of the task run that printed it (secrets masked by the host's log
 * service), not to the runtime's stdout. Output outside any run (a timer left behind) has no task
 * run to belong to and is dropped.
 */
export function servePluginCalls(channel: HostChannel): void {
  if (port) throw new Error('plugin calls are served once per thread')
  port = channel
  for (const [method, level] of Object.entries(CONSOLE_LEVELS)) {
    ;(console as unknown as Record<string, (...args: unknown[]) => void>)[method] = (...args) => {
      const runId = currentRun.getStore()
      if (runId !== undefined) {
        post({ type: 'call', runId, callId: 0, method: 'log', args: [level, format(...args)] })
      }
    }
  }
  channel.listen((message) => {
    if (message.type === 'reply' || message.type === 'init') return void handle(message)
    // Everything a call runs, its bundle's first import included, knows its run id.
    void currentRun.run(message.runId, () => handle(message))
  })
  // The imports above (the SDK, zod) are most of a worker's start: the host starts the next
  // spare after this, not while this one still boots (two boots at once share the CPU it waits
  // for).
  post({ type: 'booted' })
}

async function handle(message: WorkerRequest): Promise<void> {
  if (message.type === 'reply') {
    const waiting = pending.get(message.callId)
    pending.delete(message.callId)
    if (!waiting) return
    if (message.ok) waiting.resolve(message.value)
    else waiting.reject(Object.assign(new Error(message.error.message), message.error))
    return
  }
  if (message.type === 'init') {
    entry = message.entry
    return
  }
  if (message.type === 'load') {
    try {
      await load()
      post({ type: 'done', runId: message.runId, ok: true, value: null })
    } catch (error) {
      post({ type: 'done', runId: message.runId, ok: false, error: describe(error) })
    }
    return
  }
  if (message.type === 'migrate') {
    try {
      const found = (await load()).find(message.type_)
      if (!found || found.kind !== message.kind) {
        throw new Error(`the bundle provides no ${message.kind} ${message.type_}`)
      }
      const value = await runMigrations(found, {
        pin: { type: message.type_, kind: message.kind, package: '', version: '' },
        fromVersion: message.fromVersion,
        properties: message.properties,
        label: message.label,
      })
      post({ type: 'done', runId: message.runId, ok: true, value })
    } catch (error) {
      post({ type: 'done', runId: message.runId, ok: false, error: describe(error) })
    }
    return
  }
  const { runId } = message
  if (message.pluginConfig) configs.set(message.configId, message.pluginConfig)
  // A timeout or a kill ends the whole thread (the host terminates it), so no abort message.
  const controller = new AbortController()
  let madeWorkingDir = false
  try {
    const plugin = await load()
    const found: AnyDefinition | undefined = plugin.find(message.type_)
    if (!found || found.kind !== message.kind) {
      throw new Error(`the bundle provides no ${message.kind} ${message.type_}`)
    }
    const ctx = createPluginRunContext(
      {
        ...message.context,
        pluginConfig: configs.get(message.configId) ?? {},
        services: servicesOf(runId),
      },
      controller.signal,
      () => {
        madeWorkingDir = true
      },
    )
    const value =
      found.kind === 'task'
        ? await invokeTask(found, message.properties, ctx)
        : found.kind === 'trigger'
          ? await invokeTrigger(found, message.properties, ctx)
          : await invokeCondition(found, message.properties, ctx)
    post({ type: 'done', runId, ok: true, value, ...(madeWorkingDir ? { madeWorkingDir } : {}) })
  } catch (error) {
    post({
      type: 'done',
      runId,
      ok: false,
      error: describe(error),
      ...(madeWorkingDir ? { madeWorkingDir } : {}),
    })
  }
}

export function describe(error: unknown): { message: string; code?: string; kind?: string } {
  if (isKiteError(error)) return { message: error.message, code: error.code, kind: error.kind }
  if (error instanceof Error) return { message: error.message }
  return { message: String(error) }
}
