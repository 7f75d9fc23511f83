import {
  describeJsonType,
  type JsonSchema,
  listManifestTypes,
  type PluginManifest,
  type TypeKind,
  type TypeManifest,
} from '@kite/sdk/host'
import semver from 'semver'

/** What changed, one kind per rule; `breaking` says whether existing flows may stop working. */
export type SchemaChangeKind =
  | 'type-removed'
  | 'type-added'
  | 'kind-changed'
  | 'type-deprecated'
  | 'property-removed'
  | 'property-added'
  | 'property-required'
  | 'property-optional'
  | 'property-narrowed'
  | 'property-widened'
  | 'enum-value-removed'
  | 'enum-value-added'
  | 'default-changed'
  | 'dynamic-changed'
  | 'property-deprecated'
  | 'output-removed'
  | 'output-added'
  | 'output-optional'
  | 'output-changed'
  | 'sdk-range-changed'

export interface SchemaChange {
  /** The type the change is in (empty for plugin-wide changes). */
  type: string
  kind: SchemaChangeKind
  /** Where in the type: `properties.method`, `outputs.body`, `properties.headers[]`… */
  path: string
  breaking: boolean
  /** One sentence a flow author can act on. */
  message: string
  before?: unknown
  after?: unknown
}

export interface ManifestDiff {
  name: string
  from: string
  to: string
  /** True when at least one change is breaking. */
  breaking: boolean
  counts: { breaking: number; nonBreaking: number }
  changes: SchemaChange[]
}

/**
 * Compares two versions' manifests type by type. Breaking: a removed type or property, a newly
 * required property, a narrowed property type or constraint, a removed enum value, a removed (or
 * now optional, or differently typed) output field, a changed default, expressions no longer
 * rendered. Everything else (additions, widenings, deprecations) is not breaking.
 */
export function diffManifests(from: PluginManifest, to: PluginManifest): ManifestDiff {
  const changes: SchemaChange[] = []
  const before = new Map(listManifestTypes(from).map((item) => [item.entry.type, item]))
  const after = new Map(listManifestTypes(to).map((item) => [item.entry.type, item]))
  if (from.sdkRange !== to.sdkRange) {
    changes.push({
      type: '',
      kind: 'sdk-range-changed',
      path: 'sdkRange',
      breaking: false,
      message: `built for @kite/sdk ${to.sdkRange} instead of ${from.sdkRange}`,
      before: from.sdkRange,
      after: to.sdkRange,
    })
  }
  for (const [type, old] of before) {
    const next = after.get(type)
    if (!next) {
      changes.push({
        type,
        kind: 'type-removed',
        path: '',
        breaking: true,
        message: `${old.kind} ${type} was removed`,
      })
      continue
    }
    diffType(type, old, next, changes)
  }
  for (const [type, next] of after) {
    if (!before.has(type)) {
      changes.push({
        type,
        kind: 'type-added',
        path: '',
        breaking: false,
        message: `${next.kind} ${type} was added`,
      })
    }
  }
  const breaking = changes.filter((change) => change.breaking).length
  return {
    name: to.name,
    from: from.version,
    to: to.version,
    breaking: breaking > 0,
    counts: { breaking, nonBreaking: changes.length - breaking },
    changes,
  }
}

interface TypeItem {
  kind: TypeKind
  entry: TypeManifest
}

function diffType(type: string, old: TypeItem, next: TypeItem, changes: SchemaChange[]): void {
  const push = (change: Omit<SchemaChange, 'type'>) => changes.push({ type, ...change })
  if (old.kind !== next.kind) {
    push({
      kind: 'kind-changed',
      path: '',
      breaking: true,
      message: `${type} is now a ${next.kind}, no longer a ${old.kind}`,
      before: old.kind,
      after: next.kind,
    })
    return
  }
  if (!old.entry.deprecated && next.entry.deprecated) {
    push({
      kind: 'type-deprecated',
      path: '',
      breaking: false,
      message: `${type} is deprecated${typeof next.entry.deprecated === 'string' ? `: ${next.entry.deprecated}` : ''}`,
    })
  }
  if ('interval' in old.entry && 'interval' in next.entry) {
    if (old.entry.interval !== next.entry.interval) {
      push({
        kind: 'default-changed',
        path: 'interval',
        breaking: true,
        message: `the default polling interval changed from ${old.entry.interval} to ${next.entry.interval}`,
        before: old.entry.interval,
        after: next.entry.interval,
      })
    }
  }
  diffInputObject('properties', old.entry.properties, next.entry.properties, push)
  if ('outputs' in old.entry && 'outputs' in next.entry) {
    diffOutputObject('outputs', old.entry.outputs, next.entry.outputs, push)
  }
}

