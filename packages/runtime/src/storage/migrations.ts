import {
  type ColumnDefinitionBuilder,
  type Kysely,
  type Migration,
  type MigrationProvider,
  Migrator,
  sql,
} from 'kysely'
import { RuntimeError } from '../errors.js'

/** The dialects a store runs on. */
export type StoreDialectName = 'sqlite' | 'postgres'

/**
 * The schema migrations of every store, in order, run by kysely's `Migrator` (recorded in its
 * `kysely_migration` table). Each is idempotent (`IF NOT EXISTS`), so a SQLite data dir made
 * before the Migrator (which counted migrations in `PRAGMA user_version`) upgrades in place: the
 * migrations it already has change nothing and get recorded.
 */
export function storeMigrations(dialect: StoreDialectName): Record<string, Migration> {
  // An auto-increment key: SQLite's `integer primary key autoincrement`, PostgreSQL's `serial`.
  const serial = dialect === 'postgres' ? 'serial' : 'integer'
  const serialColumn = (column: ColumnDefinitionBuilder) =>
    dialect === 'postgres' ? column.primaryKey() : column.primaryKey().autoIncrement()
  return {
    '0001_base': {
      async up(db) {
        await db.schema
          .createTable('flows')
          .ifNotExists()
          .addColumn('namespace', 'text', (column) => column.notNull())
          .addColumn('id', 'text', (column) => column.notNull())
          .addColumn('revision', 'integer', (column) => column.notNull())
          .addColumn('source', 'text', (column) => column.notNull())
          .addColumn('deleted', 'integer', (column) => column.notNull().defaultTo(0))
          .addColumn('created_at', 'text', (column) => column.notNull())
          .addPrimaryKeyConstraint('flows_pk', ['namespace', 'id', 'revision'])
          .execute()
        await db.schema
          .createTable('executions')
          .ifNotExists()
          .addColumn('id', 'text', (column) => column.primaryKey())
          .addColumn('namespace', 'text', (column) => column.notNull())
          .addColumn('flow_id', 'text', (column) => column.notNull())
          .addColumn('flow_revision', 'integer', (column) => column.notNull())
          .addColumn('state', 'text', (column) => column.notNull())
          .addColumn('parent_id', 'text')
          .addColumn('created_at', 'text', (column) => column.notNull())
          .addColumn('updated_at', 'text', (column) => column.notNull())
          .addColumn('value', 'text', (column) => column.notNull())
          .execute()
        await db.schema
          .createIndex('executions_flow')
          .ifNotExists()
          .on('executions')
          .columns(['namespace', 'flow_id', 'created_at'])
          .execute()
        await db.schema
          .createIndex('executions_created')
          .ifNotExists()
          .on('executions')
          .column('created_at')
          .execute()
        await db.schema
          .createIndex('executions_state')
          .ifNotExists()
          .on('executions')
          .column('state')
          .execute()
        await db.schema
          .createTable('task_runs')
          .ifNotExists()
          .addColumn('id', 'text', (column) => column.primaryKey())
          .addColumn('execution_id', 'text', (column) => column.notNull())
          .addColumn('sequence', 'integer', (column) => column.notNull())
          .addColumn('state', 'text', (column) => column.notNull())
          .addColumn('value', 'text', (column) => column.notNull())
          .execute()
        await db.schema
          .createIndex('task_runs_execution')
          .ifNotExists()
          .on('task_runs')
          .columns(['execution_id', 'sequence'])
          .execute()
        await db.schema
          .createTable('logs')
          .ifNotExists()
          .addColumn('id', serial, serialColumn)
          .addColumn('execution_id', 'text', (column) => column.notNull())
          .addColumn('task_run_id', 'text')
          .addColumn('task_id', 'text')
          .addColumn('attempt', 'integer')
          .addColumn('level', 'text', (column) => column.notNull())
          .addColumn('level_rank', 'integer', (column) => column.notNull())
          .addColumn('timestamp', 'text', (column) => column.notNull())
          .addColumn('message', 'text', (column) => column.notNull())
          .execute()
        await db.schema
          .createIndex('logs_execution')
          .ifNotExists()
          .on('logs')
          .columns(['execution_id', 'id'])
          .execute()
        await db.schema
          .createTable('kv')
          .ifNotExists()
          .addColumn('namespace', 'text', (column) => column.notNull())
          .addColumn('key', 'text', (column) => column.notNull())
          .addColumn('value', 'text', (column) => column.notNull())
          .addColumn('expires_at', 'bigint')
          .addColumn('updated_at', 'text', (column) => column.notNull())
          .addPrimaryKeyConstraint('kv_pk', ['namespace', 'key'])
          .execute()
        await db.schema
          .createTable('trigger_state')
          .ifNotExists()
          .addColumn('namespace', 'text', (column) => column.notNull())
          .addColumn('flow_id', 'text', (column) => column.notNull())
          .addColumn('trigger_id', 'text', (column) => column.notNull())
          .addColumn('key', 'text', (column) => column.notNull())
          .addColumn('value', 'text', (column) => column.notNull())
          .addColumn('updated_at', 'text', (column) => column.notNull())
          .addPrimaryKeyConstraint('trigger_state_pk', [
            'namespace',
            'flow_id',
            'trigger_id',
            'key',
          ])
          .execute()
      },
    },
    // The scheduler's start-up replay reads the executions written since a date, by keyset.
    '0002_executions_updated': {
      async up(db) {
        await db.schema
          .createIndex('executions_updated')
          .ifNotExists()
          .on('executions')
          .columns(['updated_at', 'id'])
          .execute()
      },
    },
    // The durable queue between executor and workers, and the nodes that heartbeat (SPEC 9).
    '0003_task_queue_and_nodes': {
      async up(db) {
        await db.schema
          .createTable('task_queue')
          .ifNotExists()
          .addColumn('seq', serial, serialColumn)
          .addColumn('id', 'text', (column) => column.notNull().unique())
          .addColumn('execution_id', 'text', (column) => column.notNull())
          .addColumn('task_run_id', 'text', (column) => column.notNull())
          .addColumn('attempt', 'integer', (column) => column.notNull())
          .addColumn('state', 'text', (column) => column.notNull())
          .addColumn('node_id', 'text')
          .addColumn('enqueued_at', 'text', (column) => column.notNull())
          .addColumn('claimed_at', 'text')
          .addColumn('payload', 'text', (column) => column.notNull())
          .addColumn('result', 'text')
          .execute()
        await db.schema
          .createIndex('task_queue_state')
          .ifNotExists()
          .on('task_queue')
          .columns(['state', 'seq'])
          .execute()
        await db.schema
          .createTable('nodes')
          .ifNotExists()
          .addColumn('id', 'text', (column) => column.primaryKey())
          .addColumn('roles', 'text', (column) => column.notNull())
          .addColumn('host', 'text', (column) => column.notNull())
          .addColumn('pid', 'integer', (column) => column.notNull())
          .addColumn('slots', 'integer', (column) => column.notNull())
          .addColumn('slots_in_use', 'integer', (column) => column.notNull())
          .addColumn('started_at', 'text', (column) => column.notNull())
          .addColumn('heartbeat_at', 'text', (column) => column.notNull())
          .execute()
      },
    },
    // Roles (SPEC 9): the executor that advances an execution (its lease lives as long as that
    // node's heartbeat), named leases (the active scheduler), the cluster's installed plugin set,
    // and what each node has loaded.
    '0004_roles': {
      async up(db) {
        const columns = async (table: string) =>
          (await db.introspection.getTables()).find((found) => found.name === table)?.columns ?? []
        if (!(await columns('executions')).some((column) => column.name === 'executor_id')) {
          await db.schema.alterTable('executions').addColumn('executor_id', 'text').execute()
        }
        if (!(await columns('nodes')).some((column) => column.name === 'plugins')) {
          await db.schema
            .alterTable('nodes')
            .addColumn('plugins', 'text', (column) => column.notNull().defaultTo(''))
            .execute()
        }
        await db.schema
          .createTable('leases')
          .ifNotExists()
          .addColumn('name', 'text', (column) => column.primaryKey())
          .addColumn('holder', 'text', (column) => column.notNull())
          .addColumn('expires_at', 'bigint', (column) => column.notNull())
          .execute()
        await db.schema
          .createTable('cluster_plugins')
          .ifNotExists()
          .addColumn('name', 'text', (column) => column.notNull())
          .addColumn('version', 'text', (column) => column.notNull())
          .addColumn('installed', 'integer', (column) => column.notNull())
          .addColumn('updated_at', 'text', (column) => column.notNull())
          .addPrimaryKeyConstraint('cluster_plugins_pk', ['name', 'version'])
          .execute()
      },
    },
    // Users, API tokens and UI sessions (SPEC 10): secrets only as hashes.
    '0005_users_tokens_sessions': {
      async up(db) {
        await db.schema
          .createTable('users')
          .ifNotExists()
          .addColumn('name', 'text', (column) => column.primaryKey())
          .addColumn('role', 'text', (column) => column.notNull())
          .addColumn('password_hash', 'text', (column) => column.notNull())
          .addColumn('created_at', 'text', (column) => column.notNull())
          .execute()
        await db.schema
          .createTable('api_tokens')
          .ifNotExists()
          .addColumn('id', 'text', (column) => column.primaryKey())
          .addColumn('name', 'text', (column) => column.notNull())
          .addColumn('owner', 'text', (column) => column.notNull())
          .addColumn('role', 'text', (column) => column.notNull())
          .addColumn('hash', 'text', (column) => column.notNull().unique())
          .addColumn('created_at', 'text', (column) => column.notNull())
          .addColumn('last_used_at', 'text')
          .addColumn('revoked_at', 'text')
          .execute()
        await db.schema
          .createTable('sessions')
          .ifNotExists()
          .addColumn('hash', 'text', (column) => column.primaryKey())
          .addColumn('user_name', 'text', (column) => column.notNull())
          .addColumn('created_at', 'text', (column) => column.notNull())
          .addColumn('expires_at', 'text', (column) => column.notNull())
          .execute()
        await db.schema
          .createIndex('sessions_user')
          .ifNotExists()
          .on('sessions')
          .column('user_name')
          .execute()
      },
    },
    // Kill and resume through any node of a cluster (SPEC 9): the api node records the command,
    // the executor that holds the execution carries it out.
    '0006_execution_commands': {
      async up(db) {
        await db.schema
          .createTable('execution_commands')
          .ifNotExists()
          .addColumn('seq', serial, serialColumn)
          .addColumn('execution_id', 'text', (column) => column.notNull())
          .addColumn('kind', 'text', (column) => column.notNull())
          .addColumn('inputs', 'text')
          .addColumn('created_at', 'text', (column) => column.notNull())
          .execute()
        await db.schema
          .createIndex('execution_commands_execution')
          .ifNotExists()
          .on('execution_commands')
          .column('execution_id')
          .execute()
      },
    },
    // Workers claim the oldest QUEUED entry (`claimTaskRuns`): a partial index holds only those
    // rows, so a claim reads what is waiting however many entries are running or done, and
    // entries leave it as they are claimed. It replaces `task_queue_state` (state, seq), which
    // nothing else read and every claim, result and removal had to update.
    '0007_task_queue_queued_index': {
      async up(db) {
        await db.schema
          .createIndex('task_queue_queued')
          .ifNotExists()
          .on('task_queue')
          .column('seq')
          .where(sql.ref('state'), '=', 'QUEUED')
          .execute()
        await db.schema.dropIndex('task_queue_state').ifExists().execute()
      },
    },
    // The active scheduler reads every trigger's `$control` row (enable, disable, reset through
    // any node) each tick by key alone: the primary key (namespace, flow, trigger, key) cannot
    // serve that, so each tick read the whole table.
    '0008_trigger_state_key_index': {
      async up(db) {
        await db.schema
          .createIndex('trigger_state_key')
          .ifNotExists()
          .on('trigger_state')
          .column('key')
          .execute()
      },
    },
  }
}

/** Brings a store's schema to the latest migration; a failed migration is an operational error. */
export async function migrateStore(
  // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
  db: Kysely<any>,
  dialect: StoreDialectName,
  where: string,
): Promise<void> {
  const migrations = storeMigrations(dialect)
  const provider: MigrationProvider = { getMigrations: async () => migrations }
  const { error, results = [] } = await new Migrator({ db, provider }).migrateToLatest()
  if (error) {
    const failed = results.find((result) => result.status === 'Error')
    const reason = error instanceof Error ? error.message : String(error)
    throw new RuntimeError(
      `cannot migrate the store ${where}${failed ? ` (migration ${failed.migrationName})` : ''}: ${reason}`,
      { code: 'STORAGE', kind: 'operational', cause: error },
    )
  }
  if (dialect === 'sqlite') {
    // Kept in step for tools that read it; the Migrator's table is what decides.
    await sql.raw(`PRAGMA user_version = ${Object.keys(migrations).length}`).execute(db)
  }
}
