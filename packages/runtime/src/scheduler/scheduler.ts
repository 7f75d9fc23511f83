import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { type ExecutionInfo, parseDuration } from '@kite/sdk'
import { createRenderVariables, renderProperties } from '@kite/sdk/host'
import { isRuntimeError, messageOf, RuntimeError, type ValidationIssue } from '../errors.js'
import type { Engine, RuntimeLogger } from '../executor/engine.js'
import {
  type Execution,
  type ExecutionState,
  TERMINAL_EXECUTION_STATES,
} from '../executor/execution-model.js'
import { createRunServices } from '../executor/run-services.js'
import type { SecretProvider } from '../executor/secrets.js'
import type { Flow, FlowTrigger, UpstreamFlowTrigger } from '../flow/flow-model.js'
import { parseFlow } from '../flow/parse-flow.js'
import type { PreparedCondition, PreparedTrigger, ValidatedFlow } from '../flow/validate-flow.js'
import { createId } from '../ids.js'
import type { PluginCatalog } from '../plugins/plugin-catalog.js'
import type { HostRunContext, PluginHost } from '../plugins/plugin-host.js'
import type { PluginResolver } from '../plugins/plugin-resolver.js'
import type { InternalStorageService } from '../storage/internal-storage.js'
import type { EndedExecutionCursor, Store, StoredFlow } from '../storage/store.js'
import { createCron, decideSchedule, scheduleVariables } from './schedule.js'

/** The trigger-state key of the scheduler's own record (plugin state uses the other keys). */
export const RECORD_KEY = '$scheduler'
/**
 * The trigger-state key of what the API decides about a trigger (enabled, reset), written by the
 * node that was asked and read from the store by every scheduler: the active scheduler, maybe on
 * another node, never writes it, so its record cannot overwrite an API call (SPEC 9).
 */
export const CONTROL_KEY = '$control'
const RESERVED_KEYS: ReadonlySet<string> = new Set([RECORD_KEY, CONTROL_KEY])

/** The longest a condition may take before it counts as failing. */
const CONDITION_TIMEOUT_MS = 30_000
/** The shortest time a poll may take before it fails (longer intervals allow as long as they last). */
const MIN_POLL_TIMEOUT_MS = 60_000

/** Where the scheduler notes that it was alive, for flow triggers after a crash. */
const ALIVE = { namespace: '', flowId: '', triggerId: '$flow-triggers' } as const
const ALIVE_EVERY_MS = 5000
/** On start, upstream executions that ended this long before the last alive note are checked again. */
const REPLAY_MARGIN_MS = 60_000
/** ...but never further back than this. */
const REPLAY_WINDOW_MS = 24 * 3_600_000
const REPLAY_PAGE = 200
/**
 * In a cluster, the ends the active scheduler reads from the store each tick: those written in
 * this window, so an end committed late (concurrent commits) or stamped by a clock a little
 * behind is still seen; each is evaluated once (`seenEnds`).
 */
const ENDS_WINDOW_MS = 10_000
/** A webhook's record (dates, last execution) is written this long after its firings, coalesced. */
const SAVE_SOON_MS = 100

/** Default polling interval of a plugin trigger whose manifest has none. */
const DEFAULT_INTERVAL = 'PT1M'

/** One execution a firing starts: its id is chosen before anything runs. */
interface PendingStart {
  id: string
  inputs?: Record<string, unknown>
  variables: Record<string, unknown>
}

/**
 * What the scheduler persists about one trigger, in one row: a firing is recorded (with the ids
 * of the executions it starts and the state a poll wrote) before any execution starts, so a
 * restart completes it — starting only the executions that do not exist yet.
 */
interface TriggerRecord {
  /** Turned off through the API, as recorded before `$control` rows; a control row overrides it. */
  disabled?: boolean
  /** What `nextDate` was computed from; a changed cron starts over. */
  schedule?: string
  nextDate?: string
  lastEvaluation?: string
  lastFired?: string
  lastExecutionId?: string
  lastError?: { date: string; message: string }
  /** Consecutive failed evaluations (polls that threw, conditions that threw). */
  failures?: number
  /** Firings recorded and not yet completed (several webhook calls may fire at once). */
  pending?: PendingFiring[]
}

/** What the API decided about one trigger (`CONTROL_KEY`). */
interface TriggerControl {
  /** Turned off (true) or on again (false) through the API. */
  disabled?: boolean
  /** How many resets the API made: an active scheduler that sees it grow forgets its record. */
  resets?: number
}

interface PendingFiring {
  id: string
  starts: PendingStart[]
  /** `ctx.state` values the poll wrote, committed once its executions exist. */
  state?: Record<string, unknown>
}

/** A trigger with its state, as the API lists it. */
export interface TriggerInfo {
  namespace: string
  flowId: string
  flowRevision: number
  triggerId: string
  type: string
  kind: FlowTrigger['kind']
  /** The resolved plugin version (plugin triggers). */
  version?: string
  /** False when turned off through the API. */
  enabled: boolean
  /** True when the flow, or the trigger in the flow, says `disabled: true`. */
  flowDisabled: boolean
  cron?: string
  timezone?: string
  interval?: string
  nextDate?: string
  lastEvaluation?: string
  lastFired?: string
  lastExecutionId?: string
  lastError?: { date: string; message: string }
  failures: number
  /** The plugin trigger's own state (`ctx.state`), by key. */
  state: Record<string, unknown>
  /** Why the trigger cannot be evaluated (the flow no longer validates). */
  problem?: string
}

