import type { TypeKind } from '@kite/sdk/host'
import MiniSearch, { type SearchResult as MiniSearchHit, type Query } from 'minisearch'

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

const FUZZY_WEIGHT = 0.25
const FIELD_NAMES = Object.keys(FIELDS) as SearchField[]
const HOW_ORDER: Record<MatchHow, number> = { exact: 0, prefix: 1, fuzzy: 2 }

/**
 * The in-memory search index over the catalog's plugins (minisearch: prefix and typo-tolerant
 * matching over a radix tree, BM25 ranking with per-field weights). Words up to 3 letters must
 * match exactly or as a prefix; longer ones may be one edit away, from 8 letters two.
 */
export class SearchIndex {
  private readonly docs = new Map<number, SearchDocument>()
  private readonly ids = new Map<string, number>()
  private readonly mini = new MiniSearch<SearchDocument>({
    fields: FIELD_NAMES,
    idField: 'id',
    extractField: (doc, field) =>
      field === 'id' ? String(doc.id) : FIELDS[field as SearchField].text(doc).join('\n'),
    tokenize: (text) => tokenize(text),
    processTerm: (term) => term,
    searchOptions: {
      // The words arrive already split and folded by parseSearchQuery.
      tokenize: (text) => text.split(' '),
      combineWith: 'AND',
      boost: Object.fromEntries(FIELD_NAMES.map((field) => [field, FIELDS[field].weight])),
      prefix: (term) => term.length >= 2,
      fuzzy: (term) => (term.length < 4 ? false : term.length < 8 ? 1 : 2),
      weights: { prefix: 0.5, fuzzy: FUZZY_WEIGHT },
    },
  })

  get size(): number {
    return this.docs.size
  }

  /** Adds a plugin, or replaces what the index had for it. */
  put(doc: SearchDocument): void {
    this.remove(doc.id)
    this.removeName(doc.name)
    this.docs.set(doc.id, doc)
    this.ids.set(doc.name, doc.id)
    this.mini.add(doc)
  }

  remove(id: number): void {
    const doc = this.docs.get(id)
    if (!doc) return
    this.mini.discard(String(id))
    this.docs.delete(id)
    this.ids.delete(doc.name)
  }

  /** Forgets a plugin by name (after its last version went). */
  removeName(name: string): void {
    const id = this.ids.get(name)
    if (id !== undefined) this.remove(id)
  }

  /** Every plugin that meets all the words and filters, best first. */
  search(words: readonly string[], filters: SearchFilters): IndexHit[] {
    const keep = (id: number) => {
      const doc = this.docs.get(id)
      return doc !== undefined && passes(doc, filters)
    }
    if (words.length === 0) {
      return [...this.docs.values()]
        .filter((doc) => passes(doc, filters))
        .sort(
          (a, b) =>
            (a.updated < b.updated ? 1 : a.updated > b.updated ? -1 : 0) ||
            (a.name < b.name ? -1 : 1),
        )
        .map((doc) => ({ id: doc.id, score: 0, matches: () => [] }))
    }
    const hits = this.mini.search(
      { combineWith: 'AND', queries: words.map(wordQuery) },
      { filter: (hit) => keep(Number(hit.id)) },
    )
    return hits
      .map((hit) => {
        const doc = this.docs.get(Number(hit.id)) as SearchDocument
        // A word met exactly in a name, group or type id outranks the same word met only in
        // prose: the thing someone named comes first.
        const named = Object.entries(hit.match).some(
          ([term, fields]) =>
            words.includes(term) &&
            fields.some((field) => field === 'name' || field === 'group' || field === 'type'),
        )
        return {
          id: doc.id,
          score: hit.score * (named ? 2 : 1),
          // Explaining costs a tokenising pass over the document: done only for the page shown.
          matches: () => explain(doc, hit, words),
        }
      })
      .sort((a, b) => b.score - a.score || (this.nameOf(a.id) < this.nameOf(b.id) ? -1 : 1))
  }

  private nameOf(id: number): string {
    return this.docs.get(id)?.name ?? ''
  }
}

/**
 * One query word: itself (exact, prefix, or an edit or two away), or the word with two
 * neighbouring letters swapped ("ecoh" → echo), which edit distance would count as two typos.
 */
function wordQuery(word: string): Query {
  if (word.length < 4) return word
  const swaps = new Set<string>()
  for (let index = 0; index < word.length - 1; index++) {
    if (word[index] === word[index + 1]) continue
    swaps.add(word.slice(0, index) + word[index + 1] + word[index] + word.slice(index + 2))
  }
  return {
    combineWith: 'OR',
    queries: [
      word,
      {
        combineWith: 'OR',
        queries: [...swaps],
        prefix: false,
        fuzzy: false,
        boostTerm: () => FUZZY_WEIGHT,
      },
    ],
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

/** Turns minisearch's `match` (indexed term → fields) into reasons a person can read. */
function explain(doc: SearchDocument, hit: MiniSearchHit, words: readonly string[]): SearchMatch[] {
  const matches: SearchMatch[] = []
  for (const [term, fields] of Object.entries(hit.match)) {
    const { query, how } = closestWord(term, words)
    for (const field of fields as SearchField[]) {
      const value = FIELDS[field].text(doc).find((text) => tokenize(text).includes(term)) ?? term
      matches.push({ field, query, term, how, value: shorten(value, 120) })
    }
  }
  return matches.sort(
    (a, b) =>
      HOW_ORDER[a.how] - HOW_ORDER[b.how] ||
      FIELDS[b.field].weight - FIELDS[a.field].weight ||
      (a.term < b.term ? -1 : 1),
  )
}

function closestWord(term: string, words: readonly string[]): { query: string; how: MatchHow } {
  const exact = words.find((word) => word === term)
  if (exact) return { query: exact, how: 'exact' }
  const prefix = words.find((word) => term.startsWith(word))
  if (prefix) return { query: prefix, how: 'prefix' }
  let best = words[0] ?? term
  let bestDistance = Number.POSITIVE_INFINITY
  for (const word of words) {
    const distance = editDistance(word, term.slice(0, word.length + 2))
    if (distance < bestDistance) {
      best = word
      bestDistance = distance
    }
  }
  return { query: best, how: 'fuzzy' }
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      )
    }
    previous = current
  }
  return previous[b.length] as number
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}
