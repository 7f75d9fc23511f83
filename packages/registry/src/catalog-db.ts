import type { TypeKind } from '@kite/sdk/host'
import type Database from 'better-sqlite3'
import {
  type Compilable,
  DummyDriver,
  type Generated,
  type InferResult,
  Kysely,
  type Selectable,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely'
import type { CatalogEventType } from './catalog-types.js'

/** The catalog's tables (created and upgraded by `catalog-schema.ts`). */
export interface CatalogTables {
  meta: { key: string; value: string }
  maintainers: { name: string; user: string; since: string }
  plugins: {
    id: Generated<number>
    name: string
    grp: string
    title: string
    description: string
    /** JSON array of strings. */
    keywords: string
    latest: string
    /** JSON array of the latest version's type ids. */
    latest_types: string
    /** JSON object, tag → version. */
    dist_tags: string
    version_count: number
    updated: string
    deprecated: string | null
  }
  versions: {
    name: string
    version: string
    /** The manifest as JSON. */
    manifest: string
    manifest_hash: string
    published: string
    integrity: string
    tarball_path: string
    deprecated: string | null
    /** `PackageDocs` as JSON; null for versions indexed before the catalog kept them. */
    docs: string | null
  }
  types: {
    type: string
    name: string
    version: string
    kind: TypeKind
    title: string
    description: string
  }
  groups: { grp: string; name: string }
  other_versions: { name: string; version: string }
  events: {
    id: Generated<number>
    type: CatalogEventType
    name: string
    version: string
    integrity: string
    manifest_hash: string
    tarball_path: string
    time: string
    deprecated: string | null
  }
  /** SQLite's own table of AUTOINCREMENT counters. */
  sqlite_sequence: { name: string; seq: number }
}

export type PluginRow = Selectable<CatalogTables['plugins']>
export type VersionRow = Selectable<CatalogTables['versions']>
export type TypeRow = Selectable<CatalogTables['types']>
export type EventRow = Selectable<CatalogTables['events']>

/**
 * The catalog's queries are written with kysely's query builder over the typed tables above and
 * run synchronously on better-sqlite3: kysely compiles each query (a dummy driver, it never
 * executes), and the compiled SQL's prepared statement is kept for the next time. Synchronous,
 * so publish checks and SSE replays read a consistent catalog without awaiting, and a
 * transaction is one `better-sqlite3` transaction.
 */
export class CatalogDb {
  /** Builds queries; run them with `all`, `first` or `run`. */
  readonly q: Kysely<CatalogTables>
  private readonly statements = new Map<string, Database.Statement>()

  constructor(readonly raw: Database.Database) {
    this.q = new Kysely<CatalogTables>({
      dialect: {
        createAdapter: () => new SqliteAdapter(),
        createDriver: () => new DummyDriver(),
        createIntrospector: (db) => new SqliteIntrospector(db),
        createQueryCompiler: () => new SqliteQueryCompiler(),
      },
    })
  }

  /** Every row a select answers. */
  all<Q extends Compilable>(query: Q): InferResult<Q> {
    const [statement, parameters] = this.prepare(query)
    return statement.all(...parameters) as InferResult<Q>
  }

  /** The first row a select answers, if any. */
  first<Q extends Compilable>(query: Q): InferResult<Q>[number] | undefined {
    const [statement, parameters] = this.prepare(query)
    return statement.get(...parameters) as InferResult<Q>[number] | undefined
  }

  /** Runs an insert, update or delete. */
  run(query: Compilable): Database.RunResult {
    const [statement, parameters] = this.prepare(query)
    return statement.run(...parameters)
  }

  /** Runs `work` in one transaction (nested calls become savepoints). */
  transaction<T>(work: () => T): T {
    return this.raw.transaction(work)()
  }

  private prepare(query: Compilable): [Database.Statement, unknown[]] {
    const compiled = query.compile()
    let statement = this.statements.get(compiled.sql)
    if (!statement) {
      statement = this.raw.prepare(compiled.sql)
      this.statements.set(compiled.sql, statement)
    }
    return [statement, [...compiled.parameters]]
  }
}
