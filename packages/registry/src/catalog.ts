import { mkdirSync, renameSync } from 'node:fs'
import { dirname } from 'node:path'
import type { Logger } from '@kite/sdk'
import {
  listManifestTypes,
  type PluginManifest,
  parseManifest,
  type TypeKind,
} from '@kite/sdk/host'
import Database from 'better-sqlite3'
import semver from 'semver'
import { migrateCatalog } from './catalog-schema.js'
import {
  type ParsedQuery,
  parseSearchQuery,
  type SearchDocument,
  type SearchFilters,
  SearchIndex,
} from './catalog-search.js'
import type {
  CatalogEventType,
  PluginDetails,
  PluginSummary,
  SearchResult,
  StoredEvent,
  TypeDetails,
  VersionRecord,
  VersionSummary,
} from './catalog-types.js'
import { RegistryError } from './errors.js'
import type { PackageDocs } from './package-docs.js'

interface PluginRow {
  id: number
  name: string
  grp: string
  title: string
  description: string
  keywords: string
  latest: string
  latest_types: string
  dist_tags: string
  version_count: number
  updated: string
  deprecated: string | null
}

/** Every column of `versions` but the (possibly large) docs, for reads of many versions. */
const LIST_COLUMNS =
  'name, version, manifest, manifest_hash, published, integrity, tarball_path, deprecated, NULL AS docs'

interface TypeRow {
  type: string
  name: string
  version: string
  kind: TypeKind
  title: string
  description: string
}

interface VersionRow {
  name: string
  version: string
  manifest: string
  manifest_hash: string
  published: string
  integrity: string
  tarball_path: string
  deprecated: string | null
  docs: string | null
}

interface EventRow {
  id: number
  type: CatalogEventType
  name: string
  version: string
  integrity: string
  manifest_hash: string
  tarball_path: string
  time: string
  deprecated: string | null
}

export interface CatalogOptions {
  /** The SQLite file; created (with its directory) when missing. */
  path: string
}

/**
 * The plugin catalog: every version's manifest, the types and groups they provide, who maintains
 * each package, a full-text index, and the event log. One SQLite file (WAL), written only by the
 * registry process that owns the storage.
 */
export class Catalog {
  /** True when this open created the tables (a new or lost catalog). */
  readonly created: boolean
  private readonly db: Database.Database
  private readonly manifests = new Map<string, PluginManifest>()
  /** Built on the first search; plugins changed since are re-read on the next one. */
  private searchIndex: SearchIndex | undefined
  private readonly searchStale = new Set<string>()

  private constructor(db: Database.Database, created: boolean) {
    this.db = db
    this.created = created
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
    if (this.db.open) this.db.close()
  }

  /** Sets the id after which new events are numbered (used after a rebuild, see registry.ts). */
  raiseEventIdFloor(floor: number): void {
    const current = this.lastEventId()
    if (current >= floor) return
    this.db.prepare("DELETE FROM sqlite_sequence WHERE name = 'events'").run()
    this.db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('events', ?)").run(floor)
  }

  // --- maintainers ----------------------------------------------------------------------------

  maintainersOf(name: string): string[] {
    return this.db
      .prepare<[string], { user: string }>(
        'SELECT user FROM maintainers WHERE name = ? ORDER BY since, user',
      )
      .all(name)
      .map((row) => row.user)
  }

  addMaintainer(name: string, user: string, since = new Date().toISOString()): void {
    this.db
      .prepare('INSERT OR IGNORE INTO maintainers (name, user, since) VALUES (?, ?, ?)')
      .run(name, user, since)
  }

  /** Makes `users` the package's maintainers, keeping the `since` of those who stay. */
  setMaintainers(name: string, users: readonly string[], since = new Date().toISOString()): void {
    this.db.transaction(() => {
      const keep = new Set(users)
      for (const user of this.maintainersOf(name)) {
        if (!keep.has(user)) {
          this.db.prepare('DELETE FROM maintainers WHERE name = ? AND user = ?').run(name, user)
        }
      }
      for (const user of users) this.addMaintainer(name, user, since)
    })()
  }