type Push = (change: Omit<SchemaChange, 'type'>) => void

interface PropertyPair {
  name: string
  /** `path.name` */
  where: string
  old: JsonSchema
  next: JsonSchema
  wasRequired: boolean
  isRequired: boolean
}

/**
 * Walks the properties of two object schemas in the old order: pushes a `<noun>-removed` change
 * for each one gone and calls `kept` for each one in both. Returns the new ones with whether
 * they are required.
 */
function pairProperties(
  path: string,
  before: JsonSchema,
  after: JsonSchema,
  noun: 'property' | 'output',
  push: Push,
  kept: (pair: PropertyPair) => void,
): { name: string; next: JsonSchema; required: boolean }[] {
  const oldProps = before.properties ?? {}
  const newProps = after.properties ?? {}
  const oldRequired = new Set(before.required ?? [])
  const newRequired = new Set(after.required ?? [])
  for (const [name, old] of Object.entries(oldProps)) {
    const where = `${path}.${name}`
    const next = newProps[name]
    if (next) {
      kept({
        name,
        where,
        old,
        next,
        wasRequired: oldRequired.has(name),
        isRequired: newRequired.has(name),
      })
    } else {
      push({
        kind: `${noun}-removed`,
        path: where,
        breaking: true,
        message: `${noun} \`${name}\` was removed`,
      })
    }
  }
  return Object.entries(newProps)
    .filter(([name]) => !oldProps[name])
    .map(([name, next]) => ({ name, next, required: newRequired.has(name) }))
}

function diffInputObject(path: string, before: JsonSchema, after: JsonSchema, push: Push): void {
  const added = pairProperties(path, before, after, 'property', push, (pair) => {
    diffInputProperty(pair, push)
  })
  for (const { name, next, required } of added) {
    push({
      kind: required ? 'property-required' : 'property-added',
      path: `${path}.${name}`,
      breaking: required,
      message: required
        ? `new required property \`${name}\` (${describeJsonType(next)})`
        : `new optional property \`${name}\` (${describeJsonType(next)})`,
    })
  }
}

function diffInputProperty(pair: PropertyPair, push: Push): void {
  const { name, where, old, next } = pair
  if (!pair.wasRequired && pair.isRequired) {
    push({
      kind: 'property-required',
      path: where,
      breaking: true,
      message: `property \`${name}\` is now required`,
    })
  } else if (pair.wasRequired && !pair.isRequired) {
    push({
      kind: 'property-optional',
      path: where,
      breaking: false,
      message: `property \`${name}\` is now optional`,
    })
  }
  if (!sameJson(old.default, next.default)) {
    // A new default for a property every flow had to set cannot change what a flow does.
    const mattered = !pair.wasRequired
    push({
      kind: 'default-changed',
      path: where,
      breaking: mattered,
      message: `the default of \`${name}\` changed from ${showDefault(old.default)} to ${showDefault(next.default)}`,
      before: old.default,
      after: next.default,
    })
  }
  if (old.$dynamic !== false && next.$dynamic === false) {
    push({
      kind: 'dynamic-changed',
      path: where,
      breaking: true,
      message: `\`${name}\` no longer renders {{ }} expressions`,
    })
  } else if (old.$dynamic === false && next.$dynamic !== false) {
    push({
      kind: 'dynamic-changed',
      path: where,
      breaking: false,
      message: `\`${name}\` now renders {{ }} expressions`,
    })
  }
  if (!old.$deprecated && next.$deprecated) {
    push({
      kind: 'property-deprecated',
      path: where,
      breaking: false,
      message: `property \`${name}\` is deprecated${typeof next.$deprecated === 'string' ? `: ${next.$deprecated}` : ''}`,
    })
  }
  diffInputValue(where, name, old, next, push)
}

