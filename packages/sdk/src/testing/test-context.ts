import { randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join, resolve, sep } from 'node:path'
import { createExpressionEngine } from '@kite/expressions'
import type { ExecutionInfo, LogLevel, TriggerContext } from '../context.js'
import { parseDuration } from '../duration.js'
import { KiteError } from '../errors.js'
import { createPluginRunContext, type MetricEntry, type RunServices } from '../host/run-context.js'
import { createSecretMasker } from '../host/secrets.js'
import { createRenderVariables } from '../variables.js'

export interface LogEntry {
  level: LogLevel
  message: string
}

export interface TestContextOptions {
  /** The type id the run reports in `ctx.task.type` (default `test.<Name>`). */
  type?: string
  taskId?: string
  version?: string
  namespace?: string
  flowId?: string
  execution?: Partial<ExecutionInfo>
  inputs?: Record<string, unknown>
  /** The flow's `variables`, seen as `{{ vars.* }}`. */
  vars?: Record<string, unknown>
  /** Outputs of earlier tasks, seen as `{{ outputs.<id>.* }}`. */
  outputs?: Record<string, unknown>
  trigger?: Record<string, unknown>
  labels?: Record<string, string>
  secrets?: Record<string, string>
  /** Initial content of the namespace KV store. */
  kv?: Record<string, unknown>
  /** Initial trigger state (`ctx.state`). */
  state?: Record<string, unknown>
  env?: Record<string, string>
  pluginConfig?: Record<string, unknown>
  taskrunValue?: unknown
  /**
   * Keep internal storage in this directory (e.g. another context's `storageDir`, or one a test
   * made) instead of a new temp dir, so files stored by one run can be read by another.
   */
  storageDir?: string
}

/** A live run context plus everything a test wants to look at afterwards. */
export interface TestContext {
  ctx: TriggerContext
  logs: LogEntry[]
  metrics: MetricEntry[]
  kv: Map<string, unknown>
  state: Map<string, unknown>
  storageDir: string
  /** Renders raw property values against this context's variables (the runtime's rules). */
  render(value: unknown): unknown
  /** Reads a stored file back as text. */
  readStorage(uri: string): Promise<string>
  /** Aborts `ctx.signal`. */
  abort(reason?: string): void
  /** Removes the temp dirs. */
  cleanup(): Promise<void>
}

const engine = createExpressionEngine()
const leftovers = new Set<string>()
process.once('exit', () => {
  for (const root of leftovers) rmSync(root, { recursive: true, force: true })
})