  /** Names of every package (plugin or not) this registry has maintainers for. */
  knownPackages(): string[] {
    return this.db
      .prepare<[], { name: string }>('SELECT DISTINCT name FROM maintainers ORDER BY name')
      .all()
      .map((row) => row.name)
  }

  /** Everyone who maintains a package in `@scope` (they own the scope when no config does). */
  scopeMembers(scope: string): string[] {
    return this.db
      .prepare<[string, string], { user: string }>(
        "SELECT user FROM maintainers WHERE substr(name, 1, length(?) + 1) = ? || '/' GROUP BY user ORDER BY min(since), user",
      )
      .all(scope, scope)
      .map((row) => row.user)
  }

  forgetPackage(name: string): void {
    this.db.prepare('DELETE FROM maintainers WHERE name = ?').run(name)
    this.db.prepare('DELETE FROM other_versions WHERE name = ?').run(name)
  }

  /** Remembers a version that is not a plugin, so it is not read again on the next sync. */
  markNotPlugin(name: string, version: string): void {
    this.db
      .prepare('INSERT OR IGNORE INTO other_versions (name, version) VALUES (?, ?)')
      .run(name, version)
  }

  forgetNotPlugin(name: string, version: string): void {
    this.db.prepare('DELETE FROM other_versions WHERE name = ? AND version = ?').run(name, version)
  }

  /** Versions of `name` known not to be plugins. */
  notPluginVersions(name: string): Set<string> {
    return new Set(
      this.db
        .prepare<[string], { version: string }>('SELECT version FROM other_versions WHERE name = ?')
        .all(name)
        .map((row) => row.version),
    )
  }

  // --- ownership ------------------------------------------------------------------------------

  /** The package that owns `group`, or a group of another package nested with it. */
  conflictingGroup(group: string, name: string): { group: string; name: string } | undefined {
    const row = this.db
      .prepare<[string, string, string, string], { grp: string; name: string }>(
        `SELECT grp, name FROM groups
         WHERE name <> ? AND (grp = ? OR ? LIKE grp || '.%' OR grp LIKE ? || '.%')
         ORDER BY length(grp) LIMIT 1`,
      )
      .get(name, group, group, group)
    return row ? { group: row.grp, name: row.name } : undefined
  }

  /** The package (other than `name`) that provides `type`, if any. */
  typeOwner(type: string, name: string): string | undefined {
    return this.db
      .prepare<[string, string], { name: string }>(
        'SELECT name FROM types WHERE type = ? AND name <> ? LIMIT 1',
      )
      .get(type, name)?.name
  }

  isPlugin(name: string): boolean {
    return this.db.prepare('SELECT 1 FROM plugins WHERE name = ?').get(name) !== undefined
  }

  groupOf(name: string): string | undefined {
    return this.db
      .prepare<[string], { grp: string }>('SELECT grp FROM plugins WHERE name = ?')
      .get(name)?.grp
  }

  // --- versions -------------------------------------------------------------------------------

  /** Versions of a plugin with their deprecation, for reconciling with storage. */
  versionStates(name: string): Map<string, string | null> {
    const rows = this.db
      .prepare<[string], { version: string; deprecated: string | null }>(
        'SELECT version, deprecated FROM versions WHERE name = ?',
      )
      .all(name)
    return new Map(rows.map((row) => [row.version, row.deprecated]))
  }

