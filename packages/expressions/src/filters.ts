import { createHash } from 'node:crypto'
import { addToDate, formatDate, toDate } from './date-time'
import {
  asInteger,
  asNumber,
  asString,
  attributeOf,
  compareValues,
  describeValue,
  isPlainObject,
  jsonIndent,
  parseJson,
  stringValue,
  toJson,
  toText,
} from './values'

/** A built-in filter: its argument names (after the input, for `name=value`) and its code. */
export interface BuiltinFilter {
  readonly params: readonly string[]
  readonly fn: (value: unknown, ...args: unknown[]) => unknown
}

const filter = (
  params: readonly string[],
  fn: (value: unknown, ...args: unknown[]) => unknown,
): BuiltinFilter => ({ params, fn })

const isMissing = (value: unknown) => value === undefined || value === null

/** `default` replaces undefined, null and the empty string (as Pebble does). */
const defaultFilter = filter(['value', 'boolean'], (value, fallback, boolean) =>
  isMissing(value) || stringValue(value) === '' || (boolean === true && !value) ? fallback : value,
)

const jsonFilter = filter(['indent'], (value, indent) => toJson(value, jsonIndent(indent)))

function text(value: unknown): string {
  return asString(value)
}

function list(value: unknown): unknown[] {
  if (Array.isArray(value)) return value
  if (value instanceof Set) return [...value]
  throw new TypeError(`expected a list, got ${describeValue(value)}`)
}

function optionalString(value: unknown, fallback: string): string {
  return isMissing(value) ? fallback : asString(value)
}

function hash(algorithm: string) {
  return filter([], (value) =>
    createHash(algorithm)
      .update(value instanceof Uint8Array ? value : text(value))
      .digest('hex'),
  )
}

function indentPrefix(width: unknown): string {
  if (typeof width === 'string') return width
  const spaces = isMissing(width) ? 4 : asInteger(width, 'width')
  if (spaces < 0 || spaces > 1000)
    throw new RangeError(`width must be between 0 and 1000, got ${spaces}`)
  return ' '.repeat(spaces)
}

function indentLines(value: unknown, width: unknown, first: boolean): string {
  const prefix = indentPrefix(width)
  return text(value)
    .split('\n')
    .map((line, index) => ((index === 0 && !first) || line === '' ? line : prefix + line))
    .join('\n')
}

function edge(which: 'first' | 'last') {
  return filter([], (value) => {
    if (isMissing(value)) return null
    const string = stringValue(value)
    const items = string !== undefined ? [...string] : list(value)
    const item = which === 'first' ? items[0] : items[items.length - 1]
    return item === undefined ? null : item
  })
}

function entriesOf(value: unknown, what: 'keys' | 'values'): unknown[] {
  if (isMissing(value)) return []
  if (value instanceof Map) return what === 'keys' ? [...value.keys()] : [...value.values()]
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`expected a map, got ${describeValue(value)}`)
  }
  return what === 'keys' ? Object.keys(value) : Object.values(value)
}

function replaceText(value: unknown, search: unknown, replacement: unknown, maxCount: unknown) {
  let result = text(value)
  if (isPlainObject(search)) {
    // Pebble's form: replace({'%name%': name, '%day%': day}), applied in order.
    for (const [from, to] of Object.entries(search)) {
      const replaced = toText(to)
      result = result.replaceAll(from, () => replaced)
    }
    return result
  }
  const to = isMissing(replacement) ? '' : toText(replacement)
  if (search instanceof RegExp) return result.replace(search, to)
  const from = asString(search)
  if (isMissing(maxCount)) return result.replaceAll(from, () => to)
  let remaining = asInteger(maxCount, 'maxCount')
  return result.replaceAll(from, (match) => (remaining-- > 0 ? to : match))
}

