import { readdir, readFile } from 'node:fs/promises'
import { join, relative, resolve } from 'node:path'
import { createExpressionEngine } from '@kite/expressions'
import { parseDuration } from '@kite/sdk'
import { type InstanceConfig, type InstanceConfigInput, loadConfig, parseConfig } from './config.js'
import { isRuntimeError, messageOf, RuntimeError, type ValidationIssue } from './errors.js'
import {
  createEngine,
  type Engine,
  NODE_ROLES,
  type NodeRole,
  type RuntimeLogger,
  type SavedFlow,
  silentLogger,
} from './executor/engine.js'
import {
  createInputCipher,
  ENCRYPTION_KEY_ENV,
  encryptSecretInputs,
  type InputCipher,
} from './executor/input-encryption.js'
import { createEnvSecrets } from './executor/secrets.js'
import { parseFlow } from './flow/parse-flow.js'
import {
  type PendingFlow,
  type PendingFlows,
  waitsForPlugins,
  watchPendingFlows,
} from './flow/pending-flows.js'
import { type ValidatedFlow, validateFlow } from './flow/validate-flow.js'
import { createId } from './ids.js'
import { type ClusterPlugins, followClusterPlugins } from './plugins/cluster-plugins.js'
import { createInProcessHost } from './plugins/in-process-host.js'
import {
  createPluginCatalog,
  type InstalledPlugin,
  type MutablePluginCatalog,
} from './plugins/plugin-catalog.js'
import type { PluginHost } from './plugins/plugin-host.js'
import { createPluginResolver, type PluginResolver } from './plugins/plugin-resolver.js'
import { loadPluginDirectory } from './plugins/plugin-sources.js'
import { createPluginSystem, type PluginSystem } from './plugins/plugin-system.js'
import { checkPermissions } from './plugins/sandbox-permissions.js'
import { createWorkerHost } from './plugins/worker-host.js'
import { createScheduler, type Scheduler } from './scheduler/scheduler.js'
import { createSchedulerLease, type SchedulerLease } from './scheduler/scheduler-lease.js'
import { lockDataDir } from './storage/data-lock.js'
import { createInternalStorage, type InternalStorageService } from './storage/internal-storage.js'
import { createPostgresStore } from './storage/postgres-store.js'
import { createSqliteStore } from './storage/sqlite-store.js'
import type { Store } from './storage/store.js'

export interface RuntimeOptions {
  /** Where state lives: `kite.db` (SQLite), `storage/` (internal storage), `work/` (task dirs). */
  dataDir: string
  /** The instance configuration: an object, or the path of a `kite.yaml`. */
  config?: InstanceConfigInput | string
  /** Installed plugin versions from in-process definitions (see `definePluginVersion`). */
  plugins?: readonly InstalledPlugin[]
  /** Built local plugin directories (`--plugin DIR`). */
  pluginDirs?: readonly string[]
  /** Environment for `KITE_SECRET_*` and `KITE_ENV_*` (default: `process.env`). */
  env?: Record<string, string | undefined>
  logger?: RuntimeLogger
  /** Resume unfinished executions at once (default true). */
  recover?: boolean
  /**
   * Creates the host that runs plugin code. Default: the worker host (each version in worker
   * threads of its own; in-process definitions run in this thread).
   */
  createHost?: (catalog: MutablePluginCatalog) => PluginHost
  /** npm registry the plugin store installs from and follows (default `plugins.registry`). */
  registry?: string
  /** Idle time after which a plugin thread ends (default `plugins.idleTimeout`, 5 s). */
  pluginIdleMs?: number
  /**
   * The scheduler (triggers): `false` (or `start: false`) leaves it stopped until
   * `runtime.scheduler.start()`; `tickMs` is how often it evaluates (default 500).
   */
  scheduler?: false | { tickMs?: number; start?: boolean }
  /**
   * The roles this process plays in a cluster (SPEC 9): `api`, `executor`, `worker`,
   * `scheduler`. Unset, it plays them all on its own (`kite server local`). Set, the store must
   * be PostgreSQL shared by every node: executions are leased to executors, one scheduler is
   * active (a lease), and the installed plugin set is the cluster's.
   */
  roles?: readonly NodeRole[]
  /** How long the scheduler lease lasts unrenewed, in ms (default `scheduler.leaseTimeout`, 5 s). */
  schedulerLeaseMs?: number
}

