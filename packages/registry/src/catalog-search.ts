import type { TypeKind } from '@kite/sdk/host'
import SearchableMap from 'minisearch/SearchableMap'

/** Where a search hit matched, in the order results are ranked by (a name hit weighs most). */
export type SearchField = 'name' | 'group' | 'type' | 'title' | 'keyword' | 'description'
/** How a query word met the word it matched: equal, the start of it, or within a typo or two. */
export type MatchHow = 'exact' | 'prefix' | 'fuzzy'

/** One reason a plugin is in the results. */
export interface SearchMatch {
  field: SearchField
  /** The word as typed. */
  query: string
  /** The indexed word it met (`slack` for a typed `slak`). */
  term: string
  how: MatchHow
  /** The text that holds the word: the type id, the keyword, the title… (at most 120 characters). */
  value: string
}

export const TYPE_KINDS = ['task', 'trigger', 'condition'] as const satisfies readonly TypeKind[]

/** Narrowing that applies on top of the words (all optional, all must hold). */
export interface SearchFilters {
  /** Plugins whose latest version has at least one type of this kind. */
  kind?: TypeKind
  /** Plugins whose group is this group or nested under it (`kite` takes `kite.http`). */
  group?: string
  /** Plugins carrying this keyword (compared without case). */
  keyword?: string
}

export const FILTER_NAMES = ['kind', 'group', 'keyword'] as const satisfies ReadonlyArray<
  keyof SearchFilters
>

/** What a search box's text means: words to look for and `name:value` filters. */
export interface ParsedQuery {
  words: string[]
  filters: SearchFilters
  /** Filters written in the text that could not be used, each with the reason. */
  problems: string[]
}

/** Query words beyond this many are ignored (a pasted paragraph stays cheap). */
export const MAX_QUERY_WORDS = 16
/** …and a word is cut at this many characters. */
export const MAX_WORD_LENGTH = 64

/**
 * Reads what a person typed: words (split on spaces and punctuation, lower-cased, accents
 * removed) and inline filters `kind:trigger`, `group:kite.http`, `keyword:slack`. Never throws:
 * an unusable filter is reported in `problems` and left out.
 */
export function parseSearchQuery(text: string): ParsedQuery {
  const words: string[] = []
  const filters: SearchFilters = {}
  const problems: string[] = []
  for (const chunk of text.slice(0, 2000).split(/\s+/u)) {
    const filter = /^([a-z]+):(.*)$/iu.exec(chunk)
    const name = filter?.[1]?.toLowerCase()
    if (filter && (FILTER_NAMES as readonly string[]).includes(name ?? '')) {
      const checked = checkFilter(name as keyof SearchFilters, filter[2] ?? '')
      if (typeof checked === 'string') problems.push(checked)
      else Object.assign(filters, checked)
      continue
    }
    for (const word of tokenize(chunk, { whole: false })) {
      if (words.length < MAX_QUERY_WORDS) words.push(word.slice(0, MAX_WORD_LENGTH))
    }
  }
  return { words, filters, problems }
}

/**
 * Checks one filter's value; answers the filter, or a message saying what is wrong and what is
 * accepted (used for query parameters and inline filters alike).
 */
export function checkFilter(name: keyof SearchFilters, value: string): SearchFilters | string {
  const trimmed = value.trim()
  if (name === 'kind') {
    const kind = trimmed.toLowerCase()
    if ((TYPE_KINDS as readonly string[]).includes(kind)) return { kind: kind as TypeKind }
    return `kind must be one of ${TYPE_KINDS.join(', ')} (got "${shorten(value, 40)}")`
  }
  if (name === 'group') {
    const group = trimmed.toLowerCase()
    if (/^[a-z][a-z0-9]*(\.[a-z][a-z0-9]*)*$/u.test(group) && group.length <= 200) return { group }
    return `group must be a dotted group such as kite.http (got "${shorten(value, 40)}")`
  }
  const keyword = trimmed.toLowerCase()
  if (keyword.length > 0 && keyword.length <= 100 && !/[\p{C}]/u.test(keyword)) return { keyword }
  return `keyword must be 1 to 100 printable characters (got "${shorten(value, 40)}")`
}

/**
 * Splits text into index words: on spaces and punctuation, and inside identifiers at camelCase
 * humps (`SlackIncomingWebhook` → slack, incoming, webhook, plus the whole word unless
 * `whole: false`, as for query words), lower-cased with accents removed (`Pokédex` → pokedex).
 */