function splitText(value: unknown, separator: unknown, limit: unknown): string[] {
  const input = text(value)
  if (isMissing(separator)) throw new TypeError('split needs a separator, e.g. split(",")')
  const parts =
    separator instanceof RegExp ? input.split(separator) : input.split(asString(separator))
  if (isMissing(limit)) return parts
  const max = asInteger(limit, 'limit')
  if (max <= 0 || parts.length <= max || separator instanceof RegExp) return parts
  // Like Java's split(regex, limit): the last part keeps the rest of the text.
  const sep = asString(separator)
  return [...parts.slice(0, max - 1), parts.slice(max - 1).join(sep)]
}

function substringAround(which: 'before' | 'after', last: boolean) {
  // Apache Commons StringUtils semantics, as Kestra's filters of the same names.
  return filter(['separator'], (value, separator) => {
    const input = text(value)
    const sep = asString(separator)
    if (sep === '') return which === 'before' ? '' : input
    const index = last ? input.lastIndexOf(sep) : input.indexOf(sep)
    if (index < 0) return which === 'before' ? input : ''
    return which === 'before' ? input.slice(0, index) : input.slice(index + sep.length)
  })
}

function roundNumber(value: unknown, precision: unknown, method: unknown): number {
  const number = asNumber(value)
  const digits = isMissing(precision) ? 0 : asInteger(precision, 'precision')
  const mode = optionalString(method, 'common')
  const factor = 10 ** digits
  // toPrecision(15) drops binary noise: 1.005 * 100 is 100.49999999999999, not 100.5
  const scaled = Number((Math.abs(number) * factor).toPrecision(15))
  let rounded: number
  if (mode === 'common') rounded = Math.sign(number) * Math.round(scaled)
  else if (mode === 'ceil') rounded = Math.ceil(number * factor)
  else if (mode === 'floor') rounded = Math.floor(number * factor)
  else throw new RangeError(`method must be common, ceil or floor, got "${mode}"`)
  return rounded / factor || 0
}

function uniqueItems(value: unknown): unknown[] {
  const seen = new Set<unknown>()
  const result: unknown[] = []
  for (const item of list(value)) {
    const key = typeof item === 'object' && item !== null ? `\u0000${toJson(item)}` : item
    if (!seen.has(key)) {
      seen.add(key)
      result.push(item)
    }
  }
  return result
}

function sortItems(value: unknown, reverse: unknown, attribute: unknown): unknown[] {
  const key = isMissing(attribute)
    ? (item: unknown) => item
    : (item: unknown) => attributeOf(item, asString(attribute))
  const sorted = [...list(value)].sort((a, b) => compareValues(key(a), key(b)))
  return reverse === true ? sorted.reverse() : sorted
}

function lengthOf(value: unknown): number {
  if (isMissing(value)) return 0
  const string = stringValue(value)
  if (string !== undefined) return string.length
  if (Array.isArray(value)) return value.length
  if (value instanceof Map || value instanceof Set) return value.size
  if (typeof value === 'object') return Object.keys(value as object).length
  throw new TypeError(`${describeValue(value)} has no length`)
}

function urlEncode(value: unknown): string {
  if (isPlainObject(value)) {
    return Object.entries(value)
      .map(([key, item]) => `${encodeURIComponent(key)}=${encodeURIComponent(toText(item))}`)
      .join('&')
  }
  if (Array.isArray(value)) {
    // nunjucks' form: a list of [key, value] pairs
    return value
      .map((pair) => {
        const [key, item] = list(pair)
        return `${encodeURIComponent(toText(key))}=${encodeURIComponent(toText(item))}`
      })
      .join('&')
  }
  return encodeURIComponent(text(value))
}

function base64Decode(value: unknown): string {
  const input = text(value).replace(/\s+/g, '')
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(input) || input.length % 4 === 1) {
    throw new TypeError('the input is not valid base64')
  }
  return Buffer.from(input, 'base64').toString('utf8')
}

