import {
  listManifestTypes,
  type PluginManifest,
  parseManifest,
  type TypeKind,
} from '@kite/sdk/host'
import { sql } from 'kysely'
import semver from 'semver'
import type { CatalogDb, PluginRow, VersionRow } from './catalog-db.js'
import type { CatalogEvents } from './catalog-events.js'
import type { CatalogOwners } from './catalog-owners.js'
import type {
  PluginDetails,
  StoredEvent,
  TypeDetails,
  VersionRecord,
  VersionSummary,
} from './catalog-types.js'
import { RegistryError } from './errors.js'
import type { PackageDocs } from './package-docs.js'

/** Every column of `versions` but the (possibly large) docs, for reads of many versions. */
const LIST_COLUMNS = [
  'name',
  'version',
  'manifest',
  'manifest_hash',
  'published',
  'integrity',
  'tarball_path',
  'deprecated',
] as const

/**
 * The version index: every version's manifest, the types and groups it provides, each plugin's
 * summary row, and versions known not to be plugins. Changes log their event in the same
 * transaction and tell `onChange` which plugin changed (the search index re-reads it).
 */
export class CatalogVersions {
  private readonly manifests = new Map<string, PluginManifest>()

  constructor(
    private readonly db: CatalogDb,
    private readonly events: CatalogEvents,
    private readonly owners: CatalogOwners,
    private readonly onChange: (name: string) => void,
  ) {}

  // --- ownership of groups and types -----------------------------------------------------------

  /** The package that owns `group`, or a group of another package nested with it. */
  conflictingGroup(group: string, name: string): { group: string; name: string } | undefined {
    const { q } = this.db
    const row = this.db.first(
      q
        .selectFrom('groups')
        .select(['grp', 'name'])
        .where('name', '<>', name)
        .where((eb) =>
          eb.or([
            eb('grp', '=', group),
            eb(eb.val(group), 'like', sql<string>`grp || '.%'`),
            eb('grp', 'like', sql<string>`${group} || '.%'`),
          ]),
        )
        .orderBy(sql`length(grp)`)
        .limit(1),
    )
    return row ? { group: row.grp, name: row.name } : undefined
  }

  /** The package (other than `name`) that provides `type`, if any. */
  typeOwner(type: string, name: string): string | undefined {
    const { q } = this.db
    return this.db.first(
      q
        .selectFrom('types')
        .select('name')
        .where('type', '=', type)
        .where('name', '<>', name)
        .limit(1),
    )?.name
  }

  isPlugin(name: string): boolean {
    return this.pluginRow(name) !== undefined
  }

  groupOf(name: string): string | undefined {
    return this.pluginRow(name)?.grp
  }

  // --- versions that are not plugins -----------------------------------------------------------

  /** Remembers a version that is not a plugin, so it is not read again on the next sync. */
  markNotPlugin(name: string, version: string): void {
    this.db.run(this.db.q.insertInto('other_versions').orIgnore().values({ name, version }))
  }

  forgetNotPlugin(name: string, version: string): void {
    const { q } = this.db
    this.db.run(
      q.deleteFrom('other_versions').where('name', '=', name).where('version', '=', version),
    )
  }

  /** Versions of `name` known not to be plugins. */
  notPluginVersions(name: string): Set<string> {
    const { q } = this.db
    return new Set(
      this.db
        .all(q.selectFrom('other_versions').select('version').where('name', '=', name))
        .map((row) => row.version),
    )
  }

  /** Forgets the non-plugin versions of a package gone from storage. */
  forgetPackage(name: string): void {
    this.db.run(this.db.q.deleteFrom('other_versions').where('name', '=', name))
  }

  // --- changes ---------------------------------------------------------------------------------

  /** Versions of a plugin with their deprecation, for reconciling with storage. */
  versionStates(name: string): Map<string, string | null> {
    const { q } = this.db
    const rows = this.db.all(
      q.selectFrom('versions').select(['version', 'deprecated']).where('name', '=', name),
    )
    return new Map(rows.map((row) => [row.version, row.deprecated]))
  }

  /** Indexes a newly published version and logs its `published` event. */
  addVersion(record: VersionRecord, distTags: Record<string, string>): StoredEvent {
    const { q } = this.db
    return this.db.transaction(() => {
      const { manifest } = record
      this.db.run(
        q.insertInto('versions').values({
          name: record.name,
          version: record.version,
          manifest: JSON.stringify(manifest),
          manifest_hash: record.manifestHash,
          published: record.published,
          integrity: record.integrity,
          tarball_path: record.tarballPath,
          deprecated: record.deprecated,
          docs: record.docs ? JSON.stringify(record.docs) : null,
        }),
      )
      for (const { kind, entry } of listManifestTypes(manifest)) {
        this.db.run(
          q.insertInto('types').values({
            type: entry.type,
            name: record.name,
            version: record.version,
            kind,
            title: entry.title,
            description: entry.description,
          }),
        )
      }
      this.db.run(
        q.insertInto('groups').orReplace().values({ grp: manifest.group, name: record.name }),
      )
      this.refreshPlugin(record.name, distTags, record.published)
      return this.events.append('published', record, record.published)
    })
  }

  /** Drops an unpublished version and logs its `unpublished` event. */
  removeVersion(name: string, version: string, distTags: Record<string, string>): StoredEvent {
    const { q } = this.db
    return this.db.transaction(() => {
      const row = this.versionRow(name, version)
      if (!row) throw notFound(`${name}@${version} is not in the catalog`)
      this.db.run(q.deleteFrom('versions').where('name', '=', name).where('version', '=', version))
      this.db.run(q.deleteFrom('types').where('name', '=', name).where('version', '=', version))
      this.manifests.delete(`${name}@${version}`)
      this.refreshPlugin(name, distTags)
      return this.events.append('unpublished', toSubject(row), new Date().toISOString())
    })
  }