function diffInputValue(
  path: string,
  name: string,
  before: JsonSchema,
  after: JsonSchema,
  push: Push,
): void {
  const oldEnum = enumValues(before)
  const newEnum = enumValues(after)
  if (oldEnum && newEnum) {
    for (const value of oldEnum) {
      if (!newEnum.some((item) => sameJson(item, value))) {
        push({
          kind: 'enum-value-removed',
          path,
          breaking: true,
          message: `\`${name}\` no longer accepts ${JSON.stringify(value)}`,
          before: value,
        })
      }
    }
    for (const value of newEnum) {
      if (!oldEnum.some((item) => sameJson(item, value))) {
        push({
          kind: 'enum-value-added',
          path,
          breaking: false,
          message: `\`${name}\` also accepts ${JSON.stringify(value)}`,
          after: value,
        })
      }
    }
  } else {
    const verdict = compareAccepted(before, after)
    if (verdict === 'narrowed' || verdict === 'changed') {
      push({
        kind: 'property-narrowed',
        path,
        breaking: true,
        message: `\`${name}\` accepts less: ${describeJsonType(before)} became ${describeJsonType(after)}`,
        before: describeJsonType(before),
        after: describeJsonType(after),
      })
    } else if (verdict === 'widened') {
      push({
        kind: 'property-widened',
        path,
        breaking: false,
        message: `\`${name}\` accepts more: ${describeJsonType(before)} became ${describeJsonType(after)}`,
        before: describeJsonType(before),
        after: describeJsonType(after),
      })
    }
  }
  const constraints = sharesType(before, after) ? compareConstraints(before, after) : []
  for (const change of constraints) {
    push({
      kind: change.narrowed ? 'property-narrowed' : 'property-widened',
      path,
      breaking: change.narrowed,
      message: `\`${name}\`: ${change.message}`,
      before: change.before,
      after: change.after,
    })
  }
  if (isObjectSchema(before) && isObjectSchema(after)) {
    diffInputObject(path, before, after, push)
  }
  if (before.items && after.items && !Array.isArray(before.items)) {
    diffInputValue(`${path}[]`, `${name}[]`, before.items, after.items, push)
  }
}

function diffOutputObject(path: string, before: JsonSchema, after: JsonSchema, push: Push): void {
  const added = pairProperties(
    path,
    before,
    after,
    'output',
    push,
    ({ name, where, old, next, wasRequired, isRequired }) => {
      if (wasRequired && !isRequired) {
        push({
          kind: 'output-optional',
          path: where,
          breaking: true,
          message: `output \`${name}\` may now be absent`,
        })
      }
      // For outputs the direction flips: a consumer breaks when an output can hold more than before.
      const verdict = compareAccepted(old, next)
      if (verdict !== 'same') {
        push({
          kind: 'output-changed',
          path: where,
          breaking: verdict !== 'narrowed',
          message: `output \`${name}\` changed from ${describeJsonType(old)} to ${describeJsonType(next)}`,
          before: describeJsonType(old),
          after: describeJsonType(next),
        })
      }
      if (isObjectSchema(old) && isObjectSchema(next)) diffOutputObject(where, old, next, push)
    },
  )
  for (const { name, next } of added) {
    push({
      kind: 'output-added',
      path: `${path}.${name}`,
      breaking: false,
      message: `new output \`${name}\` (${describeJsonType(next)})`,
    })
  }
}

type Verdict = 'same' | 'narrowed' | 'widened' | 'changed'

/** Compares the sets of values two schemas accept, by JSON type and enum/const values. */
function compareAccepted(before: JsonSchema, after: JsonSchema): Verdict {
  const oldEnum = enumValues(before)
  const newEnum = enumValues(after)
  if (oldEnum && newEnum) {
    const lost = oldEnum.some((value) => !newEnum.some((item) => sameJson(item, value)))
    const gained = newEnum.some((value) => !oldEnum.some((item) => sameJson(item, value)))
    return verdict(lost, gained)
  }
  const oldTypes = jsonTypes(before)
  const newTypes = jsonTypes(after)
  if (oldEnum && !newEnum) {
    const covered = oldEnum.every((value) => covers(newTypes, typeOfValue(value)))
    return covered ? 'widened' : 'changed'
  }
  if (!oldEnum && newEnum) {
    return 'narrowed'
  }
  if (oldTypes === 'any' && newTypes === 'any') return 'same'
  if (oldTypes === 'any') return 'narrowed'
  if (newTypes === 'any') return 'widened'
  const lost = [...oldTypes].some((type) => !covers(newTypes, type))
  const gained = [...newTypes].some((type) => !covers(oldTypes, type))
  return verdict(lost, gained)
}

function verdict(lost: boolean, gained: boolean): Verdict {
  if (lost && gained) return 'changed'
  if (lost) return 'narrowed'
  if (gained) return 'widened'
  return 'same'
}

const LOWER_BOUNDS = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties']
const UPPER_BOUNDS = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties']
const EXACT = ['pattern', 'format']

interface ConstraintChange {
  narrowed: boolean
  message: string
  before: unknown
  after: unknown
}

