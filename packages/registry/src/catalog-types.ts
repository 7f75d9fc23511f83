import type { PluginManifest, TypeKind } from '@kite/sdk/host'
import type { SearchFilters, SearchMatch } from './catalog-search.js'
import type { PackageDocs } from './package-docs.js'

/** The kinds of change the event stream reports. */
export type CatalogEventType = 'published' | 'unpublished' | 'deprecated'

/** One entry of the event stream, as stored (the tarball is a path on the registry). */
export interface StoredEvent {
  id: number
  event: CatalogEventType
  name: string
  version: string
  integrity: string
  /** `sha256-…` of the version's manifest bytes (what a runtime compares after extraction). */
  manifestHash: string
  /** Path of the tarball on the registry, e.g. `/@acme/x/-/x-1.0.0.tgz`. */
  tarballPath: string
  time: string
  /** For `deprecated` events: the message, or `false` when the deprecation was lifted. */
  deprecated?: string | false
}

/** The `data:` of a Server-Sent Event. */
export interface CatalogEvent {
  name: string
  version: string
  integrity: string
  /** `sha256-…` of the manifest bytes; empty for a version that is not a plugin. */
  manifestHash: string
  /** Absolute tarball URL. */
  tarball: string
  time: string
  deprecated?: string | false
}

/** What the catalog keeps about one version of a plugin. */
export interface VersionRecord {
  name: string
  version: string
  manifest: PluginManifest
  /** `sha256-…` of the manifest's exact bytes in the tarball. */
  manifestHash: string
  /** ISO time of publication. */
  published: string
  integrity: string
  tarballPath: string
  /** The deprecation message, or null. */
  deprecated: string | null
  /**
   * README, CHANGELOG, icon, links and permissions read from the package; absent for versions
   * indexed before the catalog kept them.
   */
  docs?: PackageDocs
}

/** What every answer about a plugin package starts with. */
export interface PluginHeading {
  name: string
  group: string
  title: string
  description: string
  keywords: string[]
  latest: string
}

/** One search hit / list entry. */
export interface PluginSummary extends PluginHeading {
  /** Type ids of the latest version (the first 50; search answers stay small). */
  types: string[]
  /** How many types the latest version has. */
  typeCount: number
  versionCount: number
  /** When the latest change (publish) happened. */
  updated: string
  /** The latest version's deprecation message, or null. */
  deprecated: string | null
}

/** A search hit: the summary and why it matched (empty when there were no words). */
export interface SearchHit extends PluginSummary {
  /** Strongest first: exact before prefix before fuzzy, a name before a description. */
  matches: SearchMatch[]
}

export interface SearchResult {
  query: string
  page: number
  size: number
  total: number
  /** The filters applied: from the query parameters and `name:value` words in `query`. */
  filters: SearchFilters
  /** Inline filters in `query` that could not be used, with the reason (absent when none). */
  problems?: string[]
  results: SearchHit[]
}

export interface TypeSummary {
  type: string
  kind: TypeKind
  title: string
  description: string
}

export interface VersionSummary {
  version: string
  published: string
  deprecated: string | null
  integrity: string
  /** `sha256-…` of the manifest's exact bytes in the tarball. */
  manifestHash: string
  tarballPath: string
  sdkRange: string
  types: TypeSummary[]
}

export interface PluginDetails extends PluginHeading {
  distTags: Record<string, string>
  maintainers: string[]
  /** Newest first (semver order). */
  versions: VersionSummary[]
}

export interface TypeDetails extends TypeSummary {
  name: string
  group: string
  latest: string
  /** Versions of the package that provide this type, newest first. */
  versions: Array<{ version: string; published: string; deprecated: string | null }>
}