  /** Records a deprecation (a message) or its removal (null) and logs a `deprecated` event. */
  setDeprecated(name: string, version: string, message: string | null): StoredEvent {
    const { q } = this.db
    return this.db.transaction(() => {
      const row = this.versionRow(name, version)
      if (!row) throw notFound(`${name}@${version} is not in the catalog`)
      this.db.run(
        q
          .updateTable('versions')
          .set({ deprecated: message })
          .where('name', '=', name)
          .where('version', '=', version),
      )
      this.refreshPlugin(name)
      return this.events.append(
        'deprecated',
        { ...toSubject(row), deprecated: message ?? false },
        new Date().toISOString(),
      )
    })
  }

  /** Versions of `name` indexed before the catalog kept README, CHANGELOG, icon and links. */
  versionsWithoutDocs(name: string): string[] {
    const { q } = this.db
    return this.db
      .all(
        q
          .selectFrom('versions')
          .select('version')
          .where('name', '=', name)
          .where('docs', 'is', null),
      )
      .map((row) => row.version)
  }

  /** Stores what was read from a version's tarball (see `versionsWithoutDocs`). */
  setDocs(name: string, version: string, docs: PackageDocs): void {
    const { q } = this.db
    this.db.run(
      q
        .updateTable('versions')
        .set({ docs: JSON.stringify(docs) })
        .where('name', '=', name)
        .where('version', '=', version),
    )
  }

  /** Records a plugin's dist-tags (a no-op when they did not change). */
  setDistTags(name: string, distTags: Record<string, string>): void {
    const row = this.pluginRow(name)
    if (!row || row.dist_tags === JSON.stringify(distTags)) return
    this.refreshPlugin(name, distTags)
  }

  // --- reads -----------------------------------------------------------------------------------

  plugin(name: string): PluginDetails | undefined {
    const row = this.pluginRow(name)
    if (!row) return undefined
    const { q } = this.db
    const versions = this.listVersions(name).sort((a, b) => semver.rcompare(a.version, b.version))
    const types = this.db.all(
      q
        .selectFrom('types')
        .select(['version', 'type', 'kind', 'title', 'description'])
        .where('name', '=', name)
        .orderBy(sql`rowid`),
    )
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
      maintainers: this.owners.maintainersOf(name),
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
    const { q } = this.db
    const rows = this.db.all(
      q
        .selectFrom('types')
        .select(['name', 'version', 'kind', 'title', 'description'])
        .where('type', '=', type),
    )
    const first = rows[0]
    if (!first) return undefined
    const plugin = this.pluginRow(first.name)
    if (!plugin) return undefined
    const byVersion = new Map(
      this.db
        .all(
          q
            .selectFrom('versions')
            .select(['version', 'published', 'deprecated'])
            .where('name', '=', first.name),
        )
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
      kind: current.kind as TypeKind,
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
    const { q } = this.db
    const count = (row: { n: number | string | bigint } | undefined) => Number(row?.n ?? 0)
    return {
      plugins: count(
        this.db.first(q.selectFrom('plugins').select((eb) => eb.fn.countAll().as('n'))),
      ),
      versions: count(
        this.db.first(q.selectFrom('versions').select((eb) => eb.fn.countAll().as('n'))),
      ),
      types: count(
        this.db.first(q.selectFrom('types').select((eb) => eb.fn.count('type').distinct().as('n'))),
      ),
    }
  }

  pluginRow(name: string): PluginRow | undefined {
    return this.db.first(this.db.q.selectFrom('plugins').selectAll().where('name', '=', name))
  }

  // --- internals -------------------------------------------------------------------------------

  private versionRow(name: string, version: string): VersionRow | undefined {
    const { q } = this.db
    return this.db.first(
      q.selectFrom('versions').selectAll().where('name', '=', name).where('version', '=', version),
    )
  }

  private listVersions(name: string) {
    const { q } = this.db
    return this.db.all(q.selectFrom('versions').select(LIST_COLUMNS).where('name', '=', name))
  }

  private manifest(row: { name: string; version: string; manifest: string }): PluginManifest {
    const key = `${row.name}@${row.version}`
    let manifest = this.manifests.get(key)
    if (!manifest) {
      manifest = parseManifest(JSON.parse(row.manifest))
      this.manifests.set(key, manifest)
    }
    return manifest
  }

  /** Recomputes a plugin's summary row from its versions. */
  private refreshPlugin(name: string, distTags?: Record<string, string>, updated?: string): void {
    const { q } = this.db
    const rows = this.listVersions(name)
    const existing = this.pluginRow(name)
    this.onChange(name)
    if (rows.length === 0) {
      if (existing) this.db.run(q.deleteFrom('plugins').where('id', '=', existing.id))
      this.db.run(q.deleteFrom('groups').where('name', '=', name))
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
    const latestRow = rows.find((row) => row.version === latest) as (typeof rows)[number]
    const manifest = this.manifest(latestRow)
    const types = listManifestTypes(manifest)
    const summary = {
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
    this.db.run(
      q
        .insertInto('plugins')
        .values({ name, ...summary })
        .onConflict((conflict) => conflict.column('name').doUpdateSet(summary)),
    )
  }
}

function toSubject(row: VersionRow) {
  return {
    name: row.name,
    version: row.version,
    integrity: row.integrity,
    manifestHash: row.manifest_hash,
    tarballPath: row.tarball_path,
  }
}

function notFound(message: string): RegistryError {
  return new RegistryError(message, { code: 'NOT_FOUND' })
}