function compareConstraints(before: JsonSchema, after: JsonSchema): ConstraintChange[] {
  const out: ConstraintChange[] = []
  const check = (keyword: string, tighter: (a: number, b: number) => boolean) => {
    const old = bound(before[keyword])
    const next = bound(after[keyword])
    if (sameJson(old, next)) return
    const narrowed =
      next !== undefined &&
      (old === undefined ||
        (typeof old === 'number' && typeof next === 'number' ? tighter(old, next) : true))
    out.push({
      narrowed,
      message:
        old === undefined
          ? `${keyword} ${JSON.stringify(next)} added`
          : next === undefined
            ? `${keyword} ${JSON.stringify(old)} removed`
            : `${keyword} changed from ${JSON.stringify(old)} to ${JSON.stringify(next)}`,
      before: old,
      after: next,
    })
  }
  for (const keyword of LOWER_BOUNDS) check(keyword, (old, next) => next > old)
  for (const keyword of UPPER_BOUNDS) check(keyword, (old, next) => next < old)
  for (const keyword of EXACT) check(keyword, () => true)
  return out
}

/** zod writes the safe-integer range on every `.int()`; that is no constraint a person set. */
function bound(value: unknown): unknown {
  return value === Number.MAX_SAFE_INTEGER || value === Number.MIN_SAFE_INTEGER ? undefined : value
}

/** Constraints only compare between schemas of a common JSON type (a string has no minimum). */
function sharesType(before: JsonSchema, after: JsonSchema): boolean {
  const old = jsonTypes(before)
  const next = jsonTypes(after)
  if (old === 'any' || next === 'any') return true
  return [...old].some(
    (type) => covers(next, type) || [...next].some((other) => covers(old, other)),
  )
}

function enumValues(schema: JsonSchema): unknown[] | undefined {
  if (Array.isArray(schema.enum)) return schema.enum
  if (schema.const !== undefined) return [schema.const]
  const union = schema.anyOf ?? schema.oneOf
  if (union && union.length > 0) {
    const parts = union.map(enumValues)
    if (parts.every((part) => part !== undefined)) return parts.flat()
  }
  return undefined
}

function jsonTypes(schema: JsonSchema): Set<string> | 'any' {
  const union = schema.anyOf ?? schema.oneOf
  if (union && union.length > 0) {
    const out = new Set<string>()
    for (const part of union) {
      const types = jsonTypes(part)
      if (types === 'any') return 'any'
      for (const type of types) out.add(type)
    }
    return out
  }
  if (schema.const !== undefined) return new Set([typeOfValue(schema.const)])
  if (Array.isArray(schema.enum)) return new Set(schema.enum.map(typeOfValue))
  if (Array.isArray(schema.type)) return new Set(schema.type)
  if (typeof schema.type === 'string') return new Set([schema.type])
  return 'any'
}

function covers(types: Set<string> | 'any', type: string): boolean {
  if (types === 'any') return true
  return types.has(type) || (type === 'integer' && types.has('number'))
}

function typeOfValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number'
  return typeof value
}

function isObjectSchema(schema: JsonSchema): boolean {
  return schema.type === 'object' && schema.properties !== undefined
}

function showDefault(value: unknown): string {
  return value === undefined ? 'none' : `\`${JSON.stringify(value)}\``
}

/** Structural equality of JSON values (key order ignored). */
function sameJson(a: unknown, b: unknown): boolean {
  return stableStringify(a) === stableStringify(b)
}

function stableStringify(value: unknown): string {
  if (value === undefined) return 'undefined'
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableStringify(item)}`).join(',')}}`
}

/** One thing an upgrade rewrites in a flow: a migration's note, or a renamed type id. */
export interface UpgradeNote {
  type: string
  note: string
  /** The range of versions the note applies from. */
  from: string
}

/**
 * The migrations of `manifest` that apply to flows written for `from` (their `from` range holds
 * it), and each alias of a task ("renamed": the old type id now resolves to this one).
 */
export function upgradeNotes(manifest: PluginManifest, from: string): UpgradeNote[] {
  const notes: UpgradeNote[] = []
  for (const { entry } of listManifestTypes(manifest)) {
    for (const alias of 'aliases' in entry ? (entry.aliases ?? []) : []) {
      notes.push({
        type: entry.type,
        note: `Renamed in ${manifest.version}: \`${alias}\` is now \`${entry.type}\`.`,
        from: 'every version',
      })
    }
    for (const migration of entry.migrations ?? []) {
      if (!semver.satisfies(from, migration.from, { includePrerelease: true })) continue
      notes.push({ type: entry.type, note: migration.note, from: migration.from })
    }
  }
  return notes
}
