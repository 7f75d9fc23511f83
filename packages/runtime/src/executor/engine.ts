import { createExpressionEngine, type ExpressionEngine } from '@kite/expressions'
import { createRenderVariables } from '@kite/sdk/host'
import { isRuntimeError, LeaseLostError, messageOf, RuntimeError } from '../errors.js'
import { allTasks, type Flow, type PauseTask } from '../flow/flow-model.js'
import { parseFlow } from '../flow/parse-flow.js'
import { pinsOf, type ValidatedFlow, validateFlow } from '../flow/validate-flow.js'
import { createId } from '../ids.js'
import { addToSet, removeFromSet } from '../keyed-sets.js'
import type { PluginCatalog } from '../plugins/plugin-catalog.js'
import type { PluginHost } from '../plugins/plugin-host.js'
import type { PluginResolver } from '../plugins/plugin-resolver.js'
import { executionPrefix, type InternalStorageService } from '../storage/internal-storage.js'
import type { Store, StoredFlow } from '../storage/store.js'
import {
  type Execution,
  type ExecutionParent,
  type ExecutionState,
  type ExecutionTrigger,
  newState,
  TERMINAL_EXECUTION_STATES,
  transition,
} from './execution-model.js'
import {
  type ChildStart,
  type EngineEvent,
  ExecutionRunner,
  type RunnerDeps,
} from './execution-runner.js'
import { checkSecretInputs, type InputCipher } from './input-encryption.js'
import { resolveInputs } from './inputs.js'
import { prepareReplay, prepareRestart } from './restart.js'
import type { SecretProvider } from './secrets.js'
import { createTaskDispatch, nodeAlive } from './task-dispatch.js'
import { createWorker } from './worker.js'

/** Where the runtime reports about itself (not execution logs): the CLI prints it. */
export interface RuntimeLogger {
  debug(message: string): void
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

/** A logger that drops everything. */
export const silentLogger: RuntimeLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
}

export interface EngineOptions {
  store: Store
  catalog: PluginCatalog
  resolver: PluginResolver
  host: PluginHost
  storage: InternalStorageService
  secrets: SecretProvider
  /** Directory for task working directories. */
  workDir: string
  /** Environment; `KITE_ENV_*` variables become `{{ envs.* }}`. */
  env?: Record<string, string | undefined>
  expressions?: ExpressionEngine
  logger?: RuntimeLogger
  /** Task runs this process's worker runs at once (`worker.slots`, default 32); more wait queued. */
  slots?: number
  /** A node whose heartbeat is older than this is gone (ms, default 30 s). */
  heartbeatTimeoutMs?: number
  /** Resubmissions of a task run after lost workers before it fails (default 3). */
  maxResubmissions?: number
  /** This process's id, recorded on the attempts it runs (a new one by default). */
  nodeId?: string
  /**
   * Encrypts SECRET input values at rest (the store given is already wrapped with it); without
   * one, flows with SECRET inputs are refused at save.
   */
  inputCipher?: InputCipher
  /** Checks a validated flow against the other saved flows (webhook keys) before it is saved. */
  beforeSave?: (flow: Flow) => Promise<void>
  /**
   * The roles of this process (SPEC 9), default all. Without `executor` executions started here
   * are only committed (an executor takes them); without `worker` nothing is claimed here.
   */
  roles?: readonly NodeRole[]
  /**
   * Several processes share the store: each execution is leased to one executor (it holds it
   * while its node heartbeats), and executions no live executor holds — new ones, a dead
   * executor's — are taken over every `takeoverMs` (default 250 ms).
   */
  cluster?: { takeoverMs?: number; queuePollMs?: number }
}

/** What one runtime process does (SPEC 9): `kite server local` plays them all. */
export type NodeRole = 'api' | 'executor' | 'worker' | 'scheduler'
export const NODE_ROLES: readonly NodeRole[] = ['api', 'executor', 'worker', 'scheduler']

export interface StartRequest {
  namespace: string
  flowId: string
  /** A revision; the latest by default. */
  revision?: number
  inputs?: Record<string, unknown>
  labels?: Record<string, string>
  trigger?: ExecutionTrigger
  parent?: ExecutionParent
  /** A pre-chosen id (subflows record their child's id before creating it). */
  id?: string
}

/** A saved flow, with the version every plugin task resolved to. */
export interface SavedFlow {
  flow: Flow
  revision: number
  /** False when the source was identical to the latest revision's. */
  changed: boolean
  created: boolean
  validated: ValidatedFlow
}