function toNumber(value: unknown, type: unknown): number {
  const number = asNumber(value)
  if (isMissing(type)) return number
  const name = asString(type).toUpperCase()
  if (['INT', 'INTEGER', 'LONG', 'BIGINTEGER'].includes(name)) return Math.trunc(number)
  if (['FLOAT', 'DOUBLE', 'BIGDECIMAL', 'NUMBER'].includes(name)) return number
  throw new RangeError(`unknown number type "${name}" (use INT, LONG, FLOAT or DOUBLE)`)
}

function merge(value: unknown, other: unknown): unknown {
  if (Array.isArray(value)) return [...value, ...list(other)]
  if (isPlainObject(value) && isPlainObject(other)) return { ...value, ...other }
  throw new TypeError(
    `merge needs two lists or two maps, got ${describeValue(value)} and ${describeValue(other)}`,
  )
}

function chunk(value: unknown, size: unknown): unknown[][] {
  const items = list(value)
  const length = asInteger(size, 'size')
  if (length < 1) throw new RangeError(`size must be at least 1, got ${length}`)
  const chunks: unknown[][] = []
  for (let i = 0; i < items.length; i += length) chunks.push(items.slice(i, i + length))
  return chunks
}

/** Jinja's batch: lists of `size` items, the last one padded with `fill` when given. */
function batch(value: unknown, size: unknown, fill: unknown): unknown[][] {
  const length = asInteger(size, 'size')
  if (length > 100_000) throw new RangeError(`size must be at most 100000, got ${length}`)
  const batches = chunk(value, length)
  const lastBatch = batches[batches.length - 1]
  if (fill !== undefined && lastBatch) {
    while (lastBatch.length < length) lastBatch.push(fill)
  }
  return batches
}

function center(value: unknown, width: unknown): string {
  const input = text(value)
  const size = isMissing(width) ? 80 : asInteger(width, 'width')
  if (size > 10_000) throw new RangeError(`width must be at most 10000, got ${size}`)
  const spaces = Math.max(0, size - input.length)
  const before = Math.floor(spaces / 2)
  return ' '.repeat(before) + input + ' '.repeat(spaces - before)
}

function sliceOf(value: unknown, start: unknown, end: unknown): unknown {
  const from = asInteger(start, 'start')
  const to = isMissing(end) ? undefined : asInteger(end, 'end')
  const string = stringValue(value)
  if (string !== undefined) return string.slice(from, to)
  return list(value).slice(from, to)
}

/**
 * Kite's filters. They replace nunjucks' filters of the same name where Pebble (Kestra's engine)
 * behaves differently: `default` also replaces null and '', `capitalize` keeps the rest of the
 * text, `first`/`last` give null when empty, `slice(start, end)` cuts rather than columns,
 * string filters reject lists instead of printing `[object Object]`.
 */