/** Creates a real run context for tests: temp dirs, captured logs, in-memory KV and state. */
export async function createTestContext(options: TestContextOptions = {}): Promise<TestContext> {
  const root = await mkdtemp(join(tmpdir(), 'kite-test-'))
  leftovers.add(root)
  const storageDir = resolve(options.storageDir ?? join(root, 'storage'))
  const workingDir = join(root, 'work')
  await mkdir(workingDir, { recursive: true })
  const namespace = options.namespace ?? options.execution?.namespace ?? 'test'
  const flowId = options.flowId ?? options.execution?.flowId ?? 'test-flow'
  const execution: ExecutionInfo = {
    id: randomUUID(),
    namespace,
    flowId,
    labels: options.labels ?? {},
    startDate: new Date().toISOString(),
    state: 'RUNNING',
    ...options.execution,
  }
  const taskId = options.taskId ?? 'test-task'
  const type = options.type ?? 'test.Task'
  const secrets = options.secrets ?? {}
  const logs: LogEntry[] = []
  const metrics: MetricEntry[] = []
  const kv = new Map(Object.entries(options.kv ?? {}))
  const expiries = new Map<string, number>()
  const state = new Map(Object.entries(options.state ?? {}))
  const controller = new AbortController()
  const prefix = `kite:///${namespace}/${flowId}/executions/${execution.id}/${taskId}/`

  const readSecret = (name: string): string => {
    const value = secrets[name]
    if (value === undefined) {
      throw new KiteError(
        `secret "${name}" is not set (the test gave: ${Object.keys(secrets).join(', ') || 'none'})`,
        {
          code: 'NOT_AVAILABLE',
        },
      )
    }
    return value
  }
  const mask = createSecretMasker(Object.values(secrets))
  const liveKv = (key: string): unknown => {
    const expiry = expiries.get(key)
    if (expiry !== undefined && expiry <= Date.now()) {
      kv.delete(key)
      expiries.delete(key)
    }
    return kv.get(key)
  }
  const pathOf = (uri: string): string => {
    if (!uri.startsWith('kite:///')) {
      throw new KiteError(`"${uri}" is not a kite:/// URI`, { code: 'NOT_AVAILABLE' })
    }
    const path = resolve(storageDir, uri.slice('kite:///'.length))
    if (!path.startsWith(storageDir + sep)) {
      throw new KiteError(`"${uri}" points outside internal storage`, { code: 'NOT_AVAILABLE' })
    }
    return path
  }
  const place = async (name: string): Promise<{ uri: string; path: string }> => {
    const uri = `${prefix}${randomUUID().slice(0, 8)}-${basename(name)}`
    const path = pathOf(uri)
    await mkdir(dirname(path), { recursive: true })
    return { uri, path }
  }
  const services: RunServices = {
    log: async (level, message) => {
      logs.push({ level, message: mask(message) })
    },
    render: async (template, vars) => engine.renderString(template, { ...variables, ...vars }),
    secret: async (name) => readSecret(name),
    kvGet: async (key) => liveKv(key),
    async kvSet(key, value, ttl) {
      kv.set(key, structuredClone(value))
      if (ttl) expiries.set(key, Date.now() + parseDuration(ttl))
      else expiries.delete(key)
    },
    async kvDelete(key) {
      expiries.delete(key)
      return kv.delete(key)
    },
    kvKeys: async (keyPrefix = '') =>
      [...kv.keys()].filter((key) => key.startsWith(keyPrefix) && liveKv(key) !== undefined).sort(),
    async storagePut(name, data) {
      const { uri, path } = await place(name)
      await writeFile(path, data)
      return uri
    },
    async storagePutFile(name, source) {
      const { uri, path } = await place(name)
      await copyFile(source, path)
      return uri
    },
    storageGet: async (uri) => new Uint8Array(await readFile(pathOf(uri))),
    async storageGetFile(uri, target) {
      const destination = target ?? join(workingDir, basename(pathOf(uri)))
      await copyFile(pathOf(uri), destination)
      return destination
    },
    metric: async (entry) => {
      metrics.push(entry)
    },
    stateGet: async (key) => state.get(key),
    stateSet: async (key, value) => {
      state.set(key, structuredClone(value))
    },
  }
  const variables = createRenderVariables({
    flow: { id: flowId, namespace },
    execution,
    inputs: options.inputs,
    vars: options.vars,
    outputs: options.outputs,
    trigger: options.trigger,
    task: { id: taskId, type },
    taskrun: { id: randomUUID(), value: options.taskrunValue },
    env: options.env,
    secret: readSecret,
    kv: (key) => liveKv(key),
  })
  // The one run context every host builds (secrets masked the runtime's way), over test services.
  const ctx: TriggerContext = createPluginRunContext(
    {
      execution,
      task: { id: taskId, type, version: options.version ?? '0.0.0-test' },
      workingDir,
      pluginConfig: options.pluginConfig ?? {},
      ...(options.trigger ? { trigger: options.trigger } : {}),
      services,
    },
    controller.signal,
  )
  return {
    ctx,
    logs,
    metrics,
    kv,
    state,
    storageDir,
    render: (value) => engine.renderDeep(value, variables),
    readStorage: async (uri) => readFile(pathOf(uri), 'utf8'),
    abort: (reason) => controller.abort(new KiteError(reason ?? 'aborted', { code: 'ABORTED' })),
    async cleanup() {
      leftovers.delete(root)
      await rm(root, { recursive: true, force: true })
    },
  }
}