export interface ReplayOptions {
  /** The task run to start again from (the whole flow by default). */
  taskRunId?: string
  /** The flow revision to run (the original's by default). */
  revision?: number
  /** Keep the original's plugin versions instead of resolving them again. */
  keepPlugins?: boolean
}

export interface WaitOptions {
  /** Also return when the execution pauses (it cannot end by itself then). */
  untilPaused?: boolean
}

/**
 * The execution engine: saves flows (validated against the resolved plugin versions), starts
 * executions, runs them write-through to the store, resumes unfinished ones after a restart,
 * kills and resumes on request, and tells subscribers about every committed change.
 */
export interface Engine {
  readonly expressions: ExpressionEngine
  /** Parses and validates a flow without saving it. */
  validateSource(source: string): ValidatedFlow
  /**
   * Saves a flow. `expect` makes the flow's namespace and id match a URL's; `create` refuses a
   * flow that exists already (`FLOW_EXISTS`).
   */
  saveFlow(
    source: string,
    options?: { expect?: { namespace: string; id: string }; create?: boolean },
  ): Promise<SavedFlow>
  /** A saved flow (parsed), the latest revision unless one is given. */
  getFlow(namespace: string, id: string, revision?: number): Promise<StoredFlow | undefined>
  /**
   * The latest revision as `start` finds it: on its own, cached until saved or deleted through
   * this engine; in a cluster, read from the store.
   */
  latestFlow(namespace: string, id: string): Promise<StoredFlow | undefined>
  deleteFlow(namespace: string, id: string): Promise<boolean>
  /**
   * Creates an execution and starts running it; returns its CREATED state once it is stored
   * (standalone, by the runner's first commit, which holds its first task run; in a cluster, as
   * CREATED, leased to this executor or left for one).
   */
  start(request: StartRequest): Promise<Execution>
  getExecution(id: string): Promise<Execution | undefined>
  /** Resolves when the execution is in a final state (or paused, if asked). */
  waitFor(id: string, options?: WaitOptions): Promise<Execution>
  kill(id: string): Promise<Execution>
  /** Resumes a paused execution with its Pause's `onResume` inputs (`INPUTS_INVALID` when wrong). */
  resume(id: string, inputs?: Record<string, unknown>): Promise<Execution>
  /**
   * Runs a FAILED or KILLED execution again from its failed task runs, on the same flow revision
   * and plugin versions, keeping the successful ones (`EXECUTION_STATE` otherwise).
   */
  restart(id: string): Promise<Execution>
  /**
   * A new execution that runs an ended one again from one of its task runs (the whole flow when
   * none is given) with the earlier task runs' outputs, on its revision unless another is given;
   * plugin versions are resolved again unless `keepPlugins` keeps the original's lock.
   */
  replay(id: string, options?: ReplayOptions): Promise<Execution>
  /** Resumes every execution the store holds as unfinished; returns their ids. */
  recover(): Promise<string[]>
  /** Commits the log lines an execution still holds in memory. */
  flushLogs(executionId: string): Promise<void>
  /** Listens to one execution's events; returns the unsubscribe function. */
  subscribe(executionId: string, listener: (event: EngineEvent) => void): () => void
  /** Listens to the events of every execution (the scheduler's flow triggers); returns the unsubscribe function. */
  subscribeAll(listener: (event: EngineEvent) => void): () => void
  /** Stops every runner without writing more: unfinished executions resume on the next start. */
  close(): Promise<void>
}

const VALIDATION_CACHE_SIZE = 500
/** How often, in a cluster, the store is read for work, results and ends other nodes wrote. */
const CLUSTER_POLL_MS = 250
/** Executions one look of the takeover loop takes at most. */
const TAKEOVER_BATCH = 100
/**
 * How long a kill or resume recorded for another executor waits to see it carried out before it
 * answers with the state as stored (the command stays recorded: a takeover carries it out).
 */
const COMMAND_ANSWER_MS = 2000