export function tokenize(text: string, options: { whole?: boolean } = {}): string[] {
  const words: string[] = []
  for (const part of text.split(/[^\p{L}\p{N}]+/u)) {
    if (!part) continue
    const humps = part.match(/\p{Lu}+(?![\p{Ll}])|\p{Lu}?[\p{Ll}\p{N}]+|\p{N}+|\p{L}+/gu) ?? [part]
    if (humps.length < 2 || options.whole !== false) words.push(fold(part))
    if (humps.length > 1) for (const hump of humps) words.push(fold(hump))
  }
  return words
}

function fold(word: string): string {
  return word
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
}

/** What the index knows about one plugin: its latest version, plus type ids of older ones. */
export interface SearchDocument {
  id: number
  name: string
  group: string
  title: string
  description: string
  keywords: string[]
  /** Types of the latest version. */
  types: Array<{ type: string; kind: TypeKind; title: string; description: string }>
  /** Type ids only older versions provide (a renamed type is still found by its old id). */
  olderTypes: string[]
  updated: string
}

export interface IndexHit {
  id: number
  score: number
  /** Why it matched (computed on demand). */
  matches: () => SearchMatch[]
}

const FIELDS = {
  name: { weight: 10, text: (doc: SearchDocument) => [doc.name] },
  group: { weight: 8, text: (doc: SearchDocument) => [doc.group] },
  type: {
    weight: 7,
    text: (doc: SearchDocument) => [...doc.types.map((item) => item.type), ...doc.olderTypes],
  },
  title: {
    weight: 4,
    text: (doc: SearchDocument) => [doc.title, ...doc.types.map((item) => item.title)],
  },
  keyword: { weight: 3, text: (doc: SearchDocument) => doc.keywords },
  description: {
    weight: 1,
    text: (doc: SearchDocument) => [doc.description, ...doc.types.map((item) => item.description)],
  },
} satisfies Record<SearchField, { weight: number; text: (doc: SearchDocument) => string[] }>

const FIELD_NAMES = Object.keys(FIELDS) as SearchField[]
const HOW_ORDER: Record<MatchHow, number> = { exact: 0, prefix: 1, fuzzy: 2 }
const HOW_WEIGHT: Record<MatchHow, number> = { exact: 1, prefix: 0.5, fuzzy: 0.25 }
/** Bit of each field in a word's mask. */
const FIELD_BIT = Object.fromEntries(FIELD_NAMES.map((field, bit) => [field, 1 << bit])) as Record<
  SearchField,
  number
>

interface IndexedDocument {
  doc: SearchDocument
  /** Every word of the document, with a bit per field it occurs in. */
  terms: Map<string, number>
}

/**
 * The in-memory search index over the catalog's plugins: one radix tree of every word
 * (minisearch's `SearchableMap`, for prefix and edit-distance lookups) pointing at the plugins
 * that hold it. A query word becomes the indexed words it meets (exact; as a prefix from 2
 * letters; one edit away from 4 letters, two from 8; or two neighbouring letters swapped), a
 * plugin must meet every word, and its score adds, per word, the best field weight × match
 * quality it met (exact 1, prefix ½, typo ¼).
 */
export class SearchIndex {
  private readonly docs = new Map<number, IndexedDocument>()
  private readonly ids = new Map<string, number>()
  private readonly words = new SearchableMap<Set<number>>()

  get size(): number {
    return this.docs.size
  }

  /** Adds a plugin, or replaces what the index had for it. */
  put(doc: SearchDocument): void {
    this.remove(doc.id)
    this.removeName(doc.name)
    const terms = new Map<string, number>()
    for (const field of FIELD_NAMES) {
      for (const text of FIELDS[field].text(doc)) {
        for (const term of tokenize(text))
          terms.set(term, (terms.get(term) ?? 0) | FIELD_BIT[field])
      }
    }
    for (const term of terms.keys()) {
      const holders = this.words.get(term)
      if (holders) holders.add(doc.id)
      else this.words.set(term, new Set([doc.id]))
    }
    this.docs.set(doc.id, { doc, terms })
    this.ids.set(doc.name, doc.id)
  }

  remove(id: number): void {
    const indexed = this.docs.get(id)
    if (!indexed) return
    for (const term of indexed.terms.keys()) {
      const holders = this.words.get(term)
      holders?.delete(id)
      if (holders?.size === 0) this.words.delete(term)
    }
    this.docs.delete(id)
    this.ids.delete(indexed.doc.name)
  }

  /** Forgets a plugin by name (after its last version went). */
  removeName(name: string): void {
    const id = this.ids.get(name)
    if (id !== undefined) this.remove(id)
  }

