import type {
  Execution,
  ExecutionState,
  ExecutionSummary,
  LogEntry,
  TaskRun,
} from '../executor/execution-model.js'
import type { AuthStore } from './auth-store.js'

/** A saved flow revision. */
export interface StoredFlow {
  namespace: string
  id: string
  revision: number
  source: string
  /** True for the revision that records a deletion. */
  deleted: boolean
  createdAt: string
}

export interface SaveFlowResult {
  revision: number
  /** False when the source was the same as the latest revision's (no new revision). */
  changed: boolean
  /** True when no live flow had this namespace and id before. */
  created: boolean
}

export interface ExecutionFilter {
  namespace?: string
  flowId?: string
  states?: readonly ExecutionState[]
  /** Labels the execution must all carry (`key` → exact `value`). */
  labels?: Readonly<Record<string, string>>
  /** Started at or after this instant (ISO 8601, UTC as `toISOString` writes it). */
  startedFrom?: string
  /** Started before this instant (ISO 8601, UTC). */
  startedBefore?: string
}

export interface Page<T> {
  results: T[]
  total: number
  page: number
  size: number
}

/** A stored log line with its position, for paging and following. */
export interface StoredLogEntry extends LogEntry {
  id: number
}

export interface LogQuery {
  minLevel?: LogEntry['level']
  taskId?: string
  /** Only lines after this id (for following). */
  afterId?: number
}

/** One key of a trigger's persisted state. */
export interface TriggerStateRow {
  namespace: string
  flowId: string
  triggerId: string
  key: string
  value: unknown
  updatedAt: string
}

/**
 * What `Store.listen` tells about: task runs queued, workers' results recorded, executions
 * created for any executor to take (`executorId: null`, an api node's), or commands recorded for
 * the executor that holds an execution (`commands`).
 */
export type QueueChannel = 'queued' | 'results' | 'created' | 'commands' | 'withdrawn'

/**
 * A kill or resume asked for through a node that does not hold the execution (SPEC 9): recorded
 * in the store, carried out by the executor that holds the execution (or takes it over).
 */
export interface ExecutionCommand {
  /** The order commands were recorded in. */
  seq: number
  executionId: string
  kind: 'kill' | 'resume'
  /** A resume's `onResume` inputs as given (already checked by the node that recorded it). */
  inputs?: Record<string, unknown>
  createdAt: string
  /** Why a stored command cannot be read (an unknown kind, inputs that are not a JSON object). */
  unreadable?: string
}

/** Everything one state change writes, committed in one transaction. */
export interface Commit {
  execution?: ExecutionSummary
  taskRuns?: readonly TaskRun[]
  logs?: readonly LogEntry[]
  /** Task run attempts handed to the workers, committed with the attempt's state. */
  enqueue?: readonly QueuedTaskRun[]
  /** Queue entries whose result the executor has recorded (removed with that state). */
  dequeue?: readonly string[]
  /** The executor node that advances `execution` from now on (its lease, SPEC 9); null: any. */
  executorId?: string | null
  /**
   * `execution` is new: written only if no execution has its id, otherwise nothing is written and
   * the commit throws `EXECUTION_EXISTS` (the primary key decides between two starts of one id).
   */
  create?: boolean
  /**
   * Commit only while this executor still holds this execution (a fence): otherwise nothing is
   * written and the commit throws `LeaseLostError`.
   */
  lease?: { executionId: string; executorId: string }
}

/** One attempt of a task run handed to the workers through the queue. */
export interface QueuedTaskRun {
  /** `<taskRunId>:<attempt>`. */
  id: string
  executionId: string
  taskRunId: string
  attempt: number
  /** What the worker needs to run it, as JSON (`TaskJob`). */
  payload: string
}

export type QueueEntryState = 'QUEUED' | 'RUNNING' | 'DONE'

/** A queue entry as the executor sees it when it resumes an execution. */
export interface QueueEntry {
  id: string
  executionId: string
  taskRunId: string
  attempt: number
  state: QueueEntryState
  /** The node that claimed it (RUNNING, DONE). */
  nodeId?: string
  /** The worker's result (DONE), as JSON (`TaskResult`). */
  result?: string
}

