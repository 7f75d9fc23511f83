import { CompiledQuery, type Generated, type Kysely, type QueryResult, sql } from 'kysely'
import { LeaseLostError, RuntimeError } from '../errors.js'
import type {
  Execution,
  ExecutionState,
  ExecutionSummary,
  LogEntry,
  TaskRun,
} from '../executor/execution-model.js'
import { logLevelRank } from '../executor/execution-model.js'
import { type AuthDatabase, createAuthStore } from './auth-store.js'
import type { StoreDialectName } from './migrations.js'
import type {
  Commit,
  ExecutionCommand,
  QueueChannel,
  QueueEntryState,
  Store,
  StoredFlow,
  StoredLogEntry,
} from './store.js'

/**
 * One statement of a write. `check` sees its result, and throws to refuse the write — only when
 * the statement itself wrote nothing.
 */
interface Statement {
  query: CompiledQuery
  check?: (result: QueryResult<unknown>) => void
  /**
   * What to run when the write is repeated after the connection was lost during its COMMIT (it
   * may have been written): the query itself where running it twice is harmless. Without it such
   * a write is not repeated.
   */
  again?: CompiledQuery
}

/** A statement that may run twice (an upsert, an update, a delete): repeated as it is. */
const repeatable = (query: CompiledQuery): Statement => ({ query, again: query })

/** Server and socket error codes of a connection lost or refused (PostgreSQL: class 08, 57P0x). */
const CONNECTION_LOST = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  '57P01',
  '57P02',
  '57P03',
])

/** A connection that could not be made, or was known dead before the query went out. */
const NEVER_SENT = new Set(['ECONNREFUSED', '57P03', '08001', '08004'])
/** pg's messages for a query on a connection it already knows is dead. */
const DEAD_CLIENT = /not queryable|Client was closed/

const codeOf = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

const neverSent = (error: unknown): boolean =>
  NEVER_SENT.has(codeOf(error) ?? '') || (error instanceof Error && DEAD_CLIENT.test(error.message))

/** True for an error of a lost database connection (a restart, a failover), not of the query. */
export function isConnectionLost(error: unknown): boolean {
  const code = codeOf(error)
  if (code !== undefined && (CONNECTION_LOST.has(code) || /^08[0-9A-Z]{3}$/.test(code))) {
    return true
  }
  return (
    error instanceof Error &&
    (/Connection terminated/.test(error.message) || DEAD_CLIENT.test(error.message))
  )
}

/** Task runs one upsert statement writes at most (5 parameters each). */
const TASK_RUNS_PER_STATEMENT = 32

interface PendingCommit {
  changes: Commit
  resolve: () => void
  reject: (error: unknown) => void
}

interface FlowsTable {
  namespace: string
  id: string
  revision: number
  source: string
  deleted: number
  created_at: string
}

interface ExecutionsTable {
  id: string
  namespace: string
  flow_id: string
  flow_revision: number
  state: string
  parent_id: string | null
  created_at: string
  updated_at: string
  value: string
  executor_id: Generated<string | null>
}

interface TaskRunsTable {
  id: string
  execution_id: string
  sequence: number
  state: string
  value: string
}

interface LogsTable {
  id: Generated<number>
  execution_id: string
  task_run_id: string | null
  task_id: string | null
  attempt: number | null
  level: string
  level_rank: number
  timestamp: string
  message: string
}

interface KvTable {
  namespace: string
  key: string
  value: string
  expires_at: number | null
  updated_at: string
}

interface TriggerStateTable {
  namespace: string
  flow_id: string
  trigger_id: string
  key: string
  value: string
  updated_at: string
}

interface TaskQueueTable {
  seq: Generated<number>
  id: string
  execution_id: string
  task_run_id: string
  attempt: number
  state: string
  node_id: string | null
  enqueued_at: string
  claimed_at: string | null
  payload: string
  result: string | null
}

interface NodesTable {
  id: string
  roles: string
  host: string
  pid: number
  slots: number
  slots_in_use: number
  started_at: string
  heartbeat_at: string
  plugins: Generated<string>
}

interface LeasesTable {
  name: string
  holder: string
  expires_at: number
}

interface ExecutionCommandsTable {
  seq: Generated<number>
  execution_id: string
  kind: string
  inputs: string | null
  created_at: string
}

interface ClusterPluginsTable {
  name: string
  version: string
  installed: number
  updated_at: string
}

/** The tables, for kysely's types. */
export interface KiteDatabase extends AuthDatabase {
  task_queue: TaskQueueTable
  nodes: NodesTable
  leases: LeasesTable
  cluster_plugins: ClusterPluginsTable
  execution_commands: ExecutionCommandsTable
  flows: FlowsTable
  executions: ExecutionsTable
  task_runs: TaskRunsTable
  logs: LogsTable
  kv: KvTable
  trigger_state: TriggerStateTable
}

const UNFINISHED = ['CREATED', 'RUNNING', 'PAUSED', 'KILLING']

/** What differs between the dialects, isolated in one place; everything else is one code path. */
export interface KyselyStoreOptions {
  dialect: StoreDialectName
  /**
   * A synchronous KV read for `kv()` in expressions; without one, the store serves it from a
   * cache of the values it has read or written, refreshed in the background on every read.
   */
  kvGetNow?: (
    namespace: string,
    key: string,
  ) => { value: string; expires_at: number | null } | undefined
  /** Called once on close, after kysely's own connections are closed. */
  onClose?: () => Promise<void>
  /**
   * Group-commit transactions written at once (default 1). One keeps the commits in the order
   * they were asked for (SQLite has one writer anyway); a pool of connections (PostgreSQL) writes
   * several batches side by side, so round trips overlap and the server merges their fsyncs.
   */
  commitWriters?: number
  /**
   * The most commits one group-commit transaction writes (default 256). On PostgreSQL, where a
   * batch's statements are round trips on one connection, small batches side by side measured
   * faster than large ones (`npm run bench throughput`).
   */
  commitBatch?: number
  /** Notifications between processes (PostgreSQL): see `Store.listen`. */
  listen?: Store['listen']
  /**
   * How long a write is tried again while the database cannot be reached (default 60 s): a
   * PostgreSQL restart or failover delays commits instead of failing executions.
   */
  reconnectForMs?: number
}

