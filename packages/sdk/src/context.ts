/** Log levels, lowest first. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error'

/** Writes lines to the execution's logs; secrets are masked by the host before they are stored. */
export interface Logger {
  trace(message: string): void
  debug(message: string): void
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

/** Namespace key-value store. Values are JSON values. */
export interface KeyValueStore {
  get(key: string): Promise<unknown>
  /** `ttl` is an ISO-8601 duration after which the key expires. */
  set(key: string, value: unknown, options?: { ttl?: string }): Promise<void>
  delete(key: string): Promise<boolean>
  keys(prefix?: string): Promise<string[]>
}

/** Internal storage: files addressed by `kite:///<namespace>/<flow>/executions/<id>/...` URIs. */
export interface InternalStorage {
  /** Stores bytes or text under a file name and returns its `kite:///` URI. */
  put(name: string, data: Uint8Array | string): Promise<string>
  /** Stores a file from the local disk (moved into storage by copy) and returns its URI. */
  putFile(name: string, path: string): Promise<string>
  /** Reads a stored file whole. */
  get(uri: string): Promise<Uint8Array>
  /** Copies a stored file to the local disk (the working directory by default) and returns its path. */
  getFile(uri: string, path?: string): Promise<string>
}

/** Counters and timers attached to the task run. */
export interface Metrics {
  counter(name: string, value?: number, tags?: Record<string, string>): void
  timer(name: string, milliseconds: number, tags?: Record<string, string>): void
}

/** The execution a task, trigger or condition runs for. */
export interface ExecutionInfo {
  id: string
  namespace: string
  flowId: string
  flowRevision?: number
  /** The execution's current state (conditions of flow triggers see the upstream's final state). */
  state?: string
  labels: Record<string, string>
  startDate?: string
  outputs?: Record<string, unknown>
}

/** The task (or trigger/condition) being run, with the plugin version that was resolved for it. */
export interface TaskInfo {
  id: string
  type: string
  version: string
}

/**
 * The task run being attempted. After a crash a task may run more than once (at-least-once):
 * `attempt` counts every try (retries and resubmissions after a lost worker), and
 * `idempotencyKey` stays the same across them, so side effects can be de-duplicated.
 */
export interface TaskRunInfo {
  id: string
  attempt: number
  idempotencyKey: string
}

/**
 * What plugin code receives as `ctx`. Every method that reaches the host is async, because plugin
 * code runs in a worker thread of its own and the host answers across the thread boundary.
 */
export interface RunContext {
  logger: Logger
  /** Renders a `{{ }}` template against the execution's variables (plus `vars`), as text. */
  render(template: string, vars?: Record<string, unknown>): Promise<string>
  /** Reads a secret; its value is masked in every log line from then on. */
  secret(name: string): Promise<string>
  kv: KeyValueStore
  storage: InternalStorage
  metrics: Metrics
  /** Fires when the task times out or the execution is killed. Pass it to fetch, child processes… */
  signal: AbortSignal
  /** A private temporary directory, removed after the run. */
  workingDir: string
  execution: ExecutionInfo
  task: TaskInfo
  /** The task run and attempt (tasks only; absent for triggers and conditions). */
  taskRun?: TaskRunInfo
  /** Instance configuration for this plugin (`plugins.configurations` in kite.yaml). */
  pluginConfig: Record<string, unknown>
  /** The variables of the trigger that started the execution, if any. */
  trigger?: Record<string, unknown>
}

/** Persists a polling trigger's cursor between polls and across restarts. */
export interface TriggerState {
  get<T = unknown>(key: string): Promise<T | undefined>
  set(key: string, value: unknown): Promise<void>
}

/** What a polling trigger receives: a run context plus its persistent state. */
export interface TriggerContext extends RunContext {
  state: TriggerState
}

/** What a condition receives; `execution` is the execution under test (for flow triggers, the upstream one). */
export type ConditionContext = RunContext