  /** Indexes a newly published version and logs its `published` event. */
  addVersion(record: VersionRecord, distTags: Record<string, string>): StoredEvent {
    return this.db.transaction(() => {
      const { manifest } = record
      this.db
        .prepare(
          `INSERT INTO versions (name, version, manifest, manifest_hash, published, integrity, tarball_path, deprecated, docs)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          record.name,
          record.version,
          JSON.stringify(manifest),
          record.manifestHash,
          record.published,
          record.integrity,
          record.tarballPath,
          record.deprecated,
          record.docs ? JSON.stringify(record.docs) : null,
        )
      const insertType = this.db.prepare(
        'INSERT INTO types (type, name, version, kind, title, description) VALUES (?, ?, ?, ?, ?, ?)',
      )
      for (const { kind, entry } of listManifestTypes(manifest)) {
        insertType.run(
          entry.type,
          record.name,
          record.version,
          kind,
          entry.title,
          entry.description,
        )
      }
      this.db
        .prepare('INSERT OR REPLACE INTO groups (grp, name) VALUES (?, ?)')
        .run(manifest.group, record.name)
      this.refreshPlugin(record.name, distTags, record.published)
      return this.appendEvent('published', record, record.published)
    })()
  }

  /** Drops an unpublished version and logs its `unpublished` event. */
  removeVersion(name: string, version: string, distTags: Record<string, string>): StoredEvent {
    return this.db.transaction(() => {
      const row = this.versionRow(name, version)
      if (!row) throw notFound(`${name}@${version} is not in the catalog`)
      this.db.prepare('DELETE FROM versions WHERE name = ? AND version = ?').run(name, version)
      this.db.prepare('DELETE FROM types WHERE name = ? AND version = ?').run(name, version)
      this.manifests.delete(`${name}@${version}`)
      this.refreshPlugin(name, distTags)
      return this.appendEvent('unpublished', toRecordLike(row), new Date().toISOString())
    })()
  }

  /** Records a deprecation (a message) or its removal (null) and logs a `deprecated` event. */
  setDeprecated(name: string, version: string, message: string | null): StoredEvent {
    return this.db.transaction(() => {
      const row = this.versionRow(name, version)
      if (!row) throw notFound(`${name}@${version} is not in the catalog`)
      this.db
        .prepare('UPDATE versions SET deprecated = ? WHERE name = ? AND version = ?')
        .run(message, name, version)
      this.refreshPlugin(name)
      return this.appendEvent(
        'deprecated',
        { ...toRecordLike(row), deprecated: message ?? false },
        new Date().toISOString(),
      )
    })()
  }

  /** Records a plugin's dist-tags (a no-op when they did not change). */
  setDistTags(name: string, distTags: Record<string, string>): void {
    const row = this.pluginRow(name)
    if (!row || row.dist_tags === JSON.stringify(distTags)) return
    this.refreshPlugin(name, distTags)
  }

  // --- reads ----------------------------------------------------------------------------------

  /**
   * Finds plugins by what a person typed (see `parseSearchQuery`: words, typos forgiven, and
   * inline `kind:`/`group:`/`keyword:` filters) plus `filters`; best first, or most recently
   * updated first when there are no words. Each hit says what matched.
   */
  search(query: string, page = 1, size = 20, filters: SearchFilters = {}): SearchResult {
    const safePage = Math.max(1, Math.floor(page) || 1)
    const safeSize = Math.min(100, Math.max(1, Math.floor(size) || 20))
    const offset = (safePage - 1) * safeSize
    const parsed: ParsedQuery = parseSearchQuery(query)
    const wanted = { ...parsed.filters, ...filters }
    const hits = this.index().search(parsed.words, wanted)
    const pageHits = hits.slice(offset, offset + safeSize)
    const rows = new Map(
      pageHits.length === 0
        ? []
        : this.db
            .prepare<number[], PluginRow>(
              `SELECT * FROM plugins WHERE id IN (${pageHits.map(() => '?').join(',')})`,
            )
            .all(...pageHits.map((hit) => hit.id))
            .map((row) => [row.id, row]),
    )
    return {
      query,
      page: safePage,
      size: safeSize,
      total: hits.length,
      filters: wanted,
      ...(parsed.problems.length > 0 ? { problems: parsed.problems } : {}),
      results: pageHits.flatMap((hit) => {
        const row = rows.get(hit.id)
        return row ? [{ ...toSummary(row), matches: hit.matches() }] : []
      }),
    }
  }

  plugin(name: string): PluginDetails | undefined {
    const row = this.pluginRow(name)
    if (!row) return undefined
    const versions = this.db
      .prepare<[string], VersionRow>(`SELECT ${LIST_COLUMNS} FROM versions WHERE name = ?`)
      .all(name)
      .sort((a, b) => semver.rcompare(a.version, b.version))
    const types = this.db
      .prepare<
        [string],
        { version: string; type: string; kind: TypeKind; title: string; description: string }
      >('SELECT version, type, kind, title, description FROM types WHERE name = ? ORDER BY rowid')
      .all(name)
    const summaries: VersionSummary[] = versions.map((version) => ({
      version: version.version,
      published: version.published,
      deprecated: version.deprecated,
      integrity: version.integrity,
      manifestHash: version.manifest_hash,
      tarballPath: version.tarball_path,
      sdkRange: this.manifest(version).sdkRange,
      types: types
        .filter((type) => type.version === version.version)
        .map(({ type, kind, title, description }) => ({ type, kind, title, description })),
    }))
    return {
      name: row.name,
      group: row.grp,
      title: row.title,
      description: row.description,
      keywords: JSON.parse(row.keywords) as string[],
      latest: row.latest,
      distTags: JSON.parse(row.dist_tags) as Record<string, string>,
      maintainers: this.maintainersOf(name),
      versions: summaries,
    }
  }

  version(name: string, version: string): VersionRecord | undefined {
    const row = this.versionRow(name, version)
    if (!row) return undefined
    return {
      name: row.name,
      version: row.version,
      manifest: this.manifest(row),
      published: row.published,
      integrity: row.integrity,
      manifestHash: row.manifest_hash,
      tarballPath: row.tarball_path,
      deprecated: row.deprecated,
      ...(row.docs ? { docs: JSON.parse(row.docs) as PackageDocs } : {}),
    }
  }

  /** Resolves a version, a dist-tag or `latest` of a plugin to a version number. */
  resolveVersion(name: string, spec: string): string | undefined {
    const row = this.pluginRow(name)
    if (!row) return undefined
    const tags = JSON.parse(row.dist_tags) as Record<string, string>
    const wanted = spec === 'latest' ? row.latest : (tags[spec] ?? spec)
    return this.versionRow(name, wanted) ? wanted : undefined
  }

  type(type: string): TypeDetails | undefined {
    const rows = this.db
      .prepare<
        [string],
        { name: string; version: string; kind: TypeKind; title: string; description: string }
      >('SELECT name, version, kind, title, description FROM types WHERE type = ?')
      .all(type)
    const first = rows[0]
    if (!first) return undefined
    const plugin = this.pluginRow(first.name)
    if (!plugin) return undefined
    const byVersion = new Map(
      this.db
        .prepare<[string], { version: string; published: string; deprecated: string | null }>(
          'SELECT version, published, deprecated FROM versions WHERE name = ?',
        )
        .all(first.name)
        .map((row) => [row.version, row]),
    )
    const versions = rows
      .filter((row) => row.name === first.name)
      .map((row) => byVersion.get(row.version))
      .filter((row) => row !== undefined)
      .sort((a, b) => semver.rcompare(a.version, b.version))
    const newest = rows.find((row) => row.version === versions[0]?.version) ?? first
    const latest = versions.some((row) => row.version === plugin.latest)
      ? plugin.latest
      : (versions[0]?.version ?? first.version)
    const current = rows.find((row) => row.version === latest) ?? newest
    return {
      type,
      kind: current.kind,
      title: current.title,
      description: current.description,
      name: first.name,
      group: plugin.grp,
      latest,
      versions,
    }
  }

  /** How many plugins, versions and types the catalog holds. */
  stats(): { plugins: number; versions: number; types: number } {
    return {
      plugins: this.count('SELECT count(*) AS n FROM plugins'),
      versions: this.count('SELECT count(*) AS n FROM versions'),
      types: this.count('SELECT count(DISTINCT type) AS n FROM types'),
    }
  }

  // --- events ---------------------------------------------------------------------------------

  lastEventId(): number {
    const row = this.db
      .prepare<[], { seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'events'")
      .get()
    return row?.seq ?? 0
  }

  eventsAfter(id: number, limit = 10_000): StoredEvent[] {
    return this.db
      .prepare<[number, number], EventRow>('SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?')
      .all(id, limit)
      .map(toEvent)
  }

  // --- internals ------------------------------------------------------------------------------

  private count(sql: string, ...params: string[]): number {
    return (this.db.prepare<string[], { n: number }>(sql).get(...params) ?? { n: 0 }).n
  }

  private pluginRow(name: string): PluginRow | undefined {
    return this.db.prepare<[string], PluginRow>('SELECT * FROM plugins WHERE name = ?').get(name)
  }

  private versionRow(name: string, version: string): VersionRow | undefined {
    return this.db
      .prepare<[string, string], VersionRow>(
        'SELECT * FROM versions WHERE name = ? AND version = ?',
      )
      .get(name, version)
  }

  private manifest(row: VersionRow): PluginManifest {
    const key = `${row.name}@${row.version}`
    let manifest = this.manifests.get(key)
    if (!manifest) {
      manifest = parseManifest(JSON.parse(row.manifest))
      this.manifests.set(key, manifest)
    }
    return manifest
  }

  /** Recomputes a plugin's summary row and search document from its versions. */
  private refreshPlugin(name: string, distTags?: Record<string, string>, updated?: string): void {
    const rows = this.db
      .prepare<[string], VersionRow>(`SELECT ${LIST_COLUMNS} FROM versions WHERE name = ?`)
      .all(name)
    const existing = this.pluginRow(name)
    this.searchStale.add(name)
    if (rows.length === 0) {
      if (existing) {
        this.db.prepare('DELETE FROM plugins WHERE id = ?').run(existing.id)
      }
      this.db.prepare('DELETE FROM groups WHERE name = ?').run(name)
      return
    }
    const tags = { ...(distTags ?? (existing ? JSON.parse(existing.dist_tags) : {})) } as Record<
      string,
      string
    >
    const versions = rows.map((row) => row.version)
    const latest =
      tags.latest && versions.includes(tags.latest)
        ? tags.latest
        : (semver.rsort([...versions])[0] as string)
    const latestRow = rows.find((row) => row.version === latest) as VersionRow
    const manifest = this.manifest(latestRow)
    const types = listManifestTypes(manifest)
    const values = {
      name,
      grp: manifest.group,
      title: manifest.title,
      description: manifest.description,
      keywords: JSON.stringify(manifest.keywords),
      latest,
      latest_types: JSON.stringify(types.map(({ entry }) => entry.type)),
      dist_tags: JSON.stringify(tags),
      version_count: rows.length,
      updated: updated ?? existing?.updated ?? latestRow.published,
      deprecated: latestRow.deprecated,
    }
    this.db
      .prepare(
        `INSERT INTO plugins (name, grp, title, description, keywords, latest, latest_types, dist_tags, version_count, updated, deprecated)
         VALUES (@name, @grp, @title, @description, @keywords, @latest, @latest_types, @dist_tags, @version_count, @updated, @deprecated)
         ON CONFLICT (name) DO UPDATE SET grp = @grp, title = @title, description = @description,
           keywords = @keywords, latest = @latest, latest_types = @latest_types, dist_tags = @dist_tags,
           version_count = @version_count, updated = @updated, deprecated = @deprecated`,
      )
      .run(values)
  }

  /** The search index, brought up to date with what changed since the last search. */
  private index(): SearchIndex {
    if (!this.searchIndex) {
      this.searchIndex = new SearchIndex()
      this.searchStale.clear()
      const all = this.db.prepare<[], PluginRow>('SELECT * FROM plugins').all()
      const types = this.db
        .prepare<[], TypeRow>('SELECT type, name, version, kind, title, description FROM types')
        .all()
      const byName = new Map<string, TypeRow[]>()
      for (const type of types) {
        const list = byName.get(type.name)
        if (list) list.push(type)
        else byName.set(type.name, [type])
      }
      for (const row of all) this.searchIndex.put(searchDocument(row, byName.get(row.name) ?? []))
      return this.searchIndex
    }
    for (const stale of this.searchStale) {
      const row = this.pluginRow(stale)
      if (!row) {
        this.searchIndex.removeName(stale)
        continue
      }
      const types = this.db
        .prepare<[string], TypeRow>(
          'SELECT type, name, version, kind, title, description FROM types WHERE name = ?',
        )
        .all(stale)
      this.searchIndex.put(searchDocument(row, types))
    }
    this.searchStale.clear()
    return this.searchIndex
  }

  private appendEvent(
    type: CatalogEventType,
    record: {
      name: string
      version: string
      integrity: string
      manifestHash: string
      tarballPath: string
      deprecated?: string | false | null
    },
    time: string,
  ): StoredEvent {
    const deprecated =
      type === 'deprecated' ? (record.deprecated === false ? '' : (record.deprecated ?? '')) : null
    const result = this.db
      .prepare(
        `INSERT INTO events (type, name, version, integrity, manifest_hash, tarball_path, time, deprecated)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        type,
        record.name,
        record.version,
        record.integrity,
        record.manifestHash,
        record.tarballPath,
        time,
        deprecated,
      )
    return toEvent({
      id: Number(result.lastInsertRowid),
      type,
      name: record.name,
      version: record.version,
      integrity: record.integrity,
      manifest_hash: record.manifestHash,
      tarball_path: record.tarballPath,
      time,
      deprecated,
    })
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

function toRecordLike(row: VersionRow) {
  return {
    name: row.name,
    version: row.version,
    integrity: row.integrity,
    manifestHash: row.manifest_hash,
    tarballPath: row.tarball_path,
  }
}

function toEvent(row: EventRow): StoredEvent {
  const event: StoredEvent = {
    id: row.id,
    event: row.type,
    name: row.name,
    version: row.version,
    integrity: row.integrity,
    manifestHash: row.manifest_hash,
    tarballPath: row.tarball_path,
    time: row.time,
  }
  if (row.type === 'deprecated') event.deprecated = row.deprecated ? row.deprecated : false
  return event
}

/** A search hit carries at most this many type ids (`typeCount` says how many there are). */
export const SUMMARY_TYPES = 50
/** …and at most this many characters of description. */
export const SUMMARY_DESCRIPTION = 300

function toSummary(row: PluginRow): PluginSummary {
  const types = JSON.parse(row.latest_types) as string[]
  return {
    name: row.name,
    group: row.grp,
    title: row.title,
    description: shorten(row.description, SUMMARY_DESCRIPTION),
    keywords: (JSON.parse(row.keywords) as string[]).slice(0, 20).map((word) => shorten(word, 50)),
    latest: row.latest,
    types: types.slice(0, SUMMARY_TYPES),
    typeCount: types.length,
    versionCount: row.version_count,
    updated: row.updated,
    deprecated: row.deprecated,
  }
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/** What the search index holds for a plugin: its latest version's words, older type ids. */
function searchDocument(row: PluginRow, types: readonly TypeRow[]): SearchDocument {
  const latest = types.filter((type) => type.version === row.latest)
  const latestIds = new Set(latest.map((type) => type.type))
  return {
    id: row.id,
    name: row.name,
    group: row.grp,
    title: row.title,
    description: row.description,
    keywords: JSON.parse(row.keywords) as string[],
    types: latest.map(({ type, kind, title, description }) => ({ type, kind, title, description })),
    olderTypes: [...new Set(types.map((type) => type.type))].filter((id) => !latestIds.has(id)),
    updated: row.updated,
  }
}

function notFound(message: string): RegistryError {
  return new RegistryError(message, { code: 'NOT_FOUND' })
}