export interface SchedulerOptions {
  engine: Engine
  store: Store
  host: PluginHost
  resolver: PluginResolver
  catalog: PluginCatalog
  storage: InternalStorageService
  secrets: SecretProvider
  /** Where plugin triggers and conditions get their working directories. */
  workDir: string
  env?: Record<string, string | undefined>
  logger: RuntimeLogger
  /** How often schedules and poll intervals are checked, in ms (default 500). */
  tickMs?: number
  /**
   * Executions also end in other processes (a cluster): Flow triggers read ends from the store
   * every tick, besides the ends of this process's engine.
   */
  cluster?: boolean
}

export interface WebhookRequest {
  namespace: string
  flowId: string
  key: string
  body: unknown
  headers: Record<string, string>
  parameters: Record<string, string[]>
  /** The execution's inputs (a multipart/form-data body's fields and files); 422 when invalid. */
  inputs?: Record<string, unknown>
}

/**
 * Starts flows on their own: evaluates the Schedule, Flow and plugin polling triggers of every
 * saved flow (latest revision) and serves the Webhook ones, with trigger state persisted.
 */
export interface Scheduler {
  /** Completes firings a previous process recorded, then evaluates triggers every tick. */
  start(): Promise<void>
  /** Reads the saved flows and evaluates every due trigger once (the tick; useful in tests). */
  tick(): Promise<void>
  /** Refuses a flow whose webhook key another live flow already uses. */
  checkFlow(flow: Flow): Promise<void>
  /** Starts the execution of a webhook call; undefined when no enabled trigger has this key. */
  fireWebhook(request: WebhookRequest): Promise<Execution | undefined>
  list(filter?: { namespace?: string; flowId?: string }): Promise<TriggerInfo[]>
  setEnabled(
    namespace: string,
    flowId: string,
    triggerId: string,
    enabled: boolean,
  ): Promise<TriggerInfo>
  /** Forgets a trigger's state (dates, errors, cursor); an API-disabled trigger stays disabled. */
  reset(namespace: string, flowId: string, triggerId: string): Promise<TriggerInfo>
  /** Stops evaluating and waits for evaluations under way; recorded firings complete on the next start. */
  close(): Promise<void>
}

interface IndexedTrigger {
  key: string
  stored: StoredFlow
  flow: Flow
  trigger: FlowTrigger
  prepared?: PreparedTrigger
  problem?: string
}

/** Whose record a write is: the trigger's key, its flow and id. */
interface RecordOwner {
  key: string
  flow: Pick<Flow, 'namespace' | 'id'>
  trigger: Pick<FlowTrigger, 'id'>
}

const keyOf = (namespace: string, flowId: string, triggerId: string) =>
  `${namespace}\u0000${flowId}\u0000${triggerId}`

