import { CompiledQuery, type Generated, type Kysely, sql } from 'kysely'
import type { Execution, ExecutionSummary, LogEntry, TaskRun } from '../executor/execution-model.js'
import { logLevelRank } from '../executor/execution-model.js'
import { type AuthDatabase, createAuthStore } from './auth-store.js'
import type { StoreDialectName } from './migrations.js'
import type { QueueEntryState, Store, StoredFlow, StoredLogEntry } from './store.js'

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
}

/** The tables, for kysely's types. */
export interface KiteDatabase extends AuthDatabase {
  task_queue: TaskQueueTable
  nodes: NodesTable
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
}

/**
 * The store over kysely, for every dialect: flows, executions, task runs, logs, the durable queue,
 * nodes, KV and trigger state. The hot writes (execution, task run, logs) are compiled once and
 * run with new parameters in one small transaction per state change.
 */
export async function createKyselyStore(
  db: Kysely<KiteDatabase>,
  options: KyselyStoreOptions,
): Promise<Store> {
  const postgres = options.dialect === 'postgres'
  const upsertExecution = db
    .insertInto('executions')
    .values({
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
    .onConflict((conflict) =>
      conflict.column('id').doUpdateSet((eb) => ({
        state: eb.ref('excluded.state'),
        updated_at: eb.ref('excluded.updated_at'),
        value: eb.ref('excluded.value'),
      })),
    )
    .compile().sql
  const upsertTaskRun = db
    .insertInto('task_runs')
    .values({ id: '', execution_id: '', sequence: 0, state: '', value: '' })
    .onConflict((conflict) =>
      conflict.column('id').doUpdateSet((eb) => ({
        state: eb.ref('excluded.state'),
        value: eb.ref('excluded.value'),
      })),
    )
    .compile().sql
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
  const insertQueued = db
    .insertInto('task_queue')
    .values({
      id: '',
      execution_id: '',
      task_run_id: '',
      attempt: 0,
      state: 'QUEUED',
      node_id: null,
      enqueued_at: '',
      claimed_at: null,
      payload: '',
    })
    .compile().sql
  const deleteQueued = db.deleteFrom('task_queue').where('id', '=', '').compile().sql
  const completeQueued = db
    .updateTable('task_queue')
    .set({ state: 'DONE', result: '' })
    .where('id', '=', '')
    .compile().sql
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
    on
      .selectFrom('flows')
      .selectAll()
      .where('namespace', '=', namespace)
      .where('id', '=', id)
      .orderBy('revision', 'desc')
      .limit(1)
      .executeTakeFirst()

  const liveKv = (row: { value: string; expires_at: number | null } | undefined): unknown => {
    if (!row) return undefined
    if (row.expires_at !== null && row.expires_at <= Date.now()) return undefined
    return JSON.parse(row.value)
  }

  const escapeLike = (text: string) => text.replace(/[\\%_]/g, (char) => `\\${char}`)

  const insertLogs = async (trx: Kysely<KiteDatabase>, logs: readonly LogEntry[]) => {
    for (const line of logs) {
      await trx.executeQuery(
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
      )
    }
  }

  const withTaskRuns = async (row: ExecutionsTable): Promise<Execution> => {
    const runs = await db
      .selectFrom('task_runs')
      .select('value')
      .where('execution_id', '=', row.id)
      .orderBy('sequence')
      .execute()
    return {
      ...(JSON.parse(row.value) as ExecutionSummary),
      taskRunList: runs.map((run) => JSON.parse(run.value) as TaskRun),
    }
  }

  let closed = false
  const store: Store = {
    auth: createAuthStore(db),
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

    async commit(changes) {
      const { execution, taskRuns = [], logs = [], enqueue = [], dequeue = [] } = changes
      if (
        !execution &&
        taskRuns.length === 0 &&
        logs.length === 0 &&
        enqueue.length === 0 &&
        dequeue.length === 0
      ) {
        return
      }
      await db.transaction().execute(async (trx) => {
        for (const id of dequeue) {
          await trx.executeQuery(CompiledQuery.raw(deleteQueued, [id]))
        }
        if (enqueue.length > 0) {
          const date = new Date().toISOString()
          for (const entry of enqueue) {
            await trx.executeQuery(
              CompiledQuery.raw(insertQueued, [
                entry.id,
                entry.executionId,
                entry.taskRunId,
                entry.attempt,
                entry.nodeId === undefined ? 'QUEUED' : 'RUNNING',
                entry.nodeId ?? null,
                date,
                entry.nodeId === undefined ? null : date,
                entry.payload,
              ]),
            )
          }
        }
        if (execution) {
          await trx.executeQuery(CompiledQuery.raw(upsertExecution, executionParams(execution)))
        }
        for (const run of taskRuns) {
          await trx.executeQuery(
            CompiledQuery.raw(upsertTaskRun, [
              run.id,
              run.executionId,
              run.sequence,
              run.state.current,
              JSON.stringify(run),
            ]),
          )
        }
        await insertLogs(trx, logs)
      })
    },

    async claimTaskRuns(nodeId, limit) {
      if (limit <= 0) return []
      return db.transaction().execute(async (trx) => {
        let select = trx
          .selectFrom('task_queue')
          .select(['seq', 'id', 'payload'])
          .where('state', '=', 'QUEUED')
          .orderBy('seq')
          .limit(limit)
        // Concurrent claimers on PostgreSQL skip each other's rows instead of waiting or
        // claiming them twice; SQLite's writer lock serialises the transaction already.
        if (postgres) select = select.forUpdate().skipLocked()
        const rows = await select.execute()
        if (rows.length === 0) return []
        await trx
          .updateTable('task_queue')
          .set({ state: 'RUNNING', node_id: nodeId, claimed_at: new Date().toISOString() })
          .where(
            'seq',
            'in',
            rows.map((row) => row.seq),
          )
          .execute()
        return rows.map((row) => ({ id: row.id, payload: row.payload }))
      })
    },

    async completeTaskRuns(results, logs) {
      if (results.length === 0 && logs.length === 0) return
      await db.transaction().execute(async (trx) => {
        for (const { id, result } of results) {
          await trx.executeQuery(CompiledQuery.raw(completeQueued, ['DONE', result, id]))
        }
        await insertLogs(trx, logs)
      })
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

    async cancelQueuedTaskRun(id) {
      const result = await db
        .deleteFrom('task_queue')
        .where('id', '=', id)
        .where('state', '=', 'QUEUED')
        .executeTakeFirst()
      return Number(result.numDeletedRows) > 0
    },

    async countQueuedTaskRuns() {
      const row = await db
        .selectFrom('task_queue')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('state', '=', 'QUEUED')
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
      }
      await db
        .insertInto('nodes')
        .values(values)
        .onConflict((conflict) =>
          conflict.column('id').doUpdateSet({
            slots_in_use: node.slotsInUse,
            heartbeat_at: node.heartbeatAt,
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
      }))
    },

    async removeNode(id) {
      await db.deleteFrom('nodes').where('id', '=', id).execute()
    },

    async removeNodesSilentSince(date) {
      await db.deleteFrom('nodes').where('heartbeat_at', '<', date).execute()
    },

    async getExecution(id) {
      const row = await db
        .selectFrom('executions')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst()
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
      await db
        .insertInto('trigger_state')
        .values({
          namespace,
          flow_id: flowId,
          trigger_id: triggerId,
          key,
          value: JSON.stringify(value ?? null),
          updated_at: new Date().toISOString(),
        })
        .onConflict((conflict) =>
          conflict.columns(['namespace', 'flow_id', 'trigger_id', 'key']).doUpdateSet((eb) => ({
            value: eb.ref('excluded.value'),
            updated_at: eb.ref('excluded.updated_at'),
          })),
        )
        .execute()
    },

    async triggerStateList(filter = {}) {
      let query = db.selectFrom('trigger_state').selectAll()
      if (filter.namespace !== undefined) query = query.where('namespace', '=', filter.namespace)
      if (filter.flowId !== undefined) query = query.where('flow_id', '=', filter.flowId)
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
      await db.destroy()
      await options.onClose?.()
    },
  }
  return store
}
