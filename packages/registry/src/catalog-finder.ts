import type { CatalogDb, PluginRow, TypeRow } from './catalog-db.js'
import {
  type ParsedQuery,
  parseSearchQuery,
  type SearchDocument,
  type SearchFilters,
  SearchIndex,
} from './catalog-search.js'
import type { PluginSummary, SearchResult } from './catalog-types.js'

/** A search hit carries at most this many type ids (`typeCount` says how many there are). */
export const SUMMARY_TYPES = 50
/** …and at most this many characters of description. */
export const SUMMARY_DESCRIPTION = 300

const TYPE_COLUMNS = ['type', 'name', 'version', 'kind', 'title', 'description'] as const

/**
 * Search over the catalog: an in-memory word index (`catalog-search.ts`) built on the first
 * search from the plugins and types tables; plugins changed since (`stale`) are re-read on the
 * next one.
 */
export class CatalogFinder {
  private searchIndex: SearchIndex | undefined
  private readonly staleNames = new Set<string>()

  constructor(private readonly db: CatalogDb) {}

  /** Marks a plugin whose versions changed; the next search re-reads it. */
  stale(name: string): void {
    this.staleNames.add(name)
  }

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
    const { q } = this.db
    const rows = new Map(
      pageHits.length === 0
        ? []
        : this.db
            .all(
              q
                .selectFrom('plugins')
                .selectAll()
                .where(
                  'id',
                  'in',
                  pageHits.map((hit) => hit.id),
                ),
            )
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

  /** The search index, brought up to date with what changed since the last search. */
  private index(): SearchIndex {
    const { q } = this.db
    if (!this.searchIndex) {
      this.searchIndex = new SearchIndex()
      this.staleNames.clear()
      const all = this.db.all(q.selectFrom('plugins').selectAll())
      const types = this.db.all(q.selectFrom('types').select(TYPE_COLUMNS))
      const byName = new Map<string, TypeRow[]>()
      for (const type of types) {
        const list = byName.get(type.name)
        if (list) list.push(type)
        else byName.set(type.name, [type])
      }
      for (const row of all) this.searchIndex.put(searchDocument(row, byName.get(row.name) ?? []))
      return this.searchIndex
    }
    for (const name of this.staleNames) {
      const row = this.db.first(q.selectFrom('plugins').selectAll().where('name', '=', name))
      if (!row) {
        this.searchIndex.removeName(name)
        continue
      }
      const types = this.db.all(q.selectFrom('types').select(TYPE_COLUMNS).where('name', '=', name))
      this.searchIndex.put(searchDocument(row, types))
    }
    this.staleNames.clear()
    return this.searchIndex
  }
}

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