  /** Every plugin that meets all the words and filters, best first. */
  search(words: readonly string[], filters: SearchFilters): IndexHit[] {
    if (words.length === 0) {
      return [...this.docs.values()]
        .map(({ doc }) => doc)
        .filter((doc) => passes(doc, filters))
        .sort(
          (a, b) =>
            (a.updated < b.updated ? 1 : a.updated > b.updated ? -1 : 0) ||
            (a.name < b.name ? -1 : 1),
        )
        .map((doc) => ({ id: doc.id, score: 0, matches: () => [] }))
    }
    const expanded = words.map((word) => this.expand(word))
    // Plugins meeting every word: walk the rarest word's plugins, check the others'.
    const holders = expanded
      .map((terms) => {
        const ids = new Set<number>()
        for (const term of terms.keys()) for (const id of this.words.get(term) ?? []) ids.add(id)
        return ids
      })
      .sort((a, b) => a.size - b.size)
    const [rarest = new Set<number>(), ...others] = holders
    const hits: IndexHit[] = []
    for (const id of rarest) {
      if (!others.every((ids) => ids.has(id))) continue
      const indexed = this.docs.get(id)
      if (!indexed || !passes(indexed.doc, filters)) continue
      let score = 0
      for (const terms of expanded) {
        let best = 0
        for (const [term, how] of terms) {
          const mask = indexed.terms.get(term)
          if (mask === undefined) continue
          for (const field of FIELD_NAMES) {
            if (mask & FIELD_BIT[field])
              best = Math.max(best, FIELDS[field].weight * HOW_WEIGHT[how])
          }
        }
        score += best
      }
      hits.push({ id, score, matches: () => explain(indexed, words, expanded) })
    }
    return hits.sort(
      (a, b) => b.score - a.score || (this.nameOf(a.id) < this.nameOf(b.id) ? -1 : 1),
    )
  }

  /** The indexed words a query word meets, each with how. */
  private expand(word: string): Map<string, MatchHow> {
    const terms = new Map<string, MatchHow>()
    if (this.words.has(word)) terms.set(word, 'exact')
    if (word.length >= 2) {
      for (const term of this.words.atPrefix(word).keys()) {
        if (!terms.has(term)) terms.set(term, 'prefix')
      }
    }
    const distance = word.length < 4 ? 0 : word.length < 8 ? 1 : 2
    if (distance === 0) return terms
    for (const term of this.words.fuzzyGet(word, distance).keys()) {
      if (!terms.has(term)) terms.set(term, 'fuzzy')
    }
    // Two letters swapped ("ecoh"): one typo to a person, two edits to Levenshtein.
    for (let index = 0; index < word.length - 1; index++) {
      if (word[index] === word[index + 1]) continue
      const swapped = word.slice(0, index) + word[index + 1] + word[index] + word.slice(index + 2)
      if (!terms.has(swapped) && this.words.has(swapped)) terms.set(swapped, 'fuzzy')
    }
    return terms
  }

  private nameOf(id: number): string {
    return this.docs.get(id)?.doc.name ?? ''
  }
}

function passes(doc: SearchDocument, filters: SearchFilters): boolean {
  if (filters.kind && !doc.types.some((item) => item.kind === filters.kind)) return false
  if (filters.group && doc.group !== filters.group && !doc.group.startsWith(`${filters.group}.`))
    return false
  if (filters.keyword && !doc.keywords.some((word) => word.toLowerCase() === filters.keyword))
    return false
  return true
}

/**
 * Why a plugin matched: for each query word and field, the best indexed word it met there
 * (exact before prefix before typo) and the text holding it.
 */
function explain(
  indexed: IndexedDocument,
  words: readonly string[],
  expanded: ReadonlyArray<Map<string, MatchHow>>,
): SearchMatch[] {
  const matches: SearchMatch[] = []
  const tokens = new Map<string, string[]>()
  const tokensOf = (text: string) => {
    const known = tokens.get(text)
    if (known) return known
    const list = tokenize(text)
    tokens.set(text, list)
    return list
  }
  for (const [index, terms] of expanded.entries()) {
    const query = words[index] as string
    const best = new Map<SearchField, { term: string; how: MatchHow }>()
    for (const [term, how] of terms) {
      const mask = indexed.terms.get(term)
      if (mask === undefined) continue
      for (const field of FIELD_NAMES) {
        const known = best.get(field)
        if (mask & FIELD_BIT[field] && (!known || HOW_ORDER[how] < HOW_ORDER[known.how]))
          best.set(field, { term, how })
      }
    }
    for (const [field, { term, how }] of best) {
      const value = FIELDS[field].text(indexed.doc).find((text) => tokensOf(text).includes(term))
      matches.push({ field, query, term, how, value: shorten(value ?? term, 120) })
    }
  }
  return matches.sort(
    (a, b) =>
      HOW_ORDER[a.how] - HOW_ORDER[b.how] ||
      FIELDS[b.field].weight - FIELDS[a.field].weight ||
      (a.term < b.term ? -1 : 1),
  )
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}