export const KITE_FILTERS: Readonly<Record<string, BuiltinFilter>> = {
  // JSON
  json: jsonFilter,
  toJson: jsonFilter,
  fromJson: filter([], parseJson),

  // dates
  date: filter(['format', 'timezone'], (value, format, timezone) =>
    formatDate(toDate(value), optionalString(format, 'iso'), optionalString(timezone, 'UTC')),
  ),
  dateAdd: filter(['amount', 'unit'], (value, amount, unit) => {
    if (isMissing(unit))
      throw new TypeError('dateAdd needs an amount and a unit, e.g. dateAdd(-1, "DAYS")')
    return addToDate(toDate(value), asInteger(amount, 'amount'), asString(unit)).toISOString()
  }),
  timestamp: filter([], (value) => Math.floor(toDate(value).getTime() / 1000)),

  // values
  default: defaultFilter,
  d: defaultFilter,
  string: filter([], toText),
  number: filter(['type'], toNumber),
  abs: filter([], (value) => Math.abs(asNumber(value))),
  round: filter(['precision', 'method'], roundNumber),

  // text
  upper: filter([], (value) => text(value).toUpperCase()),
  lower: filter([], (value) => text(value).toLowerCase()),
  capitalize: filter([], (value) => {
    const input = text(value)
    return input.charAt(0).toUpperCase() + input.slice(1)
  }),
  title: filter([], (value) =>
    text(value)
      .toLowerCase()
      .replace(
        /(^|[\s\-_/([{"'])(\p{L})/gu,
        (_, before: string, letter: string) => before + letter.toUpperCase(),
      ),
  ),
  trim: filter([], (value) => text(value).trim()),
  replace: filter(['search', 'replacement', 'maxCount'], replaceText),
  split: filter(['separator', 'limit'], splitText),
  startsWith: filter(['prefix'], (value, prefix) => text(value).startsWith(asString(prefix))),
  endsWith: filter(['suffix'], (value, suffix) => text(value).endsWith(asString(suffix))),
  substring: filter(['start', 'end'], (value, start, end) =>
    text(value).slice(
      asInteger(start, 'start'),
      isMissing(end) ? undefined : asInteger(end, 'end'),
    ),
  ),
  substringBefore: substringAround('before', false),
  substringAfter: substringAround('after', false),
  substringBeforeLast: substringAround('before', true),
  substringAfterLast: substringAround('after', true),
  abbreviate: filter(['length'], (value, length) => {
    const input = text(value)
    const max = asInteger(length, 'length')
    if (max < 4) throw new RangeError(`length must be at least 4, got ${max}`)
    return input.length <= max ? input : `${input.slice(0, max - 3)}...`
  }),
  slugify: filter([], (value) =>
    text(value)
      .normalize('NFKD')
      .replace(/\p{M}+/gu, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, ''),
  ),
  indent: filter(['width', 'first'], (value, width, first) =>
    indentLines(value, width, first === true),
  ),
  nindent: filter(['width'], (value, width) => `\n${indentLines(value, width, true)}`),

  // encodings and hashes
  base64encode: filter([], (value) =>
    Buffer.from(value instanceof Uint8Array ? value : Buffer.from(text(value), 'utf8')).toString(
      'base64',
    ),
  ),
  base64decode: filter([], base64Decode),
  urlencode: filter([], urlEncode),
  urldecode: filter([], (value) => decodeURIComponent(text(value).replaceAll('+', ' '))),
  md5: hash('md5'),
  sha1: hash('sha1'),
  sha256: hash('sha256'),
  sha512: hash('sha512'),

  // lists and maps
  length: filter([], lengthOf),
  join: filter(['separator', 'attribute'], (value, separator, attribute) => {
    const items = isMissing(attribute)
      ? list(value)
      : list(value).map((item) => attributeOf(item, asString(attribute)))
    return items.map(toText).join(optionalString(separator, ''))
  }),
  keys: filter([], (value) => entriesOf(value, 'keys')),
  values: filter([], (value) => entriesOf(value, 'values')),
  first: edge('first'),
  last: edge('last'),
  sort: filter(['reverse', 'attribute'], sortItems),
  reverse: filter([], (value) => {
    const string = stringValue(value)
    return string !== undefined ? [...string].reverse().join('') : [...list(value)].reverse()
  }),
  unique: filter([], uniqueItems),
  flatten: filter(['depth'], (value, depth) =>
    list(value).flat(isMissing(depth) ? 1 : asInteger(depth, 'depth')),
  ),
  chunk: filter(['size'], chunk),
  batch: filter(['size', 'fill'], batch),
  center: filter(['width'], center),
  merge: filter(['other'], merge),
  slice: filter(['start', 'end'], sliceOf),
}

/** Kite's extra tests (`x is empty`), next to nunjucks' (`defined`, `none`, `number`, ...). */
export const KITE_TESTS: Readonly<Record<string, (value: unknown) => boolean>> = {
  empty: (value) => {
    if (isMissing(value)) return true
    const string = stringValue(value)
    if (string !== undefined) return string === ''
    if (Array.isArray(value)) return value.length === 0
    if (value instanceof Map || value instanceof Set) return value.size === 0
    if (typeof value === 'object') return Object.keys(value).length === 0
    return false
  },
}
