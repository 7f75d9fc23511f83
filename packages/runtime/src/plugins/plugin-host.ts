import { mkdirSync } from 'node:fs'
import type { ExecutionInfo, LogLevel, TaskInfo, TriggerContext } from '@kite/sdk'
import type { PluginPin } from './plugin-resolver.js'

/** One counter or timer a task reported. */
export interface MetricEntry {
  kind: 'counter' | 'timer'
  name: string
  value: number
  tags: Record<string, string>
}

/**
 * What the host side offers plugin code, as async functions whose arguments and results are
 * structured-cloneable: the isolated host (a worker thread) proxies each call across the
 * thread boundary; the in-process host calls them directly.
 */
export interface RunServices {
  log(level: LogLevel, message: string): Promise<void>
  render(template: string, vars?: Record<string, unknown>): Promise<string>
  secret(name: string): Promise<string>
  kvGet(key: string): Promise<unknown>
  kvSet(key: string, value: unknown, ttl?: string): Promise<void>
  kvDelete(key: string): Promise<boolean>
  kvKeys(prefix?: string): Promise<string[]>
  storagePut(name: string, data: Uint8Array | string): Promise<string>
  storagePutFile(name: string, path: string): Promise<string>
  storageGet(uri: string): Promise<Uint8Array>
  storageGetFile(uri: string, path?: string): Promise<string>
  metric(entry: MetricEntry): Promise<void>
  /** Trigger state (`ctx.state`), for polling triggers. */
  stateGet(key: string): Promise<unknown>
  stateSet(key: string, value: unknown): Promise<void>
}

/** The host-side run context: plain data plus the services. */
export interface HostRunContext {
  execution: ExecutionInfo
  task: TaskInfo
  /** A private directory for the run; created on first use, removed by the host afterwards. */
  workingDir: string
  pluginConfig: Record<string, unknown>
  trigger?: Record<string, unknown>
  services: RunServices
}

/** One call into plugin code. */
export interface HostRequest {
  /** The exact version to run (from the execution's resolved set). */
  pin: PluginPin
  /** Rendered properties; the host validates them against the type's schema. */
  properties: Record<string, unknown>
  context: HostRunContext
  /** Aborts the call (execution killed). */
  signal: AbortSignal
  /** Fails the call with TASK_TIMEOUT after this many milliseconds. */
  timeoutMs?: number
}

/**
 * Runs plugin code. The in-process host runs definitions in this thread; the worker host runs
 * each plugin version in worker threads of its own, behind the same interface. Every method
 * validates properties, runs the code, validates its result, and rejects with TASK_TIMEOUT or
 * TASK_KILLED when the timeout passes or the signal fires.
 */
export interface PluginHost {
  runTask(request: HostRequest): Promise<Record<string, unknown>>
  pollTrigger(request: HostRequest): Promise<Record<string, unknown>[]>
  testCondition(request: HostRequest): Promise<boolean>
  close(): Promise<void>
}

/**
 * Builds the SDK's run context (`ctx`) from a host context: what plugin code sees, wherever it
 * runs. Logger and metrics calls are fire-and-forget but keep their order.
 */
export function createPluginRunContext(
  host: HostRunContext,
  signal: AbortSignal,
  onWorkingDir?: () => void,
): TriggerContext {
  const { services } = host
  const swallow = (promise: Promise<unknown>) => {
    promise.catch(() => {})
  }
  const log = (level: LogLevel) => (message: string) =>
    swallow(services.log(level, String(message)))
  let workingDirReady = false
  return {
    logger: {
      trace: log('trace'),
      debug: log('debug'),
      info: log('info'),
      warn: log('warn'),
      error: log('error'),
    },
    render: (template, vars) => services.render(template, vars),
    secret: (name) => services.secret(name),
    kv: {
      get: (key) => services.kvGet(key),
      set: (key, value, options) => services.kvSet(key, value, options?.ttl),
      delete: (key) => services.kvDelete(key),
      keys: (prefix) => services.kvKeys(prefix),
    },
    storage: {
      put: (name, data) => services.storagePut(name, data),
      putFile: (name, path) => services.storagePutFile(name, path),
      get: (uri) => services.storageGet(uri),
      getFile: (uri, path) => services.storageGetFile(uri, path),
    },
    metrics: {
      counter: (name, value = 1, tags = {}) =>
        swallow(services.metric({ kind: 'counter', name, value, tags })),
      timer: (name, value, tags = {}) =>
        swallow(services.metric({ kind: 'timer', name, value, tags })),
    },
    signal,
    get workingDir() {
      if (!workingDirReady) {
        mkdirSync(host.workingDir, { recursive: true })
        workingDirReady = true
        onWorkingDir?.()
      }
      return host.workingDir
    },
    execution: host.execution,
    task: host.task,
    pluginConfig: host.pluginConfig,
    ...(host.trigger ? { trigger: host.trigger } : {}),
    state: {
      get: async <T>(key: string) => (await services.stateGet(key)) as T | undefined,
      set: (key, value) => services.stateSet(key, value),
    },
  }
}
