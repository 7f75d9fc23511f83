import type Database from 'better-sqlite3'
import {
  Kysely,
  type Migration,
  type MigrationProvider,
  Migrator,
  SqliteDialect,
  sql,
} from 'kysely'
import { RegistryError } from './errors.js'

/**
 * The catalog's tables as the registry first shipped them (schema "2" in its `meta` table).
 * Every statement is idempotent, so a catalog made before the Migrator upgrades in place: the
 * first migration changes nothing there and is recorded.
 */
const BASE_SCHEMA = [
  'CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)',
  `CREATE TABLE IF NOT EXISTS maintainers (
    name TEXT NOT NULL, user TEXT NOT NULL, since TEXT NOT NULL, PRIMARY KEY (name, user))`,
  `CREATE TABLE IF NOT EXISTS plugins (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, grp TEXT NOT NULL, title TEXT NOT NULL,
    description TEXT NOT NULL, keywords TEXT NOT NULL, latest TEXT NOT NULL,
    latest_types TEXT NOT NULL, dist_tags TEXT NOT NULL, version_count INTEGER NOT NULL,
    updated TEXT NOT NULL, deprecated TEXT)`,
  `CREATE TABLE IF NOT EXISTS versions (
    name TEXT NOT NULL, version TEXT NOT NULL, manifest TEXT NOT NULL,
    manifest_hash TEXT NOT NULL, published TEXT NOT NULL, integrity TEXT NOT NULL,
    tarball_path TEXT NOT NULL, deprecated TEXT, PRIMARY KEY (name, version))`,
  `CREATE TABLE IF NOT EXISTS types (
    type TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL, kind TEXT NOT NULL,
    title TEXT NOT NULL, description TEXT NOT NULL, PRIMARY KEY (type, name, version))`,
  'CREATE INDEX IF NOT EXISTS types_by_package ON types (name, version)',
  'CREATE TABLE IF NOT EXISTS groups (grp TEXT PRIMARY KEY, name TEXT NOT NULL)',
  `CREATE TABLE IF NOT EXISTS other_versions (
    name TEXT NOT NULL, version TEXT NOT NULL, PRIMARY KEY (name, version))`,
  `CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, name TEXT NOT NULL,
    version TEXT NOT NULL, integrity TEXT NOT NULL, manifest_hash TEXT NOT NULL,
    tarball_path TEXT NOT NULL, time TEXT NOT NULL, deprecated TEXT)`,
  "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', '2')",
]

/** The catalog's schema migrations, in order (recorded in kysely's `kysely_migration` table). */
export const CATALOG_MIGRATIONS: Record<string, Migration> = {
  '0001_base': {
    async up(db) {
      for (const statement of BASE_SCHEMA) await sql.raw(statement).execute(db)
    },
  },
  '0002_package_docs': {
    async up(db) {
      // Search moved to an in-memory index; README, CHANGELOG, icon, links and permissions
      // are kept per version.
      await sql.raw('DROP TABLE IF EXISTS plugin_search').execute(db)
      const columns = await sql<{
        name: string
      }>`SELECT name FROM pragma_table_info('versions')`.execute(db)
      if (!columns.rows.some((column) => column.name === 'docs')) {
        await db.schema.alterTable('versions').addColumn('docs', 'text').execute()
      }
    },
  },
}

/**
 * Brings a catalog's schema up to date in place with kysely's `Migrator`. Answers whether the
 * catalog was empty (no `versions` table), so the registry knows to rebuild it from storage.
 */
export async function migrateCatalog(raw: Database.Database, where: string): Promise<boolean> {
  const empty =
    raw.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'versions'").get() ===
    undefined
  // kysely prepares through the same connection; closing it stays the catalog's job.
  const db = new Kysely<unknown>({
    dialect: new SqliteDialect({
      database: { prepare: (text: string) => raw.prepare(text), close: () => undefined },
    }),
  })
  try {
    const provider: MigrationProvider = { getMigrations: async () => CATALOG_MIGRATIONS }
    const { error, results = [] } = await new Migrator({ db, provider }).migrateToLatest()
    if (error) {
      const failed = results.find((result) => result.status === 'Error')
      throw new RegistryError(
        `cannot migrate the catalog ${where}${failed ? ` (migration ${failed.migrationName})` : ''}: ${error instanceof Error ? error.message : String(error)}`,
        { code: 'STORAGE_FAILED', kind: 'operational', cause: error },
      )
    }
  } finally {
    await db.destroy()
  }
  return empty
}