export function createEngine(options: EngineOptions): Engine {
  const { store, catalog, resolver, host, storage, secrets } = options
  const logger = options.logger ?? silentLogger
  const expressions = options.expressions ?? createExpressionEngine()
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (key.startsWith('KITE_ENV_') && value !== undefined) env[key] = value
  }
  const runners = new Map<string, ExecutionRunner>()
  const nodeId = options.nodeId ?? createId()
  const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 30_000
  const roles = options.roles ?? NODE_ROLES
  const executes = roles.includes('executor')
  const cluster = options.cluster
  const dispatch = createTaskDispatch({
    store,
    nodeId,
    heartbeatTimeoutMs,
    logger,
    ...(cluster ? { pollMs: cluster.queuePollMs ?? CLUSTER_POLL_MS } : {}),
  })
  const listeners = new Map<string, Set<(event: EngineEvent) => void>>()
  const allListeners = new Set<(event: EngineEvent) => void>()
  const validations = new Map<string, { generation: number; validated: ValidatedFlow }>()
  // The latest revision of each flow this engine started or saved: this process is the only
  // writer of its data directory, and every save and delete goes through the engine.
  const latestFlows = new Map<string, StoredFlow>()
  const flowKey = (namespace: string, id: string) => `${namespace}\u0000${id}`
  const latestFlow = async (namespace: string, id: string) => {
    // In a cluster other nodes save flows too: the store is the only current copy.
    if (cluster) return store.getFlow(namespace, id)
    const key = flowKey(namespace, id)
    let stored = latestFlows.get(key)
    if (!stored) {
      stored = await store.getFlow(namespace, id)
      if (stored) latestFlows.set(key, stored)
    }
    return stored
  }
  let closing = false

  const validate = (flow: Flow, pins?: ReturnType<typeof pinsOf>) =>
    validateFlow(flow, { resolver, expressions, ...(pins ? { pins } : {}) })

  /** Starting an execution validates again, cached per revision until the catalog changes. */
  const validatedRevision = (stored: StoredFlow): ValidatedFlow => {
    const key = `${stored.namespace}\u0000${stored.id}\u0000${stored.revision}`
    const cached = validations.get(key)
    if (cached && cached.generation === catalog.generation) return cached.validated
    const validated = validate(parseFlow(stored.source))
    if (validations.size >= VALIDATION_CACHE_SIZE) {
      const oldest = validations.keys().next().value
      if (oldest !== undefined) validations.delete(oldest)
    }
    validations.set(key, { generation: catalog.generation, validated })
    return validated
  }

  const notify = (event: EngineEvent) => {
    const set = listeners.get(event.executionId)
    if (!set && allListeners.size === 0) return
    for (const listener of [...(set ?? []), ...allListeners]) {
      try {
        listener(event)
      } catch (error) {
        logger.error(`an execution listener failed: ${messageOf(error)}`)
      }
    }
  }

  const worker = createWorker({
    store,
    host,
    storage,
    secrets,
    expressions,
    env,
    nodeId,
    roles: [...roles],
    claims: roles.includes('worker'),
    plugins: () => catalog.list().map((plugin) => `${plugin.name}@${plugin.version}`),
    slots: options.slots ?? 32,
    // Other processes queue work here: nothing wakes this worker but its own looks.
    ...(cluster ? { pollMs: cluster.queuePollMs ?? CLUSTER_POLL_MS } : {}),
    heartbeatMs: Math.max(100, Math.floor(heartbeatTimeoutMs / 3)),
    forgetNodesAfterMs: Math.max(3_600_000, heartbeatTimeoutMs * 10),
    notify,
    onResult: (id, result, logs) => dispatch.deliver(id, result, logs),
    logger,
  })
  dispatch.attach(worker)
  let workerStarted: Promise<void> | undefined
  /** The worker starts with the first execution or after recovery, whichever comes first. */
  const startWorker = () => {
    workerStarted ??= worker.start().catch((error: unknown) => {
      logger.error(`the worker could not start: ${messageOf(error)}`)
    })
    return workerStarted
  }

  const deps: RunnerDeps = {
    store,
    resolver,
    storage,
    secrets,
    expressions,
    env,
    workDir: options.workDir,
    queue: dispatch,
    maxResubmissions: options.maxResubmissions ?? 3,
    nodeId,
    fenced: cluster !== undefined,
    get closing() {
      return closing
    },
    startChild: async (request: ChildStart) => {
      await engine.start(request)
    },
    waitForEnd: (id) => engine.waitFor(id),
    kill: (id) => engine.kill(id),
    notify,
    onInternalError(error, executionId) {
      logger.error(
        `execution ${executionId} failed inside the runtime: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      )
    },
  }

  /**
   * Registers a runner for the execution; `begin` starts its walk. With `creates`, the runner's
   * first commit creates the execution (see `start`).
   */
  const prepare = (
    execution: Execution,
    validated: ValidatedFlow,
    recovering: boolean,
    creates = false,
  ) => {
    if (!recovering) startWorker()
    const runner = new ExecutionRunner(deps, execution, validated, { recovering, creates })
    runners.set(execution.id, runner)
    runner.done.finally(() => {
      if (runners.get(execution.id) === runner) runners.delete(execution.id)
    })
    return runner
  }
  const begin = (runner: ExecutionRunner) => {
    runner.start().catch((error: unknown) => deps.onInternalError(error, runner.execution.id))
  }
  const launch = (execution: Execution, validated: ValidatedFlow, recovering: boolean) =>
    begin(prepare(execution, validated, recovering))

  const snapshot = (execution: Execution): Execution => structuredClone(execution)
  /** Executions whose restart is being committed (a second restart meanwhile is refused). */
  const restarting = new Set<string>()
  /** The flow revision an execution ran, validated with the plugin versions it locked. */
  const revalidate = async (execution: Execution, prefix: string): Promise<ValidatedFlow> => {
    // Executors take over many executions of one revision with the same locked versions.
    const key = `${execution.namespace}\u0000${execution.flowId}\u0000${execution.flowRevision}\u0000${JSON.stringify(pinsOf(execution.plugins))}`
    const cached = lockedValidations.get(key)
    if (cached && cached.generation === catalog.generation) return cached.validated
    const generation = catalog.generation
    const validated = await validateLocked(execution, prefix)
    if (lockedValidations.size >= VALIDATION_CACHE_SIZE) {
      const oldest = lockedValidations.keys().next().value
      if (oldest !== undefined) lockedValidations.delete(oldest)
    }
    lockedValidations.set(key, { generation, validated })
    return validated
  }
  const lockedValidations = new Map<string, { generation: number; validated: ValidatedFlow }>()
  const validateLocked = async (execution: Execution, prefix: string): Promise<ValidatedFlow> => {
    const stored = await store.getFlow(
      execution.namespace,
      execution.flowId,
      execution.flowRevision,
    )
    if (!stored) {
      throw new RuntimeError(
        `${prefix}flow ${execution.namespace}/${execution.flowId} revision ${execution.flowRevision} is gone`,
        { code: 'FLOW_NOT_FOUND' },
      )
    }
    return validate(parseFlow(stored.source), pinsOf(execution.plugins))
  }

  /** Runs executions from their committed state (a restart, or a dead executor's lease). */
  const resumeAll = async (unfinished: readonly Execution[]): Promise<string[]> => {
    // Every runner is registered before any walks: a parent found KILLING kills its subflow
    // child through the child's runner, which must exist by then (`endKilled`).
    const prepared: ExecutionRunner[] = []
    for (const execution of unfinished) {
      if (runners.has(execution.id)) continue
      let validated: ValidatedFlow
      try {
        validated = await revalidate(execution, '')
      } catch (error) {
        const message =
          isRuntimeError(error) && error.issues.length > 0
            ? error.issues.map((issue) => issue.message).join('; ')
            : messageOf(error)
        logger.error(`execution ${execution.id} cannot resume: ${message}`)
        execution.error = `cannot resume after a restart: ${message}`
        transition(execution.state, 'FAILED', new Date().toISOString(), TERMINAL_EXECUTION_STATES)
        const { taskRunList: _runs, ...summary } = execution
        await store.commit({ execution: summary })
        continue
      }
      prepared.push(prepare(execution, validated, true))
    }
    for (const runner of prepared) begin(runner)
    if (prepared.length > 0) logger.info(`resumed ${prepared.length} unfinished execution(s)`)
    return prepared.map((runner) => runner.execution.id)
  }

  let takeoverTimer: NodeJS.Timeout | undefined
  let stopListeningCreated: (() => void) | undefined
  let takingOver: Promise<string[]> | undefined
  /** Takes the executions no live executor holds (new ones, a dead executor's) and runs them. */
  const takeOver = (): Promise<string[]> => {
    takingOver ??= (async () => {
      const live = (await store.listNodes())
        .filter(
          (node) =>
            node.id === nodeId ||
            (node.roles.includes('executor') && nodeAlive(node, heartbeatTimeoutMs)),
        )
        .map((node) => node.id)
      const ids = await store.claimExecutions(nodeId, live, TAKEOVER_BATCH)
      const executions: Execution[] = []
      for (const id of ids) {
        if (runners.has(id)) continue
        const execution = await store.getExecution(id)
        if (execution) executions.push(execution)
      }
      return resumeAll(executions)
    })()
      .catch((error: unknown) => {
        if (!closing) logger.warn(`could not take over executions: ${messageOf(error)}`)
        return []
      })
      .finally(() => {
        takingOver = undefined
      })
    return takingOver
  }

  const shuttingDown = () =>
    new RuntimeError('the runtime is shutting down', {
      code: 'EXECUTION_STATE',
      kind: 'operational',
    })
  /** Every `waitFor` still waiting, to release at shutdown. */
  const waiting = new Set<() => void>()
  const notFound = (id: string) =>
    new RuntimeError(`execution "${id}" not found`, { code: 'EXECUTION_NOT_FOUND' })
  const notKillable = (id: string, state: ExecutionState) =>
    new RuntimeError(`execution ${id} cannot be killed: it is ${state}`, {
      code: 'EXECUTION_STATE',
    })
  const notPaused = (id: string, state: ExecutionState) =>
    new RuntimeError(`execution ${id} is not paused (it is ${state})`, { code: 'EXECUTION_STATE' })

  let stopListeningCommands: (() => void) | undefined
  let commanding: Promise<void> | undefined
  /**
   * Carries out the kills and resumes other nodes recorded for the executions this executor
   * holds, as if they had been asked here. A command of an execution taken over but not running
   * here yet waits for the next look; one whose execution ended or is gone is moot, and any
   * executor drops it (its holder may never look again).
   */
  const carryOutCommands = (): Promise<void> => {
    commanding ??= (async () => {
      const handled: number[] = []
      for (const command of await store.listCommands(nodeId)) {
        const runner = runners.get(command.executionId)
        if (!runner) {
          const state = command.executionState
          if (state === undefined || TERMINAL_EXECUTION_STATES.has(state)) handled.push(command.seq)
          continue
        }
        if (command.unreadable !== undefined) {
          logger.warn(
            `a command for execution ${command.executionId} is dropped: ${command.unreadable}`,
          )
          handled.push(command.seq)
          continue
        }
        try {
          if (command.kind === 'kill') {
            await runner.kill()
          } else if (runner.pauses.size > 0) {
            await runner.resume(command.inputs ?? {})
          } else if (runner.committedState === 'PAUSED') {
            // Taken over: its walk has not reached the pause yet.
            continue
          } else {
            logger.warn(
              `a resume of execution ${command.executionId} is dropped: it is ${runner.committedState}`,
            )
          }
        } catch (error) {
          // Another executor holds it now: the command is its to carry out.
          if (error instanceof LeaseLostError) continue
          logger.warn(
            `the ${command.kind} of execution ${command.executionId} failed: ${messageOf(error)}`,
          )
        }
        handled.push(command.seq)
      }
      await store.deleteCommands(handled)
    })()
      .catch((error: unknown) => {
        if (!closing) logger.warn(`could not carry out commands: ${messageOf(error)}`)
      })
      .finally(() => {
        commanding = undefined
      })
    return commanding
  }

  /** The execution once `wanted` holds of its state, or as stored after `COMMAND_ANSWER_MS`. */
  const commandAnswer = async (
    id: string,
    wanted: (state: ExecutionState) => boolean,
  ): Promise<Execution> => {
    const deadline = Date.now() + COMMAND_ANSWER_MS
    for (;;) {
      const execution = await store.getExecution(id)
      if (!execution) throw notFound(id)
      if (wanted(execution.state.current) || Date.now() >= deadline) return execution
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }

  /**
   * Checks a resume's `onResume` inputs against every paused Pause of the execution (422 before
   * anything is recorded). Defaults are rendered by the executor that resumes: an input with a
   * default is not checked here unless given.
   */
  const checkResumeInputs = async (execution: Execution, given: Record<string, unknown>) => {
    const validated = await revalidate(execution, `execution ${execution.id} cannot resume: `)
    const paused = new Set(
      execution.taskRunList
        .filter((run) => run.state.current === 'PAUSED')
        .map((run) => run.taskId),
    )
    const pauses = allTasks(validated.flow).filter(
      (task): task is PauseTask => task.kind === 'pause' && paused.has(task.id),
    )
    for (const task of pauses) {
      const declared = (task.onResume ?? []).map(({ defaults, ...input }) =>
        defaults === undefined ? input : { ...input, required: false },
      )
      await resolveInputs(declared, given, {
        renderDefault: (value) => value,
        storeFile: async (inputId) => `kite:///${inputId}`,
      })
    }
  }

  const engine: Engine = {
    expressions,

    validateSource(source) {
      return validate(parseFlow(source))
    },

    async saveFlow(source, saveOptions = {}) {
      const flow = parseFlow(source)
      const { expect } = saveOptions
      if (expect && (expect.namespace !== flow.namespace || expect.id !== flow.id)) {
        throw new RuntimeError(
          `the flow is ${flow.namespace}/${flow.id} but the URL names ${expect.namespace}/${expect.id}`,
          {
            code: 'FLOW_INVALID',
            issues: [
              {
                path: expect.namespace !== flow.namespace ? 'namespace' : 'id',
                message: `must be "${expect.namespace !== flow.namespace ? expect.namespace : expect.id}" to match the URL`,
              },
            ],
          },
        )
      }
      const validated = validate(flow)
      checkSecretInputs(flow, options.inputCipher)
      await options.beforeSave?.(flow)
      if (saveOptions.create && (await store.getFlow(flow.namespace, flow.id))) {
        throw new RuntimeError(
          `flow ${flow.namespace}/${flow.id} already exists; update it with PUT /api/v1/flows/${flow.namespace}/${flow.id}`,
          { code: 'FLOW_EXISTS' },
        )
      }
      const saved = await store.saveFlow({ namespace: flow.namespace, id: flow.id, source })
      latestFlows.delete(flowKey(flow.namespace, flow.id))
      validations.set(`${flow.namespace}\u0000${flow.id}\u0000${saved.revision}`, {
        generation: catalog.generation,
        validated,
      })
      return { flow, ...saved, validated }
    },

    getFlow: (namespace, id, revision) => store.getFlow(namespace, id, revision),

    latestFlow,

    deleteFlow: (namespace, id) => {
      latestFlows.delete(flowKey(namespace, id))
      return store.deleteFlow(namespace, id)
    },

    async start(request) {
      if (closing) throw shuttingDown()
      const stored =
        request.revision === undefined
          ? await latestFlow(request.namespace, request.flowId)
          : await store.getFlow(request.namespace, request.flowId, request.revision)
      if (!stored) {
        throw new RuntimeError(
          `flow ${request.namespace}/${request.flowId}${request.revision === undefined ? '' : ` revision ${request.revision}`} not found`,
          { code: 'FLOW_NOT_FOUND' },
        )
      }
      const validated = validatedRevision(stored)
      const { flow } = validated
      if (flow.disabled) {
        throw new RuntimeError(`flow ${flow.namespace}/${flow.id} is disabled`, {
          code: 'FLOW_DISABLED',
        })
      }
      const id = request.id ?? createId()
      const date = new Date().toISOString()
      const baseVariables = createRenderVariables({
        flow: { id: flow.id, namespace: flow.namespace, revision: stored.revision },
        execution: {
          id,
          namespace: flow.namespace,
          flowId: flow.id,
          labels: flow.labels,
          startDate: date,
        },
        vars: flow.variables,
        env,
        secret: (name) => secrets.get(name),
      })
      const inputs = await resolveInputs(flow.inputs, request.inputs ?? {}, {
        renderDefault: (value) => expressions.renderDeep(value, baseVariables),
        storeFile: (inputId, name, content) =>
          storage.put(
            `${executionPrefix(flow.namespace, flow.id, id)}/inputs/${inputId}`,
            name,
            content,
          ),
      })
      const secretInputs = flow.inputs
        .filter((input) => input.type === 'SECRET')
        .map((input) => input.id)
      const execution: Execution = {
        id,
        namespace: flow.namespace,
        flowId: flow.id,
        flowRevision: stored.revision,
        state: newState('CREATED', date),
        labels: { ...flow.labels, ...request.labels },
        inputs,
        plugins: validated.plugins,
        taskRunList: [],
        ...(request.trigger ? { trigger: request.trigger } : {}),
        ...(request.parent ? { parent: request.parent } : {}),
        ...(secretInputs.length > 0 ? { secretInputs } : {}),
      }
      // The runner changes its own copy: the caller gets the CREATED state.
      const created: Execution = {
        ...execution,
        state: { ...execution.state, histories: [...execution.state.histories] },
        taskRunList: [],
      }
      if (executes && !cluster && !runners.has(id)) {
        // The runner's first commit (RUNNING, its first task run) creates the execution, only
        // if its id is free: one transaction instead of two, and nothing acts before it is
        // written. Answered once it is.
        const runner = prepare(execution, validated, false, true)
        begin(runner)
        try {
          await runner.created
        } catch (error) {
          // Not created (its id is taken, say): forgotten now, so that waiting for that id finds
          // the execution that holds it, not this runner.
          if (runners.get(id) === runner) runners.delete(id)
          throw error
        }
        return created
      }
      const { taskRunList: _runs, ...summary } = execution
      // In a cluster the execution is leased to this executor as it is created, or left for one
      // (every runner commit is fenced by that lease, so the row must exist first).
      await store.commit({
        execution: summary,
        create: true,
        ...(cluster ? { executorId: executes ? nodeId : null } : {}),
      })
      if (executes) launch(execution, validated, false)
      else startWorker()
      return created
    },

    async getExecution(id) {
      return store.getExecution(id)
    },

    waitFor(id, waitOptions = {}) {
      return new Promise<Execution>((resolve, reject) => {
        let settled = false
        let timer: NodeJS.Timeout | undefined
        // A shutdown ends the runners without their final state: nobody waits for it.
        const cancel = () => {
          if (settled) return
          settled = true
          unsubscribe()
          clearInterval(timer)
          reject(shuttingDown())
        }
        waiting.add(cancel)
        const finish = () => {
          if (settled) return
          settled = true
          waiting.delete(cancel)
          unsubscribe()
          const runner = runners.get(id)
          if (runner) {
            // What the store holds now, without reading it back: a runner that committed its
            // final state changes its execution no more, so that needs no copy.
            resolve(
              TERMINAL_EXECUTION_STATES.has(runner.committedState)
                ? runner.execution
                : snapshot(runner.execution),
            )
            return
          }
          store.getExecution(id).then((execution) => {
            if (execution) resolve(execution)
            else reject(notFound(id))
          }, reject)
        }
        const wanted = (state: string) =>
          TERMINAL_EXECUTION_STATES.has(state as Execution['state']['current']) ||
          (waitOptions.untilPaused === true && state === 'PAUSED')
        const unsubscribe = engine.subscribe(id, (event) => {
          if (event.type === 'state' && wanted(event.state)) finish()
        })
        const runner = runners.get(id)
        if (runner) {
          if (wanted(runner.committedState)) finish()
          return
        }
        const look = () =>
          store.getExecution(id).then((execution) => {
            if (settled) return
            if (!execution) {
              settled = true
              waiting.delete(cancel)
              unsubscribe()
              clearInterval(timer)
              reject(notFound(id))
            } else if (wanted(execution.state.current)) {
              clearInterval(timer)
              finish()
            }
          })
        look().catch(reject)
        // Advanced by another executor (a cluster): its changes are seen in the store.
        if (cluster) {
          timer = setInterval(() => {
            if (settled || closing) clearInterval(timer)
            else look().catch(() => {})
          }, cluster.queuePollMs ?? CLUSTER_POLL_MS)
          timer.unref()
        }
      })
    },

    async kill(id) {
      const runner = runners.get(id)
      if (!runner) {
        const execution = await store.getExecution(id)
        if (!execution) throw notFound(id)
        const state = execution.state.current
        if (!cluster || TERMINAL_EXECUTION_STATES.has(state)) throw notKillable(id, state)
        // Held by another executor (or none yet): it carries the kill out.
        await store.recordCommand({ executionId: id, kind: 'kill' })
        return commandAnswer(id, (now) => now === 'KILLING' || TERMINAL_EXECUTION_STATES.has(now))
      }
      if (TERMINAL_EXECUTION_STATES.has(runner.committedState)) {
        throw notKillable(id, runner.committedState)
      }
      await runner.kill()
      const execution = await store.getExecution(id)
      if (!execution) throw notFound(id)
      return execution
    },

    async resume(id, inputs = {}) {
      const runner = runners.get(id)
      if (!runner) {
        const execution = await store.getExecution(id)
        if (!execution) throw notFound(id)
        const state = execution.state.current
        if (!cluster || state !== 'PAUSED') throw notPaused(id, state)
        await checkResumeInputs(execution, inputs)
        await store.recordCommand({ executionId: id, kind: 'resume', inputs })
        return commandAnswer(id, (now) => now !== 'PAUSED')
      }
      // Answer once the resumed task runs are committed, so the caller sees RUNNING.
      let stopWaiting = () => {}
      const committed = new Promise<void>((resolve) => {
        const stop = engine.subscribe(id, (event) => {
          if (event.type === 'state' && event.state !== 'PAUSED') {
            stop()
            resolve()
          }
        })
        stopWaiting = stop
      })
      try {
        await runner.resume(inputs)
      } catch (error) {
        stopWaiting()
        throw error
      }
      await committed
      const execution = await store.getExecution(id)
      if (!execution) throw notFound(id)
      return execution
    },

    async restart(id) {
      const ending = runners.get(id)
      // A runner that has committed its final state is only tidying up: wait for it.
      if (ending && TERMINAL_EXECUTION_STATES.has(ending.committedState)) {
        await ending.done.catch(() => {})
      }
      if (runners.has(id) || restarting.has(id)) {
        const running = runners.get(id)?.execution.state.current ?? 'RUNNING'
        throw new RuntimeError(`execution ${id} cannot be restarted: it is ${running}`, {
          code: 'EXECUTION_STATE',
        })
      }
      restarting.add(id)
      try {
        const execution = await store.getExecution(id)
        if (!execution) throw notFound(id)
        // The same revision with the same plugin versions (the execution's lock).
        const validated = await revalidate(execution, `execution ${id} cannot be restarted: `)
        const changed = prepareRestart(execution, new Date().toISOString())
        const { taskRunList: _runs, ...summary } = execution
        await store.commit({
          execution: summary,
          ...(cluster ? { executorId: executes ? nodeId : null } : {}),
          taskRuns: changed,
          logs: [
            {
              executionId: id,
              level: 'info',
              message: `restarted from ${changed.length} failed task run(s)`,
              timestamp: new Date().toISOString(),
            },
          ],
        })
        startWorker()
        if (executes) launch(execution, validated, true)
        return snapshot(execution)
      } finally {
        restarting.delete(id)
      }
    },

    async replay(id, replayOptions = {}) {
      const original = await store.getExecution(id)
      if (!original) throw notFound(id)
      const revision = replayOptions.revision ?? original.flowRevision
      const stored = await store.getFlow(original.namespace, original.flowId, revision)
      if (!stored) {
        throw new RuntimeError(
          `execution ${id} cannot be replayed: flow ${original.namespace}/${original.flowId} revision ${revision} is gone`,
          { code: 'FLOW_NOT_FOUND' },
        )
      }
      const keepPlugins = replayOptions.keepPlugins === true
      const validated = keepPlugins
        ? validate(parseFlow(stored.source), pinsOf(original.plugins))
        : validatedRevision(stored)
      const date = new Date().toISOString()
      const execution = prepareReplay(original, {
        id: createId(),
        date,
        flowRevision: revision,
        plugins: validated.plugins,
        keepPlugins,
        ...(replayOptions.taskRunId === undefined ? {} : { taskRunId: replayOptions.taskRunId }),
      })
      const from = replayOptions.taskRunId
        ? `task "${original.taskRunList.find((run) => run.id === replayOptions.taskRunId)?.taskId}" (task run ${replayOptions.taskRunId})`
        : 'the start'
      const { taskRunList, ...summary } = execution
      await store.commit({
        execution: summary,
        taskRuns: taskRunList,
        logs: [
          {
            executionId: execution.id,
            level: 'info',
            message: `replay of execution ${id} from ${from}, ${keepPlugins ? 'keeping its plugin versions' : 'with plugin versions resolved again'}`,
            timestamp: date,
          },
        ],
      })
      startWorker()
      launch(execution, validated, true)
      return snapshot(execution)
    },

    async recover() {
      if (!cluster) {
        const resumed = executes ? await resumeAll(await store.listUnfinishedExecutions()) : []
        await startWorker()
        return resumed
      }
      // The node record is the lease of what this executor takes: written before taking any.
      await startWorker()
      if (!executes) return []
      // Executions an api node creates wake the takeover at once (PostgreSQL's NOTIFY); the
      // timer is the fallback, and takes over a dead executor's.
      const listening = store.listen?.('created', () => {
        if (!closing) takeOver().catch(() => {})
      })
      listening
        ?.then((stop) => {
          if (closing) stop()
          else stopListeningCreated = stop
        })
        .catch((error: unknown) => {
          logger.warn(`new executions are polled for only: ${messageOf(error)}`)
        })
      // Kills and resumes recorded through other nodes: NOTIFY at once, the timer as fallback.
      store
        .listen?.('commands', () => {
          if (!closing) carryOutCommands().catch(() => {})
        })
        .then((stop) => {
          if (closing) stop()
          else stopListeningCommands = stop
        })
        .catch((error: unknown) => {
          logger.warn(`commands are polled for only: ${messageOf(error)}`)
        })
      const taken = await takeOver()
      takeoverTimer ??= setInterval(() => {
        if (closing) return
        takeOver()
          .then(() => carryOutCommands())
          .catch(() => {})
      }, cluster.takeoverMs ?? CLUSTER_POLL_MS)
      takeoverTimer.unref()
      return taken
    },

    async flushLogs(executionId) {
      await Promise.all([runners.get(executionId)?.flushLogs(), worker.flushLogs()])
    },

    subscribe(executionId, listener) {
      addToSet(listeners, executionId, listener)
      return () => removeFromSet(listeners, executionId, listener)
    },

    subscribeAll(listener) {
      allListeners.add(listener)
      return () => {
        allListeners.delete(listener)
      }
    },

    async close() {
      if (closing) return
      closing = true
      clearInterval(takeoverTimer)
      stopListeningCreated?.()
      stopListeningCommands?.()
      await takingOver
      await commanding
      await worker.close()
      dispatch.close()
      for (const cancel of waiting) cancel()
      waiting.clear()
      const running = [...runners.values()]
      for (const runner of running) runner.abort()
      await Promise.allSettled(running.map((runner) => runner.done))
      listeners.clear()
    },
  }
  return engine
}