/** A runtime without its HTTP API: what `kite flow run` and `createServer` build on. */
export interface Runtime {
  engine: Engine
  store: Store
  catalog: MutablePluginCatalog
  resolver: PluginResolver
  config: InstanceConfig
  /** Internal storage (`kite:///` files). */
  storage: InternalStorageService
  dataDir: string
  /** The plugin store, registry sync and namespace defaults. */
  plugins: PluginSystem
  /** The host running plugin code. */
  host: PluginHost
  /**
   * Evaluates the flows' triggers; started with the runtime unless `scheduler: false`. In a
   * cluster it serves webhooks and the trigger API; the lease's own scheduler evaluates.
   */
  scheduler: Scheduler
  /** This process's node id (its row in `nodes`). */
  nodeId: string
  /** The roles this process plays. */
  roles: readonly NodeRole[]
  /** In a cluster with the scheduler role: whether this node's scheduler is the active one. */
  schedulerActive(): boolean
  /**
   * Starts evaluating triggers if this process has the scheduler role: at once on its own, or
   * through the scheduler lease in a cluster (called by `createRuntime` unless told not to).
   */
  startScheduler(): Promise<void>
  /** Stops evaluating triggers (and gives the lease up). */
  stopScheduler(): Promise<void>
  /**
   * Saves every `*.yml`/`*.yaml` flow under a directory; throws listing every invalid file. With
   * a registry, a flow whose only problems are plugins not installed yet is saved once they are
   * (an empty data dir installs them from the registry): `pendingFlows()` names those files.
   */
  loadFlows(dir: string): Promise<SavedFlow[]>
  /** Flow files from `loadFlows` still waiting for their plugins. */
  pendingFlows(): string[]
  /** Stops executions without writing more (they resume on the next start) and closes the store. */
  close(): Promise<void>
}

/**
 * Creates a runtime over a data directory: the store, the plugin catalog (in-process definitions
 * and local directories), the resolver, the in-process host and the engine; then resumes the
 * executions a previous process left unfinished.
 *
 * @example
 * const runtime = await createRuntime({ dataDir: '.kite/data', pluginDirs: ['examples/plugins/greeting'] })
 * await runtime.engine.saveFlow(yaml)
 */