/** A JSON object, or why the text is not one. */
function parseObject(text: string): Record<string, unknown> | string {
  try {
    const value: unknown = JSON.parse(text)
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>
    }
    return 'are not a JSON object'
  } catch (error) {
    return `are not JSON: ${error instanceof Error ? error.message : String(error)}`
  }
}

/** The PostgreSQL channel of each `Store.listen` channel. */
export const NOTIFY_CHANNELS = {
  queued: 'kite_task_queued',
  results: 'kite_task_results',
  created: 'kite_execution_created',
  commands: 'kite_execution_command',
  withdrawn: 'kite_task_withdrawn',
} as const

/**
 * Queue entries waiting for a worker. A literal, not a parameter: a planner uses the partial
 * index `task_queue_queued` (migration 0007) only for a condition it can see matches the index's.
 */
const QUEUED = sql.lit<QueueEntryState>('QUEUED')

/**
 * The workers' claim (`claimTaskRuns`): the oldest queued entries, as many as its one parameter.
 * Concurrent claimers on PostgreSQL skip each other's rows instead of waiting or claiming them
 * twice; SQLite's writer lock serialises the transaction already.
 */
export function compileClaimQuery(db: Kysely<KiteDatabase>, dialect: StoreDialectName): string {
  const select = db
    .selectFrom('task_queue')
    .select(['seq', 'id', 'payload'])
    .where('state', '=', QUEUED)
    .orderBy('seq')
    .limit(0)
  return (dialect === 'postgres' ? select.forUpdate().skipLocked() : select).compile().sql
}

/**
 * The store over kysely, for every dialect: flows, executions, task runs, logs, the durable queue,
 * nodes, KV and trigger state. The hot writes (execution, task run, logs) are compiled once and
 * run with new parameters in one small transaction per state change (a single statement needs no
 * BEGIN and COMMIT: see `writeAtomically`).
 */
