import { mkdirSync, renameSync } from 'node:fs'
import { dirname } from 'node:path'
import type { Logger } from '@kite/sdk'
import Database from 'better-sqlite3'
import { CatalogDb } from './catalog-db.js'
import { CatalogEvents } from './catalog-events.js'
import { CatalogFinder } from './catalog-finder.js'
import { CatalogOwners } from './catalog-owners.js'
import { migrateCatalog } from './catalog-schema.js'
import { CatalogVersions } from './catalog-versions.js'
import { RegistryError } from './errors.js'

export interface CatalogOptions {
  /** The SQLite file; created (with its directory) when missing. */
  path: string
}

/**
 * The plugin catalog: one SQLite file (WAL), written only by the registry process that owns the
 * storage, its schema kept by kysely's Migrator (`catalog-schema.ts`) and its queries written
 * with kysely's query builder (`catalog-db.ts`). One part per job:
 * - `owners`: who maintains each package;
 * - `versions`: every version's manifest, the types and groups it provides, plugin summaries;
 * - `finder`: typo-tolerant search over an in-memory index;
 * - `events`: the event log the stream replays.
 */
export class Catalog {
  readonly owners: CatalogOwners
  readonly events: CatalogEvents
  readonly finder: CatalogFinder
  readonly versions: CatalogVersions

  private constructor(
    private readonly raw: Database.Database,
    /** True when this open created the tables (a new or lost catalog). */
    readonly created: boolean,
  ) {
    const db = new CatalogDb(raw)
    this.owners = new CatalogOwners(db)
    this.events = new CatalogEvents(db)
    this.finder = new CatalogFinder(db)
    this.versions = new CatalogVersions(db, this.events, this.owners, (name) =>
      this.finder.stale(name),
    )
  }

  /** Opens (creating it and its directory when missing) and migrates a catalog in place. */
  static async open(options: CatalogOptions): Promise<Catalog> {
    mkdirSync(dirname(options.path), { recursive: true })
    let db: Database.Database | undefined
    try {
      db = new Database(options.path)
      db.pragma('journal_mode = WAL')
      db.pragma('synchronous = NORMAL')
      db.pragma('foreign_keys = ON')
      return new Catalog(db, await migrateCatalog(db, options.path))
    } catch (error) {
      db?.close()
      if (error instanceof RegistryError) throw error
      throw new RegistryError(
        `cannot open the catalog database ${options.path}: ${(error as Error).message}`,
        { code: 'STORAGE_FAILED', kind: 'operational', cause: error },
      )
    }
  }

  close(): void {
    if (this.raw.open) this.raw.close()
  }

  /** Forgets a package gone from storage: its maintainers and its non-plugin versions. */
  forgetPackage(name: string): void {
    this.owners.forget(name)
    this.versions.forgetPackage(name)
  }
}

/**
 * Opens the catalog; a file that is not a readable SQLite database is moved aside (kept for
 * inspection) and a fresh catalog is created, which the registry then rebuilds from storage.
 */
export async function openCatalog(path: string, logger: Logger): Promise<Catalog> {
  try {
    return await Catalog.open({ path })
  } catch (error) {
    const code = (error as RegistryError).cause as { code?: string } | undefined
    if (code?.code !== 'SQLITE_NOTADB' && code?.code !== 'SQLITE_CORRUPT') throw error
    const aside = `${path}.corrupt-${Date.now()}`
    logger.warn(
      `the catalog ${path} is unreadable (${code.code}); moved it to ${aside} and rebuilding`,
    )
    for (const suffix of ['', '-wal', '-shm']) {
      try {
        renameSync(`${path}${suffix}`, `${aside}${suffix}`)
      } catch {
        // -wal and -shm may not exist
      }
    }
    return Catalog.open({ path })
  }
}