export function createScheduler(options: SchedulerOptions): Scheduler {
  const { engine, store, host, resolver, catalog, logger } = options
  const tickMs = options.tickMs ?? 500
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (name.startsWith('KITE_ENV_') && value !== undefined) env[name] = value
  }
  const records = new Map<string, TriggerRecord>()
  const controls = new Map<string, TriggerControl>()
  const validations = new Map<
    string,
    { revision: number; generation: number; value: ValidatedFlow | Error }
  >()
  const polling = new Set<string>()
  // Bumped by a reset: a poll that began before it must not write its old cursor back.
  const generations = new Map<string, number>()
  const inFlight = new Set<Promise<unknown>>()
  // Why a webhook's start failed (by execution id), so that invalid inputs answer 422.
  const webhookFailures = new Map<string, unknown>()
  const controller = new AbortController()
  let startedAt = new Date()
  let timer: NodeJS.Timeout | undefined
  let ticking: Promise<void> | undefined
  let loaded: Promise<void> | undefined
  let closed = false
  let unsubscribe: (() => void) | undefined

  const track = <T>(promise: Promise<T>): Promise<T> => {
    inFlight.add(promise)
    promise.then(
      () => inFlight.delete(promise),
      () => inFlight.delete(promise),
    )
    return promise
  }

  const loadRecords = () => {
    loaded ??= (async () => {
      for (const row of await store.triggerStateList({ key: RECORD_KEY })) {
        records.set(keyOf(row.namespace, row.flowId, row.triggerId), row.value as TriggerRecord)
      }
      await loadControls()
    })()
    return loaded
  }

  /**
   * Reads every trigger's control row. A started scheduler does it every tick: a reset through
   * another node (more `resets` than it knew) makes it forget its record, and writes the empty
   * record so that a write of its old one since the reset is undone.
   */
  const loadControls = async () => {
    const rows = await store.triggerStateList({ key: CONTROL_KEY })
    const seen = new Set<string>()
    for (const row of rows) {
      const key = keyOf(row.namespace, row.flowId, row.triggerId)
      const control = row.value as TriggerControl
      seen.add(key)
      const known = controls.get(key)?.resets ?? 0
      controls.set(key, control)
      if (!timer || (control.resets ?? 0) <= known) continue
      generations.set(key, (generations.get(key) ?? 0) + 1)
      records.set(key, {})
      await store.triggerStateSet(row.namespace, row.flowId, row.triggerId, RECORD_KEY, {})
    }
    for (const key of controls.keys()) if (!seen.has(key)) controls.delete(key)
  }

  /**
   * A scheduler that is not evaluating (an api node's in a cluster, a standby) reads what the API
   * shows from the store: the active scheduler writes the records, any node the controls.
   */
  const readStored = async (entry: RecordOwner) => {
    if (timer || unsaved.has(entry.key)) return
    const { namespace, id: flowId } = entry.flow
    const [record, control] = await Promise.all([
      store.triggerStateGet(namespace, flowId, entry.trigger.id, RECORD_KEY),
      store.triggerStateGet(namespace, flowId, entry.trigger.id, CONTROL_KEY),
    ])
    records.set(entry.key, (record as TriggerRecord | undefined) ?? {})
    if (control === undefined) controls.delete(entry.key)
    else controls.set(entry.key, control as TriggerControl)
  }

  /** Turned off through the API: the control row decides, else a record written before them. */
  const isDisabled = (key: string): boolean =>
    controls.get(key)?.disabled ?? records.get(key)?.disabled === true

  const recordOf = (key: string): TriggerRecord => {
    let record = records.get(key)
    if (!record) {
      record = {}
      records.set(key, record)
    }
    return record
  }

  const save = async (entry: RecordOwner) => {
    await store.triggerStateSet(
      entry.flow.namespace,
      entry.flow.id,
      entry.trigger.id,
      RECORD_KEY,
      recordOf(entry.key),
    )
  }

  const fail = async (entry: IndexedTrigger, message: string) => {
    const record = recordOf(entry.key)
    record.lastError = { date: new Date().toISOString(), message }
    record.failures = (record.failures ?? 0) + 1
    logger.warn(`trigger ${label(entry)}: ${message}`)
    await save(entry)
  }

  // ── the flows and their triggers ────────────────────────────────────────────────────────────

  const validated = (stored: StoredFlow): ValidatedFlow | Error => {
    const key = `${stored.namespace}\u0000${stored.id}`
    const cached = validations.get(key)
    if (cached && cached.revision === stored.revision && cached.generation === catalog.generation) {
      return cached.value
    }
    let value: ValidatedFlow | Error
    try {
      value = engine.validateSource(stored.source)
    } catch (error) {
      value = error instanceof Error ? error : new Error(String(error))
    }
    validations.set(key, { revision: stored.revision, generation: catalog.generation, value })
    return value
  }

  const entriesOf = (stored: StoredFlow): IndexedTrigger[] => {
    const result = validated(stored)
    let flow: Flow
    if (result instanceof Error) {
      try {
        flow = parseFlow(stored.source)
      } catch {
        return []
      }
    } else {
      flow = result.flow
    }
    return flow.triggers.map((trigger) => {
      const prepared = result instanceof Error ? undefined : result.triggers.get(trigger.id)
      return {
        key: keyOf(flow.namespace, flow.id, trigger.id),
        stored,
        flow,
        trigger,
        ...(prepared ? { prepared } : {}),
        ...(result instanceof Error
          ? { problem: `the flow no longer validates: ${messageOf(result)}` }
          : {}),
      }
    })
  }

  // The index of the last `refresh`, kept while no flow revision was stored and the plugin
  // catalog did not change: an execution's end (Flow triggers) costs one count, not every flow.
  let indexed: { version: number; generation: number; entries: Map<string, IndexedTrigger> } = {
    version: -1,
    generation: -1,
    entries: new Map(),
  }
  const refresh = async (): Promise<ReadonlyMap<string, IndexedTrigger>> => {
    const version = await store.flowsVersion()
    const generation = catalog.generation
    if (indexed.version === version && indexed.generation === generation) return indexed.entries
    const next = new Map<string, IndexedTrigger>()
    for (const stored of await store.listFlows()) {
      for (const entry of entriesOf(stored)) next.set(entry.key, entry)
    }
    indexed = { version, generation, entries: next }
    return next
  }

  const active = (entry: IndexedTrigger): entry is IndexedTrigger & { prepared: PreparedTrigger } =>
    entry.prepared !== undefined &&
    !entry.flow.disabled &&
    !entry.trigger.disabled &&
    !isDisabled(entry.key)

  // ── conditions and firing ───────────────────────────────────────────────────────────────────

  const hostContext = (
    entry: IndexedTrigger,
    task: { type: string; version: string },
    execution: ExecutionInfo,
    trigger: Record<string, unknown> | undefined,
    variables: Record<string, unknown>,
    state?: {
      get: (key: string) => Promise<unknown>
      set: (key: string, value: unknown) => Promise<void>
    },
  ): HostRunContext => {
    const workingDir = join(options.workDir, 'triggers', createId())
    const services = createRunServices({
      store,
      storage: options.storage,
      secrets: options.secrets,
      namespace: entry.flow.namespace,
      storagePrefix: `${entry.flow.namespace}/${entry.flow.id}/triggers/${entry.trigger.id}`,
      workingDir,
      log: (level, message) => logger.debug(`trigger ${label(entry)} [${level}] ${message}`),
      render: (template, vars) =>
        engine.expressions.renderString(template, vars ? { ...variables, ...vars } : variables),
      metrics: [],
    })
    return {
      execution,
      task: { id: entry.trigger.id, type: task.type, version: task.version },
      workingDir,
      pluginConfig: resolver.pluginConfig(task.type),
      ...(trigger ? { trigger } : {}),
      services: state ? { ...services, stateGet: state.get, stateSet: state.set } : services,
    }
  }

  const variablesFor = (
    entry: IndexedTrigger,
    execution: ExecutionInfo,
    trigger: Record<string, unknown> | undefined,
  ) =>
    createRenderVariables({
      flow: { id: entry.flow.id, namespace: entry.flow.namespace, revision: entry.stored.revision },
      execution,
      vars: entry.flow.variables,
      ...(trigger ? { trigger } : {}),
      env,
      secret: (name) => options.secrets.get(name),
      kv: (key) => store.kvGetNow(entry.flow.namespace, key),
    })

  const render = (
    properties: Record<string, unknown>,
    schema: PreparedCondition['resolved']['manifestEntry']['properties'],
    variables: Record<string, unknown>,
  ) =>
    renderProperties(properties, schema, (value) => engine.expressions.renderDeep(value, variables))

  /** The execution a condition sees: the one about to start, or the upstream one (Flow triggers). */
  const ownExecution = (entry: IndexedTrigger, id: string): ExecutionInfo => ({
    id,
    namespace: entry.flow.namespace,
    flowId: entry.flow.id,
    flowRevision: entry.stored.revision,
    labels: entry.flow.labels,
    startDate: new Date().toISOString(),
  })

  /** True when every condition passes; a condition that throws counts as failing and is recorded. */
  const conditionsPass = async (
    entry: IndexedTrigger & { prepared: PreparedTrigger },
    execution: ExecutionInfo,
    trigger: Record<string, unknown>,
  ): Promise<boolean> => {
    const variables = variablesFor(entry, execution, trigger)
    for (const [index, condition] of entry.prepared.conditions.entries()) {
      try {
        const passed = await host.testCondition({
          pin: condition.resolved,
          properties: render(
            condition.properties,
            condition.resolved.manifestEntry.properties,
            variables,
          ),
          context: hostContext(entry, condition.resolved, execution, trigger, variables),
          signal: controller.signal,
          timeoutMs: CONDITION_TIMEOUT_MS,
        })
        if (!passed) return false
      } catch (error) {
        await fail(
          entry,
          `condition ${index + 1} (${condition.resolved.type} ${condition.resolved.version}) failed: ${messageOf(error)}`,
        )
        return false
      }
    }
    return true
  }

  /**
   * Records a firing (execution ids, poll state, next date) in one write, then starts its
   * executions and clears it. A restart finds the record and starts what does not exist yet.
   */
  const fire = async (
    entry: IndexedTrigger,
    starts: PendingStart[],
    changes: Partial<TriggerRecord> & { state?: Record<string, unknown> },
    answered = false,
  ): Promise<Execution[]> => {
    const record = recordOf(entry.key)
    const { state, ...recordChanges } = changes
    Object.assign(record, recordChanges, { lastEvaluation: new Date().toISOString() })
    if (starts.length === 0 && (!state || Object.keys(state).length === 0)) {
      if (answered) saveSoon(entry)
      else await save(entry)
      return []
    }
    const firing: PendingFiring = {
      id: createId(),
      starts,
      ...(state && Object.keys(state).length > 0 ? { state } : {}),
    }
    if (answered) {
      // A webhook call is accepted only when it is answered, after `engine.start` committed the
      // execution: a crash before that leaves nothing accepted, so no firing is recorded first
      // and the record (dates, last execution) is written a little later, coalesced.
      return complete(entry.flow.namespace, entry.flow.id, entry.trigger, entry.key, firing, true)
    }
    record.pending = [...(record.pending ?? []), firing]
    await save(entry)
    return complete(entry.flow.namespace, entry.flow.id, entry.trigger, entry.key, firing)
  }

  // Records written a little later (webhooks): one write per trigger for the firings of 100 ms.
  const unsaved = new Map<string, RecordOwner>()
  let saveTimer: NodeJS.Timeout | undefined
  const saveUnsaved = async () => {
    clearTimeout(saveTimer)
    saveTimer = undefined
    const entries = [...unsaved.values()]
    unsaved.clear()
    for (const entry of entries) {
      await save(entry).catch((error: unknown) =>
        logger.warn(`trigger ${label(entry)}: cannot record its state: ${messageOf(error)}`),
      )
    }
  }
  const saveSoon = (entry: RecordOwner) => {
    unsaved.set(entry.key, entry)
    saveTimer ??= setTimeout(() => void track(saveUnsaved()), SAVE_SOON_MS)
  }

  const complete = async (
    namespace: string,
    flowId: string,
    trigger: Pick<FlowTrigger, 'id' | 'type'>,
    key: string,
    pending: PendingFiring,
    answered = false,
  ): Promise<Execution[]> => {
    const record = recordOf(key)
    const started: Execution[] = []
    for (const start of pending.starts) {
      // An unanswered firing's ids are new: only a recorded one may have started some already.
      if (!answered && (await store.getExecution(start.id))) continue
      try {
        const execution = await engine.start({
          namespace,
          flowId,
          id: start.id,
          ...(start.inputs ? { inputs: start.inputs } : {}),
          trigger: { id: trigger.id, type: trigger.type, variables: start.variables },
        })
        started.push(execution)
        record.lastFired = execution.state.startDate ?? new Date().toISOString()
        record.lastExecutionId = execution.id
      } catch (error) {
        // Another scheduler (a lease handed over mid-firing) started it first: it fired once.
        if (isRuntimeError(error) && error.code === 'EXECUTION_EXISTS') continue
        if (webhookFailures.has(start.id)) {
          webhookFailures.set(start.id, error)
          // The caller's inputs were refused (422): the trigger itself did not fail.
          if (isRuntimeError(error) && error.code === 'INPUTS_INVALID') continue
        }
        // Shutting down: the firing stays recorded and completes on the next start.
        if (closed || (isRuntimeError(error) && error.code === 'EXECUTION_STATE')) return started
        record.lastError = {
          date: new Date().toISOString(),
          message: `cannot start an execution of ${namespace}/${flowId}: ${messageOf(error)}`,
        }
        record.failures = (record.failures ?? 0) + 1
        logger.warn(`trigger ${namespace}/${flowId}/${trigger.id}: ${record.lastError.message}`)
      }
    }
    for (const [name, value] of Object.entries(pending.state ?? {})) {
      await store.triggerStateSet(namespace, flowId, trigger.id, name, value)
    }
    // A reset while this ran replaced the record: the firing is not written back into it.
    const current = recordOf(key)
    current.pending = current.pending?.filter((item) => item.id !== pending.id)
    if (current.pending?.length === 0) delete current.pending
    if (answered) saveSoon({ key, flow: { namespace, id: flowId }, trigger })
    else await store.triggerStateSet(namespace, flowId, trigger.id, RECORD_KEY, current)
    return started
  }

  // ── Schedule ────────────────────────────────────────────────────────────────────────────────

  const evaluateSchedule = async (entry: IndexedTrigger & { prepared: PreparedTrigger }) => {
    const trigger = entry.trigger
    if (trigger.kind !== 'schedule') return
    const record = recordOf(entry.key)
    if (record.pending?.length) return
    const cron = createCron(trigger)
    const now = new Date()
    const schedule = `${trigger.cron}|${trigger.timezone ?? ''}`
    if (!record.nextDate || record.schedule !== schedule) {
      record.schedule = schedule
      const next = cron.nextRun(now)
      if (next) record.nextDate = next.toISOString()
      else delete record.nextDate
      await save(entry)
      return
    }
    if (new Date(record.nextDate).getTime() > now.getTime()) return
    const decision = decideSchedule({
      cron,
      nextDate: new Date(record.nextDate),
      now,
      startedAt,
      recover: trigger.recoverMissedSchedules,
    })
    if (decision.skipped.length > 0) {
      logger.info(
        `trigger ${label(entry)}: skipped ${decision.skipped.length} schedule(s) missed while the runtime was down (recoverMissedSchedules: ${trigger.recoverMissedSchedules})`,
      )
    }
    const starts: PendingStart[] = []
    for (const date of decision.fire) {
      // One id per trigger and date: a date two schedulers fire (a lease handed over while the
      // old holder was still firing) starts one execution, whoever records it first.
      const id = derivedId(entry.key, 'schedule', date.toISOString())
      const variables = scheduleVariables(cron, date)
      if (!(await conditionsPass(entry, ownExecution(entry, id), variables))) continue
      starts.push({ id, variables, inputs: trigger.inputs })
    }
    const changes: Partial<TriggerRecord> = decision.next
      ? { nextDate: decision.next.toISOString() }
      : {}
    if (!decision.next) delete record.nextDate
    await fire(entry, starts, changes)
  }

  // ── plugin polling triggers ─────────────────────────────────────────────────────────────────

  const intervalOf = (entry: IndexedTrigger & { prepared: PreparedTrigger }): string => {
    if (entry.trigger.kind === 'plugin' && entry.trigger.interval) return entry.trigger.interval
    const manifest = entry.prepared.resolved?.manifestEntry
    return manifest && 'interval' in manifest && typeof manifest.interval === 'string'
      ? manifest.interval
      : DEFAULT_INTERVAL
  }

  const poll = async (entry: IndexedTrigger & { prepared: PreparedTrigger }) => {
    const { resolved } = entry.prepared
    if (!resolved) return
    const record = recordOf(entry.key)
    const { namespace, id: flowId } = entry.flow
    const interval = intervalOf(entry)
    const nextDate = new Date(Date.now() + parseDuration(interval)).toISOString()
    // The poll's writes are kept until its executions are recorded: they are committed together.
    const written: Record<string, unknown> = {}
    const state = {
      get: async (name: string) =>
        name in written
          ? written[name]
          : store.triggerStateGet(namespace, flowId, entry.trigger.id, name),
      set: async (name: string, value: unknown) => {
        if (RESERVED_KEYS.has(name)) {
          throw new RuntimeError(`ctx.state key "${name}" is reserved for the scheduler`, {
            code: 'REQUEST_INVALID',
          })
        }
        written[name] = structuredClone(value)
      },
    }
    const execution = ownExecution(entry, createId())
    const generation = generations.get(entry.key) ?? 0
    let events: Record<string, unknown>[]
    try {
      const variables = variablesFor(entry, execution, undefined)
      events = await host.pollTrigger({
        pin: resolved,
        properties: render(entry.prepared.properties, resolved.manifestEntry.properties, variables),
        context: hostContext(entry, resolved, execution, undefined, variables, state),
        signal: controller.signal,
        // A poll that hangs would block the trigger forever: it never polls twice at once.
        timeoutMs: Math.max(MIN_POLL_TIMEOUT_MS, parseDuration(interval)),
      })
    } catch (error) {
      if (closed || generation !== (generations.get(entry.key) ?? 0)) return
      record.nextDate = nextDate
      record.lastEvaluation = new Date().toISOString()
      await fail(
        entry,
        `poll of ${resolved.type} ${resolved.version} failed (retrying in ${interval}): ${messageOf(error)}`,
      )
      return
    }
    if (closed || generation !== (generations.get(entry.key) ?? 0)) return
    const starts: PendingStart[] = []
    for (const event of events) {
      const id = createId()
      if (!(await conditionsPass(entry, ownExecution(entry, id), event))) continue
      starts.push({ id, variables: event })
    }
    if (generation !== (generations.get(entry.key) ?? 0)) return
    await fire(entry, starts, { nextDate, failures: 0, state: written })
  }

  const schedulePoll = (entry: IndexedTrigger & { prepared: PreparedTrigger }) => {
    const record = recordOf(entry.key)
    if (polling.has(entry.key) || record.pending?.length) return
    if (record.nextDate && new Date(record.nextDate).getTime() > Date.now()) return
    polling.add(entry.key)
    track(
      poll(entry)
        .catch((error) => logger.error(`trigger ${label(entry)}: ${messageOf(error)}`))
        .finally(() => polling.delete(entry.key)),
    )
  }

  // ── Flow triggers ───────────────────────────────────────────────────────────────────────────

  // Downstream ids being fired now: the live event and the replay after a start may meet.
  const firingIds = new Set<string>()
  // Ends evaluated already (id → when written): the store's window and this engine's events meet.
  const seenEnds = new Map<string, number>()
  const noteEnd = (id: string, written: number) => {
    if (options.cluster) seenEnds.set(id, written)
  }
  const hasFlowTriggers = (entries: ReadonlyMap<string, IndexedTrigger>) =>
    [...entries.values()].some((entry) => active(entry) && entry.trigger.kind === 'flow')

  /**
   * In a cluster the ends of executions other nodes ran reach Flow triggers here, a tick after
   * they are written: the ends of the last `ENDS_WINDOW_MS`, each evaluated once.
   */
  const followEnds = async () => {
    if (!options.cluster) return
    const since = Date.now() - ENDS_WINDOW_MS
    for (const [id, written] of seenEnds) if (written < since) seenEnds.delete(id)
    if (!hasFlowTriggers(await refresh())) return
    for await (const row of endedSince(since)) {
      if (seenEnds.has(row.id)) continue
      noteEnd(row.id, Date.parse(row.updatedAt))
      await onExecutionEnd(row.id)
    }
  }

  /**
   * The executions ended since a date, in keyset pages (the cost follows what ended since then,
   * not the history stored); stops at close.
   */
  async function* endedSince(since: number) {
    let after: EndedExecutionCursor | undefined
    for (;;) {
      const page = await store.listExecutionsEndedSince(new Date(since).toISOString(), {
        ...(after ? { after } : {}),
        limit: REPLAY_PAGE,
      })
      for (const row of page) {
        if (closed) return
        yield row
      }
      after = page.at(-1)
      if (page.length < REPLAY_PAGE || closed) return
    }
  }

  const onExecutionEnd = async (executionId: string, endedSince?: number) => {
    const flowTriggers = [...(await refresh()).values()].filter(
      (
        entry,
      ): entry is IndexedTrigger & { prepared: PreparedTrigger; trigger: UpstreamFlowTrigger } =>
        active(entry) && entry.trigger.kind === 'flow',
    )
    // Most runtimes have no Flow trigger: then an end costs no read of the execution.
    if (flowTriggers.length === 0 || closed) return
    const upstream = await store.getExecution(executionId)
    if (!upstream || closed) return
    if (endedSince !== undefined) {
      const ended = upstream.state.endDate ? Date.parse(upstream.state.endDate) : Number.NaN
      if (!(ended >= endedSince)) return
    }
    for (const entry of flowTriggers) {
      // One downstream execution per upstream and trigger, whatever replays the upstream's end.
      const id = derivedId(upstream.id, entry.key)
      if (firingIds.has(id) || (await store.getExecution(id))) continue
      const { flows } = entry.trigger.preconditions
      const matches =
        flows.length === 0
          ? upstream.namespace !== entry.flow.namespace || upstream.flowId !== entry.flow.id
          : flows.some(
              (item) =>
                item.namespace === upstream.namespace &&
                item.flowId === upstream.flowId &&
                item.states.includes(upstream.state.current),
            )
      if (!matches) continue
      const variables: Record<string, unknown> = {
        executionId: upstream.id,
        namespace: upstream.namespace,
        flowId: upstream.flowId,
        flowRevision: upstream.flowRevision,
        state: upstream.state.current,
        outputs: upstream.outputs ?? {},
      }
      const upstreamInfo: ExecutionInfo = {
        id: upstream.id,
        namespace: upstream.namespace,
        flowId: upstream.flowId,
        flowRevision: upstream.flowRevision,
        state: upstream.state.current,
        labels: upstream.labels,
        ...(upstream.state.startDate ? { startDate: upstream.state.startDate } : {}),
        outputs: upstream.outputs ?? {},
      }
      firingIds.add(id)
      try {
        const passes = await conditionsPass(entry, upstreamInfo, variables)
        await fire(entry, passes ? [{ id, variables }] : [], {})
      } finally {
        firingIds.delete(id)
      }
    }
  }

  // ── the loop ────────────────────────────────────────────────────────────────────────────────

  let aliveWritten = 0
  const evaluate = async () => {
    await loadRecords()
    // Alone, every API call goes through this scheduler; in a cluster any api node may write.
    if (options.cluster) await loadControls()
    if (Date.now() - aliveWritten >= ALIVE_EVERY_MS) {
      aliveWritten = Date.now()
      await store.triggerStateSet(ALIVE.namespace, ALIVE.flowId, ALIVE.triggerId, RECORD_KEY, {
        aliveAt: new Date().toISOString(),
      })
    }
    const entries = await refresh()
    // A schedule or poll that stops (disabled, flow deleted) forgets its next date: when it comes
    // back it starts from then, instead of firing every date it was off for.
    for (const [key, record] of records) {
      const entry = entries.get(key)
      if (!record.nextDate || (entry && active(entry)) || record.pending?.length) continue
      delete record.nextDate
      const [namespace = '', flowId = '', triggerId = ''] = key.split('\u0000')
      await store.triggerStateSet(namespace, flowId, triggerId, RECORD_KEY, record)
    }
    for (const entry of entries.values()) {
      if (closed) return
      if (!active(entry)) continue
      try {
        if (entry.trigger.kind === 'schedule') await evaluateSchedule(entry)
        else if (entry.trigger.kind === 'plugin') schedulePoll(entry)
      } catch (error) {
        await fail(entry, messageOf(error)).catch(() => {})
      }
    }
    await followEnds()
  }

  const tick = () => {
    ticking ??= track(
      evaluate()
        .catch((error) =>
          logger.error(`the scheduler failed to evaluate triggers: ${messageOf(error)}`),
        )
        .finally(() => {
          ticking = undefined
        }),
    )
    return ticking
  }

  /**
   * Executions that ended while no scheduler listened (the runtime died between an upstream's
   * end and the downstream's record) are evaluated again; `derivedId` keeps it exactly once.
   */
  const replayEnds = async () => {
    const mark = (await store.triggerStateGet(
      ALIVE.namespace,
      ALIVE.flowId,
      ALIVE.triggerId,
      RECORD_KEY,
    )) as { aliveAt?: string } | undefined
    if (!mark?.aliveAt) return
    // Nothing to replay for a runtime without flow triggers: no read of the history at all.
    if (!hasFlowTriggers(await refresh())) return
    const since = Math.max(
      Date.parse(mark.aliveAt) - REPLAY_MARGIN_MS,
      Date.now() - REPLAY_WINDOW_MS,
    )
    // The cost follows what ended around the last stop, not the history stored.
    for await (const row of endedSince(since)) {
      noteEnd(row.id, Date.parse(row.updatedAt))
      await onExecutionEnd(row.id, since)
    }
  }

  const infoOf = async (entry: IndexedTrigger): Promise<TriggerInfo> => {
    const record = recordOf(entry.key)
    const state: Record<string, unknown> = {}
    for (const row of await store.triggerStateList({
      namespace: entry.flow.namespace,
      flowId: entry.flow.id,
    })) {
      if (row.triggerId === entry.trigger.id && !RESERVED_KEYS.has(row.key)) {
        state[row.key] = row.value
      }
    }
    const { trigger } = entry
    return {
      namespace: entry.flow.namespace,
      flowId: entry.flow.id,
      flowRevision: entry.stored.revision,
      triggerId: trigger.id,
      type: trigger.type,
      kind: trigger.kind,
      ...(entry.prepared?.resolved ? { version: entry.prepared.resolved.version } : {}),
      enabled: !isDisabled(entry.key),
      flowDisabled: entry.flow.disabled || trigger.disabled,
      ...(trigger.kind === 'schedule'
        ? { cron: trigger.cron, ...(trigger.timezone ? { timezone: trigger.timezone } : {}) }
        : {}),
      ...(trigger.kind === 'plugin' && entry.prepared
        ? { interval: intervalOf({ ...entry, prepared: entry.prepared }) }
        : {}),
      ...(record.nextDate && (trigger.kind === 'schedule' || trigger.kind === 'plugin')
        ? { nextDate: record.nextDate }
        : {}),
      ...(record.lastEvaluation ? { lastEvaluation: record.lastEvaluation } : {}),
      ...(record.lastFired ? { lastFired: record.lastFired } : {}),
      ...(record.lastExecutionId ? { lastExecutionId: record.lastExecutionId } : {}),
      ...(record.lastError ? { lastError: record.lastError } : {}),
      failures: record.failures ?? 0,
      state,
      ...(entry.problem ? { problem: entry.problem } : {}),
    }
  }

  const find = async (namespace: string, flowId: string, triggerId: string) => {
    await loadRecords()
    const stored = await store.getFlow(namespace, flowId)
    const entry = stored
      ? entriesOf(stored).find((item) => item.trigger.id === triggerId)
      : undefined
    if (!entry) {
      throw new RuntimeError(`trigger "${triggerId}" of flow ${namespace}/${flowId} not found`, {
        code: 'NOT_FOUND',
      })
    }
    await readStored(entry)
    return entry
  }

  /** A trigger's control row as the store holds it now (another node may have written it). */
  const storedControl = async (entry: IndexedTrigger): Promise<TriggerControl> =>
    ((await store.triggerStateGet(
      entry.flow.namespace,
      entry.flow.id,
      entry.trigger.id,
      CONTROL_KEY,
    )) as TriggerControl | undefined) ?? {}
  const saveControl = async (entry: IndexedTrigger, next: TriggerControl) => {
    controls.set(entry.key, next)
    await store.triggerStateSet(
      entry.flow.namespace,
      entry.flow.id,
      entry.trigger.id,
      CONTROL_KEY,
      next,
    )
  }

  const scheduler: Scheduler = {
    async start() {
      if (timer || closed) return
      startedAt = new Date()
      await loadRecords()
      for (const [key, record] of records) {
        if (!record.pending) continue
        const [namespace = '', flowId = '', triggerId = ''] = key.split('\u0000')
        const stored = await store.getFlow(namespace, flowId)
        const trigger = stored
          ? parseFlowSafe(stored.source)?.triggers.find((item) => item.id === triggerId)
          : undefined
        for (const firing of [...record.pending]) {
          await complete(
            namespace,
            flowId,
            trigger ?? { id: triggerId, type: 'unknown' },
            key,
            firing,
          ).catch((error) =>
            logger.error(`trigger ${namespace}/${flowId}/${triggerId}: ${messageOf(error)}`),
          )
        }
      }
      unsubscribe = engine.subscribeAll((event) => {
        if (event.type !== 'state' || !TERMINAL_EXECUTION_STATES.has(event.state as ExecutionState))
          return
        noteEnd(event.executionId, Date.now())
        track(
          onExecutionEnd(event.executionId).catch((error) =>
            logger.error(`flow triggers after execution ${event.executionId}: ${messageOf(error)}`),
          ),
        )
      })
      // After subscribing: an execution that ends meanwhile is seen by one path or the other.
      await replayEnds().catch((error) =>
        logger.error(`flow triggers: cannot replay the executions that ended: ${messageOf(error)}`),
      )
      timer = setInterval(() => void tick(), tickMs)
      timer.unref()
      await tick()
    },

    tick,

    async checkFlow(flow) {
      const issues: ValidationIssue[] = []
      const webhooks = flow.triggers.filter((trigger) => trigger.kind === 'webhook')
      if (webhooks.length === 0) return
      const used = new Map<string, string>()
      for (const stored of await store.listFlows()) {
        if (stored.namespace === flow.namespace && stored.id === flow.id) continue
        const other = parseFlowSafe(stored.source)
        for (const trigger of other?.triggers ?? []) {
          if (trigger.kind === 'webhook') {
            used.set(
              trigger.key,
              `trigger "${trigger.id}" of flow ${stored.namespace}/${stored.id}`,
            )
          }
        }
      }
      const seen = new Set<string>()
      for (const trigger of webhooks) {
        const owner =
          used.get(trigger.key) ??
          (seen.has(trigger.key) ? 'another trigger of this flow' : undefined)
        seen.add(trigger.key)
        if (!owner) continue
        issues.push({
          path: `${trigger.path}.key`,
          ...(trigger.line ? { line: trigger.line } : {}),
          taskId: trigger.id,
          type: trigger.type,
          message: `trigger "${trigger.id}": webhook key "${trigger.key}" is already used by ${owner}; choose another key`,
        })
      }
      if (issues.length > 0) {
        throw new RuntimeError(
          `flow "${flow.namespace}/${flow.id}" is invalid: ${issues.map((issue) => issue.message).join('; ')}`,
          { code: 'FLOW_INVALID', kind: 'user', issues },
        )
      }
    },

    async fireWebhook(request) {
      await loadRecords()
      const stored = await engine.latestFlow(request.namespace, request.flowId)
      const entry = stored
        ? entriesOf(stored).find(
            (item) => item.trigger.kind === 'webhook' && item.trigger.key === request.key,
          )
        : undefined
      if (entry) await readStored(entry)
      if (!entry || !active(entry)) return undefined
      const id = createId()
      const variables = {
        body: request.body,
        headers: request.headers,
        parameters: request.parameters,
      }
      if (!(await conditionsPass(entry, ownExecution(entry, id), variables))) {
        await fire(entry, [], {}, true)
        return undefined
      }
      webhookFailures.set(id, undefined)
      let execution: Execution | undefined
      let failure: unknown
      try {
        ;[execution] = await fire(
          entry,
          [{ id, variables, ...(request.inputs ? { inputs: request.inputs } : {}) }],
          {},
          true,
        )
      } finally {
        failure = webhookFailures.get(id)
        webhookFailures.delete(id)
      }
      if (isRuntimeError(failure) && failure.code === 'INPUTS_INVALID') throw failure
      if (!execution) {
        throw new RuntimeError(
          recordOf(entry.key).lastError?.message ??
            `the webhook of ${request.namespace}/${request.flowId} started nothing`,
          { code: 'EXECUTION_STATE' },
        )
      }
      return execution
    },

    async list(filter = {}) {
      await loadRecords()
      if (!timer) {
        // Not evaluating: the active scheduler (another node's, maybe) wrote what is current.
        const stored = new Map<string, TriggerRecord>()
        for (const row of await store.triggerStateList({ key: RECORD_KEY })) {
          stored.set(keyOf(row.namespace, row.flowId, row.triggerId), row.value as TriggerRecord)
        }
        for (const key of [...records.keys(), ...stored.keys()]) {
          if (unsaved.has(key)) continue
          const record = stored.get(key)
          if (record) records.set(key, record)
          else records.delete(key)
        }
        await loadControls()
      }
      const entries = [...(await refresh()).values()].filter(
        (entry) =>
          (filter.namespace === undefined || entry.flow.namespace === filter.namespace) &&
          (filter.flowId === undefined || entry.flow.id === filter.flowId),
      )
      return Promise.all(entries.map(infoOf))
    },

    async setEnabled(namespace, flowId, triggerId, enabled) {
      const entry = await find(namespace, flowId, triggerId)
      await saveControl(entry, { ...(await storedControl(entry)), disabled: !enabled })
      return infoOf(entry)
    },

    async reset(namespace, flowId, triggerId) {
      const entry = await find(namespace, flowId, triggerId)
      const disabled = isDisabled(entry.key)
      const resets = ((await storedControl(entry)).resets ?? 0) + 1
      generations.set(entry.key, (generations.get(entry.key) ?? 0) + 1)
      records.set(entry.key, {})
      await store.triggerStateDelete(namespace, flowId, triggerId)
      await saveControl(entry, { ...(disabled ? { disabled: true } : {}), resets })
      return infoOf(entry)
    },

    async close() {
      if (closed) return
      closed = true
      if (timer) clearInterval(timer)
      unsubscribe?.()
      controller.abort(
        new RuntimeError('the runtime is shutting down', {
          code: 'EXECUTION_STATE',
          kind: 'operational',
        }),
      )
      await Promise.allSettled([...inFlight])
      await saveUnsaved()
    },
  }
  return scheduler
}

function label(entry: Pick<RecordOwner, 'flow' | 'trigger'>): string {
  return `${entry.flow.namespace}/${entry.flow.id}/${entry.trigger.id}`
}

/** A stable execution id (22 base62 characters, like `createId`) for a pair of keys. */
function derivedId(...parts: string[]): string {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest()
  let id = ''
  for (let index = 0; index < 22; index++) id += ID_ALPHABET[digest[index]! % 62]
  return id
}

const ID_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

function parseFlowSafe(source: string): Flow | undefined {
  try {
    return parseFlow(source)
  } catch {
    return undefined
  }
}
