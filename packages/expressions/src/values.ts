import { SafeString } from './nunjucks-internals'

/** Plain objects (object literals, JSON/YAML results, null-prototype maps), not class instances. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** A short name of a value's type for messages: `string`, `number`, `list`, `map`, `null`, ... */
export function typeName(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'list'
  if (value instanceof SafeString) return 'string'
  if (value instanceof Date) return 'date'
  if (typeof value === 'object') return isPlainObject(value) ? 'map' : 'object'
  return typeof value
}

/** The text of a string-like value (strings, and the marked-safe strings macros return). */
export function stringValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (value instanceof SafeString) return value.val
  return undefined
}

/** A value as a string for string filters: strings, numbers, booleans; anything else is an error. */
export function asString(value: unknown): string {
  const text = stringValue(value)
  if (text !== undefined) return text
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value)
  }
  throw new TypeError(`expected a string, got ${describeValue(value)}`)
}

/** A value as a finite number: numbers and numeric strings. */
export function asNumber(value: unknown, what = 'value'): number {
  const text = stringValue(value)
  const number =
    typeof value === 'number'
      ? value
      : text !== undefined && text.trim() !== ''
        ? Number(text)
        : NaN
  if (!Number.isFinite(number)) {
    throw new TypeError(`${what} must be a number, got ${describeValue(value)}`)
  }
  return number
}

export function asInteger(value: unknown, what = 'value'): number {
  const number = asNumber(value, what)
  if (!Number.isInteger(number))
    throw new TypeError(`${what} must be a whole number, got ${number}`)
  return number
}

/** `a string "abc"`, `a list`, `null`: for error messages, never a full dump. */
export function describeValue(value: unknown): string {
  const text = stringValue(value)
  if (text !== undefined) {
    return `a string "${text.length > 40 ? `${text.slice(0, 40)}…` : text}"`
  }
  if (value === null || value === undefined) return String(value)
  if (typeof value === 'number' || typeof value === 'boolean') return `the ${typeof value} ${value}`
  const name = typeName(value)
  return `${/^[aeiou]/.test(name) ? 'an' : 'a'} ${name}`
}

/**
 * How a value reads in text output: strings as they are, null as nothing, lists and maps as JSON
 * (more useful in a flow than `[object Object]`), dates as ISO-8601.
 */
export function toText(value: unknown): string {
  if (typeof value === 'string') return value
  if (value === null || value === undefined) return ''
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value)
  }
  if (value instanceof SafeString) return value.val
  if (value instanceof Date)
    return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()
  if (typeof value === 'object') {
    const ownToString = (value as { toString?: unknown }).toString
    if (
      !Array.isArray(value) &&
      !isPlainObject(value) &&
      typeof ownToString === 'function' &&
      ownToString !== Object.prototype.toString
    ) {
      return String(value)
    }
    return toJson(value)
  }
  return String(value)
}

/** JSON text; dates become ISO strings, Maps objects, Sets lists, bigints numbers (or strings). */
export function toJson(value: unknown, indent?: number | string): string {
  const text = JSON.stringify(value, jsonReplacer, indent)
  // JSON.stringify returns undefined for functions and symbols at the top level
  return text ?? 'null'
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof SafeString) return value.val
  if (typeof value === 'bigint') {
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()
  }
  if (value instanceof Map) return Object.fromEntries(value)
  if (value instanceof Set) return [...value]
  return value
}

/** nunjucks passes `name=value` arguments as one trailing object marked `__keywords`. */
function isKeywordArgs(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, '__keywords')
}

/**
 * Maps `name=value` arguments onto positional parameters, so `date(timezone='UTC')` works like
 * Pebble's named arguments. Names match case-insensitively.
 */
export function bindArguments(
  owner: string,
  params: readonly string[],
  args: readonly unknown[],
): unknown[] {
  const last = args[args.length - 1]
  if (!isKeywordArgs(last)) return [...args]
  const bound = args.slice(0, -1)
  for (const [key, value] of Object.entries(last)) {
    if (key === '__keywords') continue
    const index = params.findIndex((param) => param.toLowerCase() === key.toLowerCase())
    if (index < 0) {
      const expected = params.length ? `it takes ${params.join(', ')}` : 'it takes no arguments'
      throw new TypeError(`${owner} has no argument "${key}" (${expected})`)
    }
    bound[index] = value
  }
  return bound
}

/** Parses JSON text; anything but a string is an error (it is not JSON text yet). */
export function parseJson(value: unknown): unknown {
  const text = stringValue(value)
  if (text === undefined) throw new TypeError(`expected JSON text, got ${describeValue(value)}`)
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new SyntaxError(`invalid JSON: ${error instanceof Error ? error.message : String(error)}`)
  }
}

/** The `indent` argument of `json`: none, a number of spaces (0-10) or a string. */
export function jsonIndent(indent: unknown): number | string | undefined {
  if (indent === undefined || indent === null) return undefined
  if (typeof indent === 'string') return indent
  const spaces = asInteger(indent, 'indent')
  if (spaces < 0 || spaces > 10)
    throw new RangeError(`indent must be between 0 and 10, got ${spaces}`)
  return spaces
}

const PROTOTYPE_MEMBERS = new Set(Object.getOwnPropertyNames(Object.prototype))

/**
 * Reads `attribute` (dotted for nested, e.g. `user.name`) of an item, for filters such as
 * `sort(attribute='name')` and `join(', ', 'name')`. Never reads Object.prototype members.
 */
export function attributeOf(item: unknown, attribute: string): unknown {
  let value = item
  for (const part of attribute.split('.')) {
    if (value === null || value === undefined) return undefined
    if (PROTOTYPE_MEMBERS.has(part) && !Object.hasOwn(Object(value), part)) return undefined
    value = (value as Record<string, unknown>)[part]
  }
  return value
}

/**
 * Orders values for `sort`, `min` and `max`: numbers by value, strings by code point, dates by
 * time, booleans false first; values of different types by type name; null and undefined last.
 */
export function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0
  if (a === null || a === undefined) return b === null || b === undefined ? 0 : 1
  if (b === null || b === undefined) return -1
  const left = a instanceof Date ? a.getTime() : (stringValue(a) ?? a)
  const right = b instanceof Date ? b.getTime() : (stringValue(b) ?? b)
  if (typeof left !== typeof right) return typeName(left) < typeName(right) ? -1 : 1
  if (typeof left === 'number' || typeof left === 'string' || typeof left === 'boolean') {
    return left < (right as typeof left) ? -1 : left > (right as typeof left) ? 1 : 0
  }
  return 0
}