export async function createRuntime(options: RuntimeOptions): Promise<Runtime> {
  const dataDir = resolve(options.dataDir)
  const logger = options.logger ?? silentLogger
  const config =
    typeof options.config === 'string'
      ? await loadConfig(options.config)
      : parseConfig(options.config ?? {})
  const catalog = createPluginCatalog()
  for (const plugin of options.plugins ?? []) catalog.add(plugin)
  for (const dir of options.pluginDirs ?? []) {
    const plugin = await loadPluginDirectory(dir)
    catalog.add(plugin)
    logger.info(
      `plugin ${plugin.name}@${plugin.version} (${plugin.manifest.group}) loaded from ${plugin.origin}`,
    )
  }
  const resolver = createPluginResolver({ catalog, config })
  const clustered = options.roles !== undefined
  const roles = options.roles ?? NODE_ROLES
  if (clustered && roles.length === 0) {
    throw new RuntimeError('a node needs at least one role: api, executor, worker or scheduler', {
      code: 'CONFIG_INVALID',
    })
  }
  if (clustered && !config.store.url) {
    throw new RuntimeError(
      `the ${roles.join(', ')} role${roles.length === 1 ? '' : 's'} need${roles.length === 1 ? 's' : ''} a PostgreSQL store shared by every node: pass --store postgres://… (or store.url in kite.yaml), or run every role in one process with \`kite server local\``,
      { code: 'CONFIG_INVALID' },
    )
  }
  const nodeId = createId()
  const unlock = lockDataDir(dataDir)
  // Plugin code runs on every role but api: there, a version's first call need not wait for a
  // sandbox process (or thread) to start once one is installed or being installed.
  const runsPlugins = roles.some((role) => role !== 'api')
  let prepareHost: (() => void) | undefined
  const plugins = await createPluginSystem({
    dataDir,
    ...(options.registry ? { registry: options.registry } : {}),
    catalog,
    config,
    logger,
    onInstallStart: () => prepareHost?.(),
  }).catch((error) => {
    unlock()
    throw error
  })
  const host = options.createHost
    ? options.createHost(catalog)
    : createWorkerHost({
        catalog,
        fallback: createInProcessHost({ catalog }),
        maxWorkers: config.plugins.maxWorkers,
        callsPerWorker: config.plugins.callsPerWorker,
        idleMs: options.pluginIdleMs ?? parseDuration(config.plugins.idleTimeout),
        ...(config.plugins.isolation === 'sandbox'
          ? {
              sandbox: {
                workDir: join(dataDir, 'work'),
                permissionsOf: (plugin) =>
                  checkPermissions({
                    name: plugin.name,
                    version: plugin.version,
                    group: plugin.manifest.group,
                    asked: plugin.manifest.permissions,
                    grants: config.plugins.permissions,
                    configurations: config.plugins.configurations,
                  }),
                env: options.env ?? process.env,
                logger,
              },
            }
          : {}),
      })
  if (runsPlugins) prepareHost = () => host.prepare?.()
  const rawStore = await (config.store.url
    ? createPostgresStore({ url: config.store.url, maxConnections: config.store.maxConnections })
    : createSqliteStore({ file: join(dataDir, 'kite.db') })
  ).catch((error) => {
    unlock()
    throw error
  })
  const encryptionKey =
    config.secrets.encryptionKey ?? (options.env ?? process.env)[ENCRYPTION_KEY_ENV]
  let cipher: InputCipher | undefined
  try {
    cipher = encryptionKey ? createInputCipher(encryptionKey) : undefined
  } catch (error) {
    unlock()
    await rawStore.close()
    throw error
  }
  const store = cipher ? encryptSecretInputs(rawStore, cipher) : rawStore
  let clusterPlugins: ClusterPlugins | undefined
  if (clustered) {
    try {
      clusterPlugins = await followClusterPlugins({
        store,
        plugins: plugins.store,
        catalog,
        logger,
      })
    } catch (error) {
      await store.close()
      unlock()
      throw error
    }
    plugins.store = clusterPlugins.pluginStore
  }
  const heartbeatTimeoutMs = parseDuration(config.worker.heartbeatTimeout)
  const storage = createInternalStorage(join(dataDir, 'storage'))
  let scheduler: Scheduler | undefined
  // What the engine and every scheduler this process makes share.
  const services = {
    store,
    catalog,
    resolver,
    host,
    storage,
    secrets: createEnvSecrets(options.env ?? process.env),
    workDir: join(dataDir, 'work'),
    env: options.env ?? process.env,
    logger,
  }
  const engine = createEngine({
    ...services,
    slots: config.worker.slots,
    heartbeatTimeoutMs,
    maxResubmissions: config.worker.maxResubmissions,
    ...(cipher ? { inputCipher: cipher } : {}),
    beforeSave: (flow) => scheduler?.checkFlow(flow) ?? Promise.resolve(),
    nodeId,
    roles,
    ...(clustered ? { cluster: {} } : {}),
  })
  const makeScheduler = () =>
    createScheduler({
      ...services,
      engine,
      ...(clustered ? { cluster: true } : {}),
      ...(options.scheduler && options.scheduler.tickMs !== undefined
        ? { tickMs: options.scheduler.tickMs }
        : {}),
    })
  scheduler = makeScheduler()
  if (options.recover !== false) await engine.recover()
  let lease: SchedulerLease | undefined
  const startScheduler = async () => {
    if (!roles.includes('scheduler')) return
    if (!clustered) return scheduler?.start()
    lease ??= createSchedulerLease({
      store,
      nodeId,
      ttlMs: options.schedulerLeaseMs ?? parseDuration(config.scheduler.leaseTimeout),
      createScheduler: makeScheduler,
      logger,
    })
  }
  const stopScheduler = async () => {
    await lease?.close()
    await scheduler?.close()
  }
  if (options.recover !== false && schedulerStarts(options)) await startScheduler()
  // Last, so it does not compete with the start itself; a runtime without bundles starts nothing.
  if (catalog.list().some((plugin) => plugin.code.kind === 'module')) prepareHost?.()
  let closed = false
  let pending: PendingFlows | undefined
  return {
    engine,
    store,
    catalog,
    resolver,
    config,
    storage,
    dataDir,
    plugins,
    host,
    scheduler,
    nodeId,
    roles,
    schedulerActive: () => (lease ? lease.active() : roles.includes('scheduler')),
    startScheduler,
    stopScheduler,
    async loadFlows(dir) {
      const waiting: PendingFlow[] = []
      const saved = await loadFlowsDirectory(engine, dir, plugins.sync ? waiting : undefined)
      if (waiting.length > 0) {
        pending?.close()
        pending = watchPendingFlows({ engine, catalog, logger, flows: waiting })
      }
      return saved
    },
    pendingFlows: () => pending?.names() ?? [],
    async close() {
      if (closed) return
      closed = true
      pending?.close()
      await stopScheduler()
      await clusterPlugins?.close()
      await plugins.close()
      await engine.close()
      await host.close()
      await store.close()
      unlock()
    },
  }
}