/** A runtime process (a node) and its heartbeat. */
export interface NodeRecord {
  id: string
  roles: string[]
  /** `os.hostname()` and the process id: a dead process on the same host is seen at once. */
  host: string
  pid: number
  slots: number
  slotsInUse: number
  startedAt: string
  heartbeatAt: string
  /** The plugin versions this node has loaded (`name@version`). */
  plugins?: string[]
}

/** One plugin version of the cluster's installed set (SPEC 9). */
export interface ClusterPlugin {
  name: string
  version: string
  /** False once uninstalled through an api: every node removes it. */
  installed: boolean
  updatedAt: string
}

/** A named lease (the active scheduler): who holds it and until when. */
export interface Lease {
  name: string
  holder: string
  /** Epoch milliseconds. */
  expiresAt: number
}

/**
 * The runtime's persistence: flows with revisions, executions and task runs (written through on
 * every state change), logs, namespace KV and trigger state. The SQLite store implements it over
 * kysely, so a PostgreSQL store can follow with the same queries.
 */
export interface Store {
  /** Users, API tokens and UI sessions. */
  readonly auth: AuthStore
  saveFlow(flow: { namespace: string; id: string; source: string }): Promise<SaveFlowResult>
  /** A revision, or the latest live one. Deleted flows are not found without a revision. */
  getFlow(namespace: string, id: string, revision?: number): Promise<StoredFlow | undefined>
  /** The latest revision of every live flow, optionally in one namespace (and below). */
  listFlows(namespace?: string): Promise<StoredFlow[]>
  listFlowRevisions(namespace: string, id: string): Promise<StoredFlow[]>
  /**
   * How many flow revisions are stored. Revisions are never removed (a deletion is one more), so
   * it changes with every save and deletion: what a reader derived from `listFlows` holds while
   * it is the same.
   */
  flowsVersion(): Promise<number>
  /** Records a deletion as a new revision; false when there was no live flow. */
  deleteFlow(namespace: string, id: string): Promise<boolean>

  commit(changes: Commit): Promise<void>
  getExecution(id: string): Promise<Execution | undefined>
  /** Newest first; `page` starts at 1. */
  listExecutions(
    filter: ExecutionFilter,
    page: number,
    size: number,
  ): Promise<Page<ExecutionSummary>>
  /**
   * Executions in a final state whose last write is at or after `since` (ISO), oldest write
   * first, `limit` (default 200) at a time after the `after` cursor: keyset pagination over an
   * index, so the cost follows the rows returned, not the history stored (the scheduler's replay).
   */
  listExecutionsEndedSince(
    since: string,
    options?: { after?: EndedExecutionCursor; limit?: number },
  ): Promise<EndedExecutionCursor[]>
  /** Executions not in a final state (to resume after a restart), oldest first. */
  listUnfinishedExecutions(): Promise<Execution[]>
  listLogs(executionId: string, query?: LogQuery): Promise<StoredLogEntry[]>

  /**
   * Claims up to `limit` queued task runs for a node, oldest first: each is claimed by one node
   * only. Returns their ids and payloads.
   */
  claimTaskRuns(nodeId: string, limit: number): Promise<Array<{ id: string; payload: string }>>
  /**
   * Calls `listener` soon after another process commits queued task runs (`queued`), workers'
   * results (`results`) or executions left for any executor (`created`): PostgreSQL's
   * LISTEN/NOTIFY, one notification per commit batch. Absent
   * where one process owns the store (SQLite). A hint only: callers keep polling as a fallback.
   * Resolves to a function that stops listening.
   */
  listen?(channel: QueueChannel, listener: () => void): Promise<() => void>
  /** Records workers' results (and the log lines written meanwhile) in one transaction. */
  completeTaskRuns(
    results: ReadonlyArray<{ id: string; result: string }>,
    logs: readonly LogEntry[],
  ): Promise<void>
  /** The queue entries of these ids that exist. */
  getQueueEntries(ids: readonly string[]): Promise<QueueEntry[]>
  /** Removes a queue entry no worker has claimed yet; false when one has (or it is gone). */
  cancelQueuedTaskRun(id: string): Promise<boolean>
  /**
   * Removes a queue entry a worker has claimed and not finished (its execution was killed): that
   * worker stops the attempt once it sees the entry gone — at once on PostgreSQL (`withdrawn`),
   * at its next heartbeat otherwise. False when there is no such entry (done, or gone).
   */
  withdrawTaskRun(id: string): Promise<boolean>
  /** How many task runs wait in the queue, unclaimed. */
  countQueuedTaskRuns(): Promise<number>
  /** Records a node or its new heartbeat. */
  saveNode(node: NodeRecord): Promise<void>
  listNodes(): Promise<NodeRecord[]>
  removeNode(id: string): Promise<void>
  /** Forgets nodes silent since before this date (gone either way: a missing node is dead). */
  removeNodesSilentSince(date: string): Promise<void>