export async function createKyselyStore(
  db: Kysely<KiteDatabase>,
  options: KyselyStoreOptions,
): Promise<Store> {
  const postgres = options.dialect === 'postgres'
  // An execution's row written whole: parameters in `executionParams` order.
  const executionRow = () =>
    db.insertInto('executions').values({
      id: '',
      namespace: '',
      flow_id: '',
      flow_revision: 0,
      state: '',
      parent_id: null,
      created_at: '',
      updated_at: '',
      value: '',
    })
  const upsertExecution = executionRow()
    .onConflict((conflict) =>
      conflict.column('id').doUpdateSet((eb) => ({
        state: eb.ref('excluded.state'),
        updated_at: eb.ref('excluded.updated_at'),
        value: eb.ref('excluded.value'),
      })),
    )
    .compile().sql
  const insertExecution = executionRow()
    .onConflict((conflict) => conflict.column('id').doNothing())
    .compile().sql
  // A start repeated after a connection lost during its COMMIT: the row it finds is its own when
  // it is the very same row (the write went through), another start's otherwise.
  const insertExecutionAgain = executionRow()
    .onConflict((conflict) =>
      conflict
        .column('id')
        .doUpdateSet((eb) => ({ updated_at: eb.ref('excluded.updated_at') }))
        .where((eb) => eb('executions.value', '=', eb.ref('excluded.value'))),
    )
    .compile().sql
  // The task runs' upsert for each number of rows written at once (see `upsertTaskRuns`).
  const upsertTaskRunsSql = new Map<number, string>()
  // Parameters: executor, execution, executor.
  const renewLease = db
    .updateTable('executions')
    .set({ executor_id: '' })
    .where('id', '=', '')
    .where('executor_id', '=', '')
    .compile().sql
  // Parameters: executor (or null), execution.
  const setExecutor = db
    .updateTable('executions')
    .set({ executor_id: '' })
    .where('id', '=', '')
    .compile().sql
  const notifyChannel = sql`select pg_notify(${''}, '')`.compile(db).sql
  const insertLog = db
    .insertInto('logs')
    .values({
      execution_id: '',
      task_run_id: null,
      task_id: null,
      attempt: null,
      level: '',
      level_rank: 0,
      timestamp: '',
      message: '',
    })
    .compile().sql
  // A new entry waits for any worker: no node, not claimed.
  const queuedRow = () =>
    db.insertInto('task_queue').values({
      id: '',
      execution_id: '',
      task_run_id: '',
      attempt: 0,
      state: QUEUED,
      enqueued_at: '',
      payload: '',
    })
  const insertQueued = queuedRow().compile().sql
  const insertQueuedIfAbsent = queuedRow()
    .onConflict((conflict) => conflict.column('id').doNothing())
    .compile().sql
  const deleteQueued = db.deleteFrom('task_queue').where('id', '=', '').compile().sql
  // Parameters: node, claim mark, 'RUNNING'.
  const selectClaimedBy = db
    .selectFrom('task_queue')
    .select(['id', 'payload'])
    .where('node_id', '=', '')
    .where('claimed_at', '=', '')
    .where('state', '=', '')
    .orderBy('seq')
    .compile().sql
  // Parameters: id, the state it must be in.
  const deleteQueuedIn = db
    .deleteFrom('task_queue')
    .where('id', '=', '')
    .where('state', '=', '')
    .compile().sql
  const completeQueued = db
    .updateTable('task_queue')
    .set({ state: 'DONE', result: '' })
    .where('id', '=', '')
    .compile().sql
  // The hot reads and the webhook's record write, compiled once too.
  const selectLatestRevision = db
    .selectFrom('flows')
    .selectAll()
    .where('namespace', '=', '')
    .where('id', '=', '')
    .orderBy('revision', 'desc')
    .limit(1)
    .compile().sql
  const countFlows = db
    .selectFrom('flows')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .compile().sql
  const selectExecution = db.selectFrom('executions').selectAll().where('id', '=', '').compile().sql
  const selectTaskRuns = db
    .selectFrom('task_runs')
    .select('value')
    .where('execution_id', '=', '')
    .orderBy('sequence')
    .compile().sql
  const selectQueued = compileClaimQuery(db, options.dialect)
  const upsertTriggerState = db
    .insertInto('trigger_state')
    .values({ namespace: '', flow_id: '', trigger_id: '', key: '', value: '', updated_at: '' })
    .onConflict((conflict) =>
      conflict.columns(['namespace', 'flow_id', 'trigger_id', 'key']).doUpdateSet((eb) => ({
        value: eb.ref('excluded.value'),
        updated_at: eb.ref('excluded.updated_at'),
      })),
    )
    .compile().sql
  /** Runs a query compiled once with these parameters; its rows. */
  const rowsOf = async <Row>(
    text: string,
    parameters: readonly unknown[],
    on: Kysely<KiteDatabase> = db,
  ): Promise<Row[]> => (await on.executeQuery<Row>(CompiledQuery.raw(text, [...parameters]))).rows

  // Where reads cannot be synchronous (PostgreSQL), `kv()` reads this cache: every value this
  // store has read or written, refreshed in the background whenever `kv()` reads it.
  type KvRow = { value: string; expires_at: number | null }
  const kvCache = new Map<string, KvRow | undefined>()
  const kvCacheKey = (namespace: string, key: string) => JSON.stringify([namespace, key])
  // Bumped by every write here: a read that started before a write must not cache what it saw.
  let kvWrites = 0

  const executionParams = (execution: ExecutionSummary) => [
    execution.id,
    execution.namespace,
    execution.flowId,
    execution.flowRevision,
    execution.state.current,
    execution.parent?.executionId ?? null,
    execution.state.startDate,
    new Date().toISOString(),
    JSON.stringify(execution),
  ]

  const toFlow = (row: FlowsTable): StoredFlow => ({
    namespace: row.namespace,
    id: row.id,
    revision: row.revision,
    source: row.source,
    deleted: row.deleted === 1,
    createdAt: row.created_at,
  })

  /** The newest revision row of a flow (deleted or not), read through `on` (a transaction). */
  const latestRevision = async (namespace: string, id: string, on: Kysely<KiteDatabase> = db) =>
    (await rowsOf<FlowsTable>(selectLatestRevision, [namespace, id, 1], on))[0]

  const liveKv = (row: { value: string; expires_at: number | null } | undefined): unknown => {
    if (!row) return undefined
    if (row.expires_at !== null && row.expires_at <= Date.now()) return undefined
    return JSON.parse(row.value)
  }

  const escapeLike = (text: string) => text.replace(/[\\%_]/g, (char) => `\\${char}`)

  // Repeated after a connection lost during its COMMIT, a line may be written twice.
  const insertLogs = (logs: readonly LogEntry[]): Statement[] =>
    logs.map((line) =>
      repeatable(
        CompiledQuery.raw(insertLog, [
          line.executionId,
          line.taskRunId ?? null,
          line.taskId ?? null,
          line.attemptNumber ?? null,
          line.level,
          logLevelRank(line.level),
          line.timestamp,
          line.message,
        ]),
      ),
    )

  const notify = (channel: QueueChannel): Statement =>
    repeatable(CompiledQuery.raw(notifyChannel, [NOTIFY_CHANNELS[channel]]))

  /** The task runs' upsert, one statement for up to `TASK_RUNS_PER_STATEMENT` of them. */
  const upsertTaskRuns = (runs: readonly TaskRun[]): Statement => {
    let text = upsertTaskRunsSql.get(runs.length)
    if (!text) {
      const row = { id: '', execution_id: '', sequence: 0, state: '', value: '' }
      text = db
        .insertInto('task_runs')
        .values(runs.map(() => row))
        .onConflict((conflict) =>
          conflict.column('id').doUpdateSet((eb) => ({
            state: eb.ref('excluded.state'),
            value: eb.ref('excluded.value'),
          })),
        )
        .compile().sql
      upsertTaskRunsSql.set(runs.length, text)
    }
    const params = runs.flatMap((run) => [
      run.id,
      run.executionId,
      run.sequence,
      run.state.current,
      JSON.stringify(run),
    ])
    return repeatable(CompiledQuery.raw(text, params))
  }

  /**
   * Everything one `commit` writes, as statements in order. A statement's `check` may refuse it
   * only when it wrote nothing (no row updated or inserted), so that a batch of one statement can
   * run without a transaction around it (see `writeBatch`).
   */
  const statementsOf = (changes: Commit): Statement[] => {
    const { execution, taskRuns = [], logs = [], enqueue = [], dequeue = [], lease } = changes
    const statements: Statement[] = []
    if (lease) {
      // Locks the row too: a takeover waits for this commit, then this executor's next one fails.
      const query = CompiledQuery.raw(renewLease, [
        lease.executorId,
        lease.executionId,
        lease.executorId,
      ])
      statements.push({
        query,
        again: query,
        check: (result) => {
          if (Number(result.numAffectedRows ?? 0) === 0) {
            throw new LeaseLostError(lease.executionId, lease.executorId)
          }
        },
      })
    }
    for (const id of dequeue) statements.push(repeatable(CompiledQuery.raw(deleteQueued, [id])))
    if (enqueue.length > 0) {
      const date = new Date().toISOString()
      for (const entry of enqueue) {
        const params = [
          entry.id,
          entry.executionId,
          entry.taskRunId,
          entry.attempt,
          date,
          entry.payload,
        ]
        statements.push({
          query: CompiledQuery.raw(insertQueued, params),
          // Written already, the entry is the same (its id names the attempt).
          again: CompiledQuery.raw(insertQueuedIfAbsent, params),
        })
      }
    }
    if (execution) {
      const params = executionParams(execution)
      if (changes.create) {
        statements.push({
          query: CompiledQuery.raw(insertExecution, params),
          again: CompiledQuery.raw(insertExecutionAgain, params),
          check: (result) => {
            if (Number(result.numAffectedRows ?? 0) === 0) {
              throw new RuntimeError(`execution ${execution.id} exists already`, {
                code: 'EXECUTION_EXISTS',
              })
            }
          },
        })
      } else {
        statements.push(repeatable(CompiledQuery.raw(upsertExecution, params)))
      }
      if (changes.executorId !== undefined) {
        statements.push(
          repeatable(CompiledQuery.raw(setExecutor, [changes.executorId, execution.id])),
        )
      }
    }
    // One upsert for several task runs: on PostgreSQL each statement is a round trip. One
    // statement may not write a row twice, so a run listed twice is written as last listed.
    const runs = [...new Map(taskRuns.map((run) => [run.id, run])).values()]
    for (let at = 0; at < runs.length; at += TASK_RUNS_PER_STATEMENT) {
      statements.push(upsertTaskRuns(runs.slice(at, at + TASK_RUNS_PER_STATEMENT)))
    }
    statements.push(...insertLogs(logs))
    return statements
  }

  /** Runs `statements` in order on `executor`, each checked (`again` their repeats). */
  const runStatements = async (
    executor: Kysely<KiteDatabase>,
    statements: Statement[],
    again = false,
  ) => {
    for (const statement of statements) {
      const result = await executor.executeQuery(again ? statement.again! : statement.query)
      statement.check?.(result)
    }
  }

  /**
   * Writes `statements` atomically. One statement is a transaction by itself: no BEGIN and
   * COMMIT, which on PostgreSQL are two round trips of the three a warm task's state change
   * took (its commit is one upsert of the run that ended and the one that starts).
   * `progress.committing` turns true once the outcome could be a commit (the COMMIT, or the one
   * statement, sent): a connection lost before that left nothing written. (A failed COMMIT's
   * error can be the ROLLBACK's that follows it, so it is told by where it failed, not by what
   * the error says.)
   */
  const writeAtomically = async (
    statements: Statement[],
    progress: { committing: boolean; again: boolean },
  ): Promise<void> => {
    if (statements.length === 0) return
    if (statements.length === 1) {
      // Unless it never went out (a connection known dead, or none made).
      progress.committing = true
      try {
        return await runStatements(db, statements, progress.again)
      } catch (error) {
        if (neverSent(error)) progress.committing = false
        throw error
      }
    }
    await db.transaction().execute(async (trx) => {
      await runStatements(trx, statements, progress.again)
      progress.committing = true
    })
  }

  /**
   * Runs `attempt` again, with growing pauses, while it fails because the connection to the
   * database is lost, for up to `reconnectForMs`; `beforeAgain` may throw to stop.
   */
  const reconnectForMs = options.reconnectForMs ?? 60_000
  const untilReconnected = async <T>(
    attempt: () => Promise<T>,
    beforeAgain?: (error: unknown) => void,
  ): Promise<T> => {
    const deadline = Date.now() + reconnectForMs
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      try {
        return await attempt()
      } catch (error) {
        if (!isConnectionLost(error) || Date.now() + delay > deadline) throw error
        beforeAgain?.(error)
        await new Promise((resolve) => setTimeout(resolve, delay))
      }
    }
  }

  /**
   * `writeAtomically`, tried again while the connection to the database is lost (PostgreSQL
   * restarting or failing over) for up to `reconnectForMs`. A write lost during its COMMIT may
   * have been written: it is repeated only where every statement has its `again`.
   */
  const write = (statements: Statement[]): Promise<void> => {
    const progress = { committing: false, again: false }
    return untilReconnected(
      () => writeAtomically(statements, progress),
      (error) => {
        if (progress.committing) {
          if (!statements.every((statement) => statement.again)) throw error
          progress.again = true
        }
        progress.committing = false
      },
    )
  }

  /** Removes a queue entry if it is in `state`; true when one went. */
  const removeEntryIn = async (id: string, state: QueueEntryState): Promise<boolean> => {
    let removed = false
    const remove = CompiledQuery.raw(deleteQueuedIn, [id, state])
    await write([
      {
        query: remove,
        // Repeated, it finds nothing: what the first run did counts.
        again: remove,
        check: (result) => {
          removed ||= Number(result.numAffectedRows ?? 0) > 0
        },
      },
    ])
    return removed
  }

  // Group commit: the commits asked for in one turn of the event loop, or while a transaction is
  // being written, go out together in the next transaction: one COMMIT (one WAL write, one fsync
  // on PostgreSQL) for many state changes. Each caller's promise settles once its own changes are
  // committed, so nothing acts on a state before it is written; a change that fails its batch is
  // written again alone, so it fails by itself. With one writer (SQLite) batches go out in the
  // order asked for; PostgreSQL writes several small batches side by side (`commitWriters`).
  const pendingCommits: PendingCommit[] = []
  const writers = new Set<Promise<void>>()
  const maxWriters = options.commitWriters ?? 1
  const maxBatch = options.commitBatch ?? 256
  let commitScheduled = false
  const writeBatch = async (batch: readonly PendingCommit[]) => {
    const statements = batch.flatMap((pending) => statementsOf(pending.changes))
    if (postgres) {
      // One NOTIFY per batch: PostgreSQL serialises the commits of notifying transactions.
      if (batch.some(({ changes }) => (changes.enqueue?.length ?? 0) > 0)) {
        statements.push(notify('queued'))
      }
      // Executions left for any executor (an api node's) wake the executors' takeover.
      if (batch.some(({ changes }) => changes.execution && changes.executorId === null)) {
        statements.push(notify('created'))
      }
    }
    return write(statements)
  }
  const drainCommits = async () => {
    while (pendingCommits.length > 0) {
      const batch = pendingCommits.splice(0, maxBatch)
      try {
        await writeBatch(batch)
        for (const pending of batch) pending.resolve()
      } catch (error) {
        // The database stayed out of reach: written alone, each would wait as long again.
        if (batch.length === 1 || isConnectionLost(error)) {
          for (const pending of batch) pending.reject(error)
          continue
        }
        for (const pending of batch) {
          await writeBatch([pending]).then(pending.resolve, pending.reject)
        }
      }
    }
  }
  /** Starts writers up to the limit while commits wait; resolves when they are all written. */
  const startCommits = async () => {
    while (writers.size < maxWriters && pendingCommits.length > 0) {
      const writer: Promise<void> = drainCommits().finally(() => {
        writers.delete(writer)
        // Asked for between the last batch and now.
        if (pendingCommits.length > 0) scheduleCommits()
      })
      writers.add(writer)
    }
    await Promise.all(writers)
  }
  const scheduleCommits = () => {
    if (commitScheduled || writers.size >= maxWriters) return
    commitScheduled = true
    setImmediate(() => {
      commitScheduled = false
      void startCommits()
    })
  }

  const withTaskRuns = async (row: Pick<ExecutionsTable, 'id' | 'value'>): Promise<Execution> => {
    const runs = await rowsOf<{ value: string }>(selectTaskRuns, [row.id])
    return {
      ...(JSON.parse(row.value) as ExecutionSummary),
      taskRunList: runs.map((run) => JSON.parse(run.value) as TaskRun),
    }
  }

  let closed = false
  const store: Store = {
    auth: createAuthStore(db),
    ...(options.listen ? { listen: options.listen } : {}),
    async saveFlow(flow) {
      return db.transaction().execute(async (trx) => {
        const latest = await latestRevision(flow.namespace, flow.id, trx)
        if (latest && latest.deleted === 0 && latest.source === flow.source) {
          return { revision: latest.revision, changed: false, created: false }
        }
        const revision = (latest?.revision ?? 0) + 1
        await trx
          .insertInto('flows')
          .values({
            namespace: flow.namespace,
            id: flow.id,
            revision,
            source: flow.source,
            deleted: 0,
            created_at: new Date().toISOString(),
          })
          .execute()
        return { revision, changed: true, created: !latest || latest.deleted === 1 }
      })
    },

    async getFlow(namespace, id, revision) {
      if (revision === undefined) {
        const latest = await latestRevision(namespace, id)
        return latest && latest.deleted === 0 ? toFlow(latest) : undefined
      }
      const row = await db
        .selectFrom('flows')
        .selectAll()
        .where('namespace', '=', namespace)
        .where('id', '=', id)
        .where('revision', '=', revision)
        .executeTakeFirst()
      return row && row.deleted === 0 ? toFlow(row) : undefined
    },

    async listFlows(namespace) {
      let query = db
        .selectFrom('flows as f')
        .innerJoin(
          db
            .selectFrom('flows')
            .select(['namespace', 'id', (eb) => eb.fn.max('revision').as('revision')])
            .groupBy(['namespace', 'id'])
            .as('latest'),
          (join) =>
            join
              .onRef('latest.namespace', '=', 'f.namespace')
              .onRef('latest.id', '=', 'f.id')
              .onRef('latest.revision', '=', 'f.revision'),
        )
        .selectAll('f')
        .where('f.deleted', '=', 0)
      if (namespace !== undefined) {
        query = query.where((eb) =>
          eb.or([
            eb('f.namespace', '=', namespace),
            eb('f.namespace', 'like', sql<string>`${`${escapeLike(namespace)}.%`} escape '\\'`),
          ]),
        )
      }
      const rows = await query.orderBy('f.namespace').orderBy('f.id').execute()
      return rows.map(toFlow)
    },

    async listFlowRevisions(namespace, id) {
      const rows = await db
        .selectFrom('flows')
        .selectAll()
        .where('namespace', '=', namespace)
        .where('id', '=', id)
        .orderBy('revision')
        .execute()
      return rows.map(toFlow)
    },

    async flowsVersion() {
      const [row] = await rowsOf<{ count: number | string }>(countFlows, [])
      return Number(row?.count ?? 0)
    },

    async deleteFlow(namespace, id) {
      return db.transaction().execute(async (trx) => {
        const latest = await latestRevision(namespace, id, trx)
        if (!latest || latest.deleted === 1) return false
        await trx
          .insertInto('flows')
          .values({
            ...latest,
            revision: latest.revision + 1,
            deleted: 1,
            created_at: new Date().toISOString(),
          })
          .execute()
        return true
      })
    },

    commit(changes) {
      const { execution, taskRuns = [], logs = [], enqueue = [], dequeue = [] } = changes
      if (
        !execution &&
        taskRuns.length === 0 &&
        logs.length === 0 &&
        enqueue.length === 0 &&
        dequeue.length === 0
      ) {
        return Promise.resolve()
      }
      return new Promise<void>((resolve, reject) => {
        pendingCommits.push({ changes, resolve, reject })
        scheduleCommits()
      })
    },

    async claimTaskRuns(nodeId, limit) {
      if (limit <= 0) return []
      // With the node, the claim's mark finds what it claimed should its COMMIT be lost.
      const claimedAt = new Date().toISOString()
      let committing = false
      try {
        return await db.transaction().execute(async (trx) => {
          const rows = await rowsOf<{ seq: number; id: string; payload: string }>(
            selectQueued,
            [limit],
            trx,
          )
          if (rows.length === 0) return []
          await trx
            .updateTable('task_queue')
            .set({ state: 'RUNNING', node_id: nodeId, claimed_at: claimedAt })
            .where(
              'seq',
              'in',
              rows.map((row) => row.seq),
            )
            .execute()
          committing = true
          return rows.map((row) => ({ id: row.id, payload: row.payload }))
        })
      } catch (error) {
        // Lost before its COMMIT, it claimed nothing: the worker's next look claims again.
        if (!committing || !isConnectionLost(error)) throw error
      }
      // Lost during its COMMIT: the entries it claimed, if it did, would wait for this node for
      // ever; read back by their mark once the database answers again.
      return untilReconnected(() =>
        rowsOf<{ id: string; payload: string }>(selectClaimedBy, [nodeId, claimedAt, 'RUNNING']),
      )
    },

    async completeTaskRuns(results, logs) {
      if (results.length === 0 && logs.length === 0) return
      const statements: Statement[] = results.map(({ id, result }) =>
        repeatable(CompiledQuery.raw(completeQueued, ['DONE', result, id])),
      )
      statements.push(...insertLogs(logs))
      if (postgres && results.length > 0) statements.push(notify('results'))
      await write(statements)
    },

    async getQueueEntries(ids) {
      if (ids.length === 0) return []
      const rows = await db
        .selectFrom('task_queue')
        .select(['id', 'execution_id', 'task_run_id', 'attempt', 'state', 'node_id', 'result'])
        .where('id', 'in', [...ids])
        .execute()
      return rows.map((row) => ({
        id: row.id,
        executionId: row.execution_id,
        taskRunId: row.task_run_id,
        attempt: row.attempt,
        state: row.state as QueueEntryState,
        ...(row.node_id === null ? {} : { nodeId: row.node_id }),
        ...(row.result === null ? {} : { result: row.result }),
      }))
    },

    cancelQueuedTaskRun: (id) => removeEntryIn(id, 'QUEUED'),

    async withdrawTaskRun(id) {
      const withdrawn = await removeEntryIn(id, 'RUNNING')
      // Workers look only when an entry went.
      if (withdrawn && postgres) await write([notify('withdrawn')])
      return withdrawn
    },

    async countQueuedTaskRuns() {
      const row = await db
        .selectFrom('task_queue')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('state', '=', QUEUED)
        .executeTakeFirstOrThrow()
      return Number(row.count)
    },

    async saveNode(node) {
      const values = {
        id: node.id,
        roles: node.roles.join(','),
        host: node.host,
        pid: node.pid,
        slots: node.slots,
        slots_in_use: node.slotsInUse,
        started_at: node.startedAt,
        heartbeat_at: node.heartbeatAt,
        plugins: (node.plugins ?? []).join(','),
      }
      await db
        .insertInto('nodes')
        .values(values)
        .onConflict((conflict) =>
          conflict.column('id').doUpdateSet({
            slots_in_use: node.slotsInUse,
            heartbeat_at: node.heartbeatAt,
            plugins: values.plugins,
          }),
        )
        .execute()
    },

    async listNodes() {
      const rows = await db.selectFrom('nodes').selectAll().orderBy('started_at').execute()
      return rows.map((row) => ({
        id: row.id,
        roles: row.roles === '' ? [] : row.roles.split(','),
        host: row.host,
        pid: row.pid,
        slots: row.slots,
        slotsInUse: row.slots_in_use,
        startedAt: row.started_at,
        heartbeatAt: row.heartbeat_at,
        plugins: row.plugins === '' ? [] : row.plugins.split(','),
      }))
    },

    async removeNode(id) {
      await db.deleteFrom('nodes').where('id', '=', id).execute()
    },

    async removeNodesSilentSince(date) {
      await db.deleteFrom('nodes').where('heartbeat_at', '<', date).execute()
    },

    async claimExecutions(nodeId, liveExecutors, limit) {
      if (limit <= 0) return []
      const candidates = await db
        .selectFrom('executions')
        .select(['id', 'executor_id'])
        .where('state', 'in', UNFINISHED)
        .where((eb) =>
          liveExecutors.length === 0
            ? eb.lit(true)
            : eb.or([eb('executor_id', 'is', null), eb('executor_id', 'not in', liveExecutors)]),
        )
        .where((eb) => eb.or([eb('executor_id', 'is', null), eb('executor_id', '!=', nodeId)]))
        .orderBy('created_at')
        .limit(limit)
        .execute()
      if (candidates.length === 0) return []
      // Compare-and-set on the holder each was judged by: another executor that took one
      // meanwhile keeps it.
      const taken = await db
        .updateTable('executions')
        .set({ executor_id: nodeId })
        .where((eb) =>
          eb.or(
            candidates.map((row) =>
              eb.and([
                eb('id', '=', row.id),
                row.executor_id === null
                  ? eb('executor_id', 'is', null)
                  : eb('executor_id', '=', row.executor_id),
                eb('state', 'in', UNFINISHED),
              ]),
            ),
          ),
        )
        .returning('id')
        .execute()
      return taken.map((row) => row.id)
    },

    async countExecutionsOf(nodeId) {
      const row = await db
        .selectFrom('executions')
        .select((eb) => eb.fn.countAll<number | string>().as('count'))
        .where('executor_id', '=', nodeId)
        .where('state', 'in', UNFINISHED)
        .executeTakeFirst()
      return Number(row?.count ?? 0)
    },

    async recordCommand(command) {
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('execution_commands')
          .values({
            execution_id: command.executionId,
            kind: command.kind,
            inputs: command.inputs === undefined ? null : JSON.stringify(command.inputs),
            created_at: new Date().toISOString(),
          })
          .execute()
        if (postgres) await runStatements(trx, [notify('commands')])
      })
    },

    async listCommands(executorId) {
      const rows = await db
        .selectFrom('execution_commands')
        .leftJoin('executions', 'executions.id', 'execution_commands.execution_id')
        .select([
          'execution_commands.seq',
          'execution_commands.execution_id',
          'execution_commands.kind',
          'execution_commands.inputs',
          'execution_commands.created_at',
          'executions.state',
        ])
        // Moot commands are for anyone to drop: an ended execution's holder may be gone for good.
        .where((eb) =>
          eb.or([
            eb('executions.executor_id', '=', executorId),
            eb('executions.state', 'not in', UNFINISHED),
            eb('executions.id', 'is', null),
          ]),
        )
        .orderBy('execution_commands.seq')
        .execute()
      return rows.map((row) => {
        const command = {
          seq: Number(row.seq),
          executionId: row.execution_id,
          kind: row.kind as ExecutionCommand['kind'],
          createdAt: row.created_at,
          executionState: (row.state ?? undefined) as ExecutionState | undefined,
        }
        if (row.kind !== 'kill' && row.kind !== 'resume') {
          return { ...command, unreadable: `unknown command "${row.kind}"` }
        }
        if (row.inputs === null) return command
        const inputs = parseObject(row.inputs)
        return typeof inputs === 'string'
          ? { ...command, unreadable: `its inputs ${inputs}` }
          : { ...command, inputs }
      })
    },

    async deleteCommands(seqs) {
      if (seqs.length === 0) return
      await db
        .deleteFrom('execution_commands')
        .where('seq', 'in', [...seqs])
        .execute()
    },

    async acquireLease(name, holder, ttlMs) {
      const now = Date.now()
      const row = await db
        .insertInto('leases')
        .values({ name, holder, expires_at: now + ttlMs })
        .onConflict((conflict) =>
          conflict
            .column('name')
            .doUpdateSet({ holder, expires_at: now + ttlMs })
            .where((eb) =>
              eb.or([eb('leases.holder', '=', holder), eb('leases.expires_at', '<', now)]),
            ),
        )
        .returning('holder')
        .executeTakeFirst()
      return row?.holder === holder
    },

    async releaseLease(name, holder) {
      await db.deleteFrom('leases').where('name', '=', name).where('holder', '=', holder).execute()
    },

    async getLease(name) {
      const row = await db
        .selectFrom('leases')
        .selectAll()
        .where('name', '=', name)
        .executeTakeFirst()
      return row
        ? { name: row.name, holder: row.holder, expiresAt: Number(row.expires_at) }
        : undefined
    },

    async listClusterPlugins() {
      const rows = await db
        .selectFrom('cluster_plugins')
        .selectAll()
        .orderBy('name')
        .orderBy('version')
        .execute()
      return rows.map((row) => ({
        name: row.name,
        version: row.version,
        installed: Boolean(row.installed),
        updatedAt: row.updated_at,
      }))
    },

    async setClusterPlugin(name, version, installed) {
      const values = {
        name,
        version,
        installed: installed ? 1 : 0,
        updated_at: new Date().toISOString(),
      }
      await db
        .insertInto('cluster_plugins')
        .values(values)
        .onConflict((conflict) =>
          conflict
            .columns(['name', 'version'])
            .doUpdateSet({ installed: values.installed, updated_at: values.updated_at }),
        )
        .execute()
    },

    async getExecution(id) {
      const [row] = await rowsOf<ExecutionsTable>(selectExecution, [id])
      return row ? withTaskRuns(row) : undefined
    },

    async listExecutions(filter, page, size) {
      let query = db.selectFrom('executions')
      if (filter.namespace !== undefined) {
        const namespace = filter.namespace
        query = query.where((eb) =>
          eb.or([
            eb('namespace', '=', namespace),
            eb('namespace', 'like', sql<string>`${`${escapeLike(namespace)}.%`} escape '\\'`),
          ]),
        )
      }
      if (filter.flowId !== undefined) query = query.where('flow_id', '=', filter.flowId)
      if (filter.states && filter.states.length > 0) {
        query = query.where('state', 'in', [...filter.states])
      }
      // Start dates are stored as `toISOString()` text, so text order is time order.
      if (filter.startedFrom !== undefined) {
        query = query.where('created_at', '>=', filter.startedFrom)
      }
      if (filter.startedBefore !== undefined) {
        query = query.where('created_at', '<', filter.startedBefore)
      }
      // Labels live in the execution's JSON: read there, so the hot write path stays as it is.
      for (const [key, value] of Object.entries(filter.labels ?? {})) {
        query = query.where(
          postgres
            ? sql<boolean>`(value::jsonb -> 'labels' ->> ${key}) = ${value}`
            : sql<boolean>`exists (select 1 from json_each(executions.value, '$.labels') where key = ${key} and value = ${value})`,
        )
      }
      const total = await query
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .executeTakeFirstOrThrow()
      const rows = await query
        .select('value')
        .orderBy('created_at', 'desc')
        // Insertion order breaks ties: SQLite's rowid; PostgreSQL has none, so the id.
        .orderBy(postgres ? sql`id` : sql`rowid`, 'desc')
        .limit(size)
        .offset((page - 1) * size)
        .execute()
      return {
        results: rows.map((row) => JSON.parse(row.value) as ExecutionSummary),
        total: Number(total.count),
        page,
        size,
      }
    },

    async listExecutionsEndedSince(since, options = {}) {
      const { after } = options
      let query = db
        .selectFrom('executions')
        .select(['id', 'updated_at'])
        .where('updated_at', '>=', since)
        .where('state', 'not in', UNFINISHED)
      if (after) {
        query = query.where((eb) =>
          eb.or([
            eb('updated_at', '>', after.updatedAt),
            eb.and([eb('updated_at', '=', after.updatedAt), eb('id', '>', after.id)]),
          ]),
        )
      }
      const rows = await query
        .orderBy('updated_at')
        .orderBy('id')
        .limit(options.limit ?? 200)
        .execute()
      return rows.map((row) => ({ id: row.id, updatedAt: row.updated_at }))
    },

    async listUnfinishedExecutions() {
      const rows = await db
        .selectFrom('executions')
        .selectAll()
        .where('state', 'in', UNFINISHED)
        .orderBy('created_at')
        .execute()
      return Promise.all(rows.map(withTaskRuns))
    },

    async listLogs(executionId, query = {}) {
      let select = db
        .selectFrom('logs')
        .selectAll()
        .where('execution_id', '=', executionId)
        .orderBy('id')
      if (query.minLevel) select = select.where('level_rank', '>=', logLevelRank(query.minLevel))
      if (query.taskId) select = select.where('task_id', '=', query.taskId)
      if (query.afterId !== undefined) select = select.where('id', '>', query.afterId)
      const rows = await select.execute()
      return rows.map(
        (row): StoredLogEntry => ({
          id: row.id,
          executionId: row.execution_id,
          ...(row.task_run_id === null ? {} : { taskRunId: row.task_run_id }),
          ...(row.task_id === null ? {} : { taskId: row.task_id }),
          ...(row.attempt === null ? {} : { attemptNumber: row.attempt }),
          level: row.level as StoredLogEntry['level'],
          message: row.message,
          timestamp: row.timestamp,
        }),
      )
    },

    async kvGet(namespace, key) {
      const writes = kvWrites
      const row = await db
        .selectFrom('kv')
        .select(['value', 'expires_at'])
        .where('namespace', '=', namespace)
        .where('key', '=', key)
        .executeTakeFirst()
      if (!options.kvGetNow && writes === kvWrites) kvCache.set(kvCacheKey(namespace, key), row)
      return liveKv(row)
    },

    kvGetNow(namespace, key) {
      if (options.kvGetNow) return liveKv(options.kvGetNow(namespace, key))
      const cacheKey = kvCacheKey(namespace, key)
      if (!closed) {
        // Refresh for the next read; a failed refresh keeps the cached value.
        store.kvGet(namespace, key).catch(() => undefined)
      }
      return liveKv(kvCache.get(cacheKey))
    },

    async kvSet(namespace, key, value, expiresAt) {
      const text = JSON.stringify(value ?? null)
      const cache = () => {
        kvWrites++
        if (!options.kvGetNow) {
          kvCache.set(kvCacheKey(namespace, key), { value: text, expires_at: expiresAt ?? null })
        }
      }
      // Before the write (reads see it at once) and after (a read that raced it is discarded).
      cache()
      await db
        .insertInto('kv')
        .values({
          namespace,
          key,
          value: text,
          expires_at: expiresAt ?? null,
          updated_at: new Date().toISOString(),
        })
        .onConflict((conflict) =>
          conflict.columns(['namespace', 'key']).doUpdateSet((eb) => ({
            value: eb.ref('excluded.value'),
            expires_at: eb.ref('excluded.expires_at'),
            updated_at: eb.ref('excluded.updated_at'),
          })),
        )
        .execute()
      cache()
    },

    async kvDelete(namespace, key) {
      const row = await db
        .deleteFrom('kv')
        .where('namespace', '=', namespace)
        .where('key', '=', key)
        .returning(['value', 'expires_at'])
        .executeTakeFirst()
      kvWrites++
      if (!options.kvGetNow) kvCache.delete(kvCacheKey(namespace, key))
      return liveKv(row) !== undefined
    },

    async kvKeys(namespace, prefix = '') {
      const rows = await db
        .selectFrom('kv')
        .select('key')
        .where('namespace', '=', namespace)
        .where('key', 'like', sql<string>`${`${escapeLike(prefix)}%`} escape '\\'`)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', Date.now())]))
        .orderBy('key')
        .execute()
      return rows.map((row) => row.key)
    },

    async triggerStateGet(namespace, flowId, triggerId, key) {
      const row = await db
        .selectFrom('trigger_state')
        .select('value')
        .where('namespace', '=', namespace)
        .where('flow_id', '=', flowId)
        .where('trigger_id', '=', triggerId)
        .where('key', '=', key)
        .executeTakeFirst()
      return row ? JSON.parse(row.value) : undefined
    },

    async triggerStateSet(namespace, flowId, triggerId, key, value) {
      await db.executeQuery(
        CompiledQuery.raw(upsertTriggerState, [
          namespace,
          flowId,
          triggerId,
          key,
          JSON.stringify(value ?? null),
          new Date().toISOString(),
        ]),
      )
    },

    async triggerStateList(filter = {}) {
      let query = db.selectFrom('trigger_state').selectAll()
      if (filter.namespace !== undefined) query = query.where('namespace', '=', filter.namespace)
      if (filter.flowId !== undefined) query = query.where('flow_id', '=', filter.flowId)
      if (filter.key !== undefined) query = query.where('key', '=', filter.key)
      const rows = await query
        .orderBy('namespace')
        .orderBy('flow_id')
        .orderBy('trigger_id')
        .execute()
      return rows.map((row) => ({
        namespace: row.namespace,
        flowId: row.flow_id,
        triggerId: row.trigger_id,
        key: row.key,
        value: JSON.parse(row.value),
        updatedAt: row.updated_at,
      }))
    },

    async triggerStateDelete(namespace, flowId, triggerId, key) {
      let query = db
        .deleteFrom('trigger_state')
        .where('namespace', '=', namespace)
        .where('flow_id', '=', flowId)
        .where('trigger_id', '=', triggerId)
      if (key !== undefined) query = query.where('key', '=', key)
      await query.execute()
    },

    async close() {
      if (closed) return
      closed = true
      // Commits already asked for are written first.
      while (pendingCommits.length > 0 || writers.size > 0) await startCommits()
      await db.destroy()
      await options.onClose?.()
    },
  }
  return store
}