/** Whether the runtime starts its scheduler by itself (`scheduler: false` or `start: false` say no). */
export function schedulerStarts(options: Pick<RuntimeOptions, 'scheduler'>): boolean {
  return options.scheduler !== false && options.scheduler?.start !== false
}

/** Validates flows against installed plugins without a data directory (`kite flow validate`). */
export interface FlowValidator {
  catalog: MutablePluginCatalog
  /** Parses and validates; throws a `FLOW_INVALID` RuntimeError listing every problem. */
  validate(source: string): ValidatedFlow
}

/** Builds a validator over in-process plugins and local plugin directories. */
export async function createFlowValidator(
  options: Pick<RuntimeOptions, 'config' | 'plugins' | 'pluginDirs'> = {},
): Promise<FlowValidator> {
  const config =
    typeof options.config === 'string'
      ? await loadConfig(options.config)
      : parseConfig(options.config ?? {})
  const catalog = createPluginCatalog(options.plugins ?? [])
  for (const dir of options.pluginDirs ?? []) catalog.add(await loadPluginDirectory(dir))
  const resolver = createPluginResolver({ catalog, config })
  const expressions = createExpressionEngine()
  return {
    catalog,
    validate: (source) => validateFlow(parseFlow(source), { resolver, expressions }),
  }
}

/** Saves every flow file under `dir` (recursively); all invalid files are reported together. */
export async function loadFlowsDirectory(
  engine: Engine,
  dir: string,
  /** When given, flows that only lack installed plugins go here instead of failing the load. */
  waitingForPlugins?: PendingFlow[],
): Promise<SavedFlow[]> {
  const root = resolve(dir)
  let files: string[]
  try {
    files = (await readdir(root, { recursive: true }))
      .filter((file) => /\.ya?ml$/i.test(file))
      .sort()
  } catch (error) {
    throw new RuntimeError(`cannot read the flows directory ${root}: ${messageOf(error)}`, {
      code: 'FLOW_INVALID',
      kind: 'operational',
      cause: error,
    })
  }
  const saved: SavedFlow[] = []
  const issues: ValidationIssue[] = []
  for (const file of files) {
    const path = join(root, file)
    const name = relative(process.cwd(), path)
    let source = ''
    try {
      source = await readFile(path, 'utf8')
      saved.push(await engine.saveFlow(source))
    } catch (error) {
      if (waitingForPlugins && waitsForPlugins(error)) {
        waitingForPlugins.push({ name, source, issues: (error as RuntimeError).issues })
        continue
      }
      if (!isRuntimeError(error) || error.issues.length === 0) {
        issues.push({ path: name, message: messageOf(error) })
        continue
      }
      for (const issue of error.issues) {
        issues.push({ ...issue, path: issue.path ? `${name}: ${issue.path}` : name })
      }
    }
  }
  if (issues.length > 0) {
    throw new RuntimeError(
      `the flows of ${root} are invalid: ${issues.length} problem${issues.length === 1 ? '' : 's'}`,
      { code: 'FLOW_INVALID', issues },
    )
  }
  return saved
}