  /**
   * Takes the lease of up to `limit` unfinished executions that no live executor holds (none, or
   * a holder not in `liveExecutors`) for `nodeId`, oldest first. Each is taken by compare-and-set
   * on its previous holder, so two executors never both take one. Returns the ids taken.
   */
  claimExecutions(
    nodeId: string,
    liveExecutors: readonly string[],
    limit: number,
  ): Promise<string[]>
  /** Unfinished executions whose lease `nodeId` holds. */
  countExecutionsOf(nodeId: string): Promise<number>
  /** Records a command for the executor of its execution, and tells it (`listen('commands')`). */
  recordCommand(command: Pick<ExecutionCommand, 'executionId' | 'kind' | 'inputs'>): Promise<void>
  /**
   * The commands `executorId` is to carry out or drop, oldest first, with their execution's state
   * now: those of the executions it holds, and those whose execution has ended (whoever held it)
   * or is gone (`executionState` undefined), which every executor drops.
   */
  listCommands(
    executorId: string,
  ): Promise<Array<ExecutionCommand & { executionState: ExecutionState | undefined }>>
  /** Removes commands carried out (or moot: their execution ended or is gone). */
  deleteCommands(seqs: readonly number[]): Promise<void>
  /**
   * Takes or renews a named lease for `ttlMs`: true when `holder` has it now (it was free,
   * expired, or already its own).
   */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean>
  /** Gives a lease up (only its holder can). */
  releaseLease(name: string, holder: string): Promise<void>
  getLease(name: string): Promise<Lease | undefined>

  /** The cluster's installed plugin set (and the versions uninstalled from it). */
  listClusterPlugins(): Promise<ClusterPlugin[]>
  setClusterPlugin(name: string, version: string, installed: boolean): Promise<void>

  kvGet(namespace: string, key: string): Promise<unknown>
  /**
   * Reads a KV value synchronously, for the `kv()` expression function (expressions render
   * synchronously). Stores that cannot read synchronously serve it from a cache.
   */
  kvGetNow(namespace: string, key: string): unknown
  /** `expiresAt` in epoch milliseconds. */
  kvSet(namespace: string, key: string, value: unknown, expiresAt?: number): Promise<void>
  kvDelete(namespace: string, key: string): Promise<boolean>
  kvKeys(namespace: string, prefix?: string): Promise<string[]>

  triggerStateGet(
    namespace: string,
    flowId: string,
    triggerId: string,
    key: string,
  ): Promise<unknown>
  triggerStateSet(
    namespace: string,
    flowId: string,
    triggerId: string,
    key: string,
    value: unknown,
  ): Promise<void>
  /** Every trigger state row, optionally of one namespace and flow, or of one key (scheduler, API). */
  triggerStateList(filter?: {
    namespace?: string
    flowId?: string
    key?: string
  }): Promise<TriggerStateRow[]>
  /** Deletes a trigger's state: one key, or every key when none is given. */
  triggerStateDelete(
    namespace: string,
    flowId: string,
    triggerId: string,
    key?: string,
  ): Promise<void>

  close(): Promise<void>
}

/** One row of `listExecutionsEndedSince`, and the cursor to pass for the next page. */
export interface EndedExecutionCursor {
  id: string
  updatedAt: string
}
