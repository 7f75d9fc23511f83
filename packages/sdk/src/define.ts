import { z } from 'zod'
import type { ConditionContext, RunContext, TriggerContext } from './context.js'
import { parseDuration } from './duration.js'
import { formatIssues, KiteError } from './errors.js'
import { reservedPropertyNames } from './flow-keys.js'
import { GROUP_PATTERN, NAME_PATTERN, TYPE_ID_PATTERN, typeId } from './names.js'
import { isEmptyPermissions, PluginPermissions } from './permissions.js'

/** The schema of a task's, trigger's or condition's properties: always a zod object. */
export type PropertiesSchema = z.ZodObject<z.ZodRawShape, z.core.$ZodObjectConfig>
/** The schema of a task's outputs or a trigger's event: always a zod object. */
export type OutputsSchema = z.ZodObject<z.ZodRawShape, z.core.$ZodObjectConfig>
/** The outputs schema used when a definition declares none. */
export type NoOutputs = z.ZodObject<Record<string, never>, z.core.$strip>

type MaybePromise<T> = T | Promise<T>
/** What `run` may return: the outputs (input side, so defaults may be left out); nothing when there are none. */
export type TaskResult<O extends OutputsSchema> =
  Record<string, never> extends z.input<O> ? z.input<O> | undefined | void : z.input<O>

/** A documented example; `code` is YAML: the properties alone, or a whole flow when `full`. */
export interface Example {
  title: string
  code: string
  full?: boolean
}

interface CommonSpec<P extends PropertiesSchema> {
  /** PascalCase, with optional dotted lower-case sub-groups: `Request`, `log.Log`. */
  name: string
  title?: string
  description?: string
  properties: P
  examples?: Example[]
  /** `true`, or a message telling users what to use instead. */
  deprecated?: boolean | string
  /**
   * How properties written for older versions of this type become valid for this one. The
   * host runs every migration whose `from` range holds the flow's old version, in order.
   */
  migrations?: Migration[]
}

/**
 * One step from older properties to this version's. `up` receives the raw properties written
 * for a version in `from` (expressions not rendered) and returns the properties for this version.
 *
 * @example
 * { from: '1.x', note: '`name` is now `who`', up: ({ name, ...rest }) => ({ ...rest, who: name }) }
 */
export interface Migration {
  /** A semver range of the older versions this migration applies to, e.g. `1.x` or `<2.0.0`. */
  from: string
  /** One line for people: what changed and what the migration does. */
  note: string
  up(props: Record<string, unknown>): MaybePromise<Record<string, unknown>>
}

export interface TaskSpec<P extends PropertiesSchema, O extends OutputsSchema>
  extends CommonSpec<P> {
  outputs?: O
  /** Full type ids this task was known by before (renamed types): `['acme.old.Hello']`. */
  aliases?: string[]
  run(props: z.output<P>, ctx: RunContext): MaybePromise<TaskResult<O>>
}

export interface TriggerSpec<P extends PropertiesSchema, O extends OutputsSchema>
  extends CommonSpec<P> {
  /** The fields of one event, exposed to flows as `{{ trigger.* }}`. */
  outputs?: O
  /** Default polling interval as an ISO-8601 duration (flows may override it). */
  interval: string
  /** Polls once, returning no event, one, or many. */
  poll(
    props: z.output<P>,
    ctx: TriggerContext,
  ): MaybePromise<z.input<O> | z.input<O>[] | null | undefined | void>
}

export interface ConditionSpec<P extends PropertiesSchema> extends CommonSpec<P> {
  test(props: z.output<P>, ctx: ConditionContext): MaybePromise<boolean>
}

const DEFINITION = Symbol.for('kite.definition')

export type DefinitionKind = 'task' | 'trigger' | 'condition' | 'plugin'

type Branded<K extends DefinitionKind> = { readonly [DEFINITION]: K }

export type TaskDefinition<
  P extends PropertiesSchema = PropertiesSchema,
  O extends OutputsSchema = OutputsSchema,
> = Readonly<TaskSpec<P, O>> & { readonly kind: 'task'; readonly outputs: O } & Branded<'task'>

export type TriggerDefinition<
  P extends PropertiesSchema = PropertiesSchema,
  O extends OutputsSchema = OutputsSchema,
> = Readonly<TriggerSpec<P, O>> & {
  readonly kind: 'trigger'
  readonly outputs: O
} & Branded<'trigger'>

export type ConditionDefinition<P extends PropertiesSchema = PropertiesSchema> = Readonly<
  ConditionSpec<P>
> & { readonly kind: 'condition' } & Branded<'condition'>

/** Any task, trigger or condition, whatever its schemas. */
// biome-ignore lint/suspicious/noExplicitAny: variance: a definition's run() takes its own props type
export type AnyTask = TaskDefinition<any, any>
// biome-ignore lint/suspicious/noExplicitAny: as above
export type AnyTrigger = TriggerDefinition<any, any>
// biome-ignore lint/suspicious/noExplicitAny: as above
export type AnyCondition = ConditionDefinition<any>
export type AnyDefinition = AnyTask | AnyTrigger | AnyCondition

export interface PluginSpec {
  /** Dotted lower-case id shared by every type of the plugin: `kite.http`, `acme.pokemon`. */
  group: string
  title: string
  description?: string
  tasks?: AnyTask[]
  triggers?: AnyTrigger[]
  conditions?: AnyCondition[]
  /**
   * What the plugin needs beyond its sandbox (child processes, directories, environment
   * variables); the runtime grants it only when its `plugins.permissions` allow it.
   */
  permissions?: PluginPermissions
}

export type PluginDefinition = Readonly<{
  group: string
  title: string
  description: string
  tasks: readonly AnyTask[]
  triggers: readonly AnyTrigger[]
  conditions: readonly AnyCondition[]
  /** Absent when the plugin needs nothing beyond its sandbox. */
  permissions?: PluginPermissions
}> &
  Branded<'plugin'> & {
    /** Finds a task, trigger or condition by its full type id. */
    find(type: string): AnyDefinition | undefined
  }

const EMPTY_OUTPUTS = z.object({}) as NoOutputs

/**
 * Defines a task. `props` is typed from `properties` (after defaults), the return value from
 * `outputs`.
 *
 * @example
 * export const fetch = defineTask({
 *   name: 'Fetch',
 *   properties: z.object({ pokemon: z.string().default('pikachu') }),
 *   outputs: z.object({ height: z.number() }),
 *   async run(props, ctx) { return { height: 15 } },
 * })
 */
export function defineTask<P extends PropertiesSchema, O extends OutputsSchema = NoOutputs>(
  spec: TaskSpec<P, O>,
): TaskDefinition<P, O> {
  checkCommon(spec, 'task')
  checkFunction(spec.name, 'run', spec.run)
  checkAliases(spec)
  return brand('task', { ...spec, kind: 'task', outputs: checkOutputs(spec) })
}

/** Defines a polling trigger: `poll` returns zero, one or many events shaped like `outputs`. */
export function defineTrigger<P extends PropertiesSchema, O extends OutputsSchema = NoOutputs>(
  spec: TriggerSpec<P, O>,
): TriggerDefinition<P, O> {
  checkCommon(spec, 'trigger')
  checkFunction(spec.name, 'poll', spec.poll)
  try {
    parseDuration(spec.interval)
  } catch (error) {
    throw definitionError(`trigger "${spec.name}": interval ${(error as Error).message}`)
  }
  return brand('trigger', { ...spec, kind: 'trigger', outputs: checkOutputs(spec) })
}

/** Defines a condition: `test` says whether a trigger may fire. */
export function defineCondition<P extends PropertiesSchema>(
  spec: ConditionSpec<P>,
): ConditionDefinition<P> {
  checkCommon(spec, 'condition')
  checkFunction(spec.name, 'test', spec.test)
  return brand('condition', { ...spec, kind: 'condition' })
}

/**
 * Defines a plugin: its group and every type it provides. Checks the whole plugin at once
 * (group, names, duplicates, reserved property names) and throws a KiteError naming every
 * problem. `kite-plugin build` also checks the examples.
 */
export function definePlugin(spec: PluginSpec): PluginDefinition {
  const problems: string[] = []
  if (typeof spec.group !== 'string' || !GROUP_PATTERN.test(spec.group)) {
    problems.push(
      `group "${String(spec.group)}" must be dotted lower-case segments, at least two (e.g. "acme.pokemon")`,
    )
  }
  if (typeof spec.title !== 'string' || spec.title.trim() === '') {
    problems.push('title must be a non-empty string')
  }
  const all: AnyDefinition[] = []
  for (const [key, kind] of [
    ['tasks', 'task'],
    ['triggers', 'trigger'],
    ['conditions', 'condition'],
  ] as const) {
    const list: unknown = spec[key] ?? []
    if (!Array.isArray(list)) {
      problems.push(`${key} must be an array`)
      continue
    }
    for (const [index, item] of list.entries()) {
      if (!isDefinition(item, kind)) {
        problems.push(`${key}[${index}] is not a ${kind} made with define${capitalize(kind)}()`)
      } else {
        all.push(item)
      }
    }
  }
  const permissions = PluginPermissions.optional().safeParse(spec.permissions)
  if (!permissions.success) problems.push(...formatIssues(permissions.error.issues, 'permissions'))
  const seen = new Set<string>()
  const ownTypes = new Set(all.map((definition) => typeId(spec.group, definition.name)))
  const aliasOwners = new Map<string, string>()
  for (const task of all) {
    if (task.kind !== 'task') continue
    for (const alias of task.aliases ?? []) {
      if (ownTypes.has(alias)) {
        problems.push(`task "${task.name}": the alias "${alias}" is a type of this plugin`)
      }
      const owner = aliasOwners.get(alias)
      if (owner !== undefined) {
        problems.push(
          `the alias "${alias}" is declared by both "${owner}" and "${task.name}"; it must resolve to one task`,
        )
      }
      aliasOwners.set(alias, task.name)
    }
  }
  for (const definition of all) {
    if (seen.has(definition.name)) {
      problems.push(
        `the name "${definition.name}" is used twice; every type of a plugin needs its own name`,
      )
    }
    seen.add(definition.name)
    problems.push(...reservedNameProblems(definition))
  }
  if (problems.length > 0) {
    throw definitionError(`plugin "${String(spec.group)}" is invalid:\n- ${problems.join('\n- ')}`)
  }
  const byType = new Map(all.map((definition) => [typeId(spec.group, definition.name), definition]))
  return brand('plugin', {
    group: spec.group,
    title: spec.title,
    description: spec.description ?? '',
    tasks: Object.freeze([...(spec.tasks ?? [])]),
    triggers: Object.freeze([...(spec.triggers ?? [])]),
    conditions: Object.freeze([...(spec.conditions ?? [])]),
    ...(permissions.success && !isEmptyPermissions(permissions.data)
      ? { permissions: permissions.data }
      : {}),
    find: (type: string) => byType.get(type),
  })
}

/**
 * A property named like a key the flow itself uses for that kind of block (`type`, `version`,
 * and for tasks and triggers `id`, `timeout`, `retry`, ...) could never be set from a flow.
 */
function reservedNameProblems(definition: AnyDefinition): string[] {
  const reserved = reservedPropertyNames(definition.kind)
  return Object.keys(definition.properties.shape)
    .filter((key) => reserved.includes(key))
    .map(
      (key) =>
        `${definition.kind} "${definition.name}": the property "${key}" has the name of the reserved flow key "${key}" (every ${definition.kind} block takes it from the flow, so a flow could never set this property); rename it`,
    )
}

/** True when `value` is a definition of the given kind, made by any copy of the SDK. */
export function isDefinition(value: unknown, kind: 'task'): value is AnyTask
export function isDefinition(value: unknown, kind: 'trigger'): value is AnyTrigger
export function isDefinition(value: unknown, kind: 'condition'): value is AnyCondition
export function isDefinition(value: unknown, kind: 'plugin'): value is PluginDefinition
export function isDefinition(value: unknown, kind: DefinitionKind): boolean
export function isDefinition(value: unknown, kind: DefinitionKind): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[DEFINITION] === kind
  )
}

function brand<K extends DefinitionKind, T extends object>(kind: K, value: T): T & Branded<K> {
  Object.defineProperty(value, DEFINITION, { value: kind, enumerable: false })
  return Object.freeze(value) as T & Branded<K>
}

function checkCommon(spec: CommonSpec<PropertiesSchema>, kind: DefinitionKind): void {
  if (typeof spec !== 'object' || spec === null) {
    throw definitionError(`define${capitalize(kind)}() takes an object`)
  }
  const label = `${kind} "${String(spec.name)}"`
  if (typeof spec.name !== 'string' || !NAME_PATTERN.test(spec.name)) {
    throw definitionError(
      `${label}: the name must be PascalCase, optionally after dotted lower-case sub-groups (e.g. "Request" or "log.Log")`,
    )
  }
  if (!(spec.properties instanceof z.ZodObject)) {
    throw definitionError(
      `${label}: properties must be a z.object(...) schema (made with the z exported by @kite/sdk)`,
    )
  }
  checkMigrations(label, spec.migrations)
}

/** A semver range as people write them: versions, x-ranges, operators, `||` and hyphens. */
const RANGE_PATTERN = /^[\w.*^~<>=|+\s-]+$/

function checkMigrations(label: string, migrations: unknown): void {
  if (migrations === undefined) return
  if (!Array.isArray(migrations)) throw definitionError(`${label}: migrations must be an array`)
  for (const [index, migration] of migrations.entries()) {
    const at = `${label}: migrations[${index}]`
    if (typeof migration !== 'object' || migration === null) {
      throw definitionError(`${at} must be an object { from, note, up }`)
    }
    const { from, note, up } = migration as Record<string, unknown>
    if (typeof from !== 'string' || from.trim() === '' || !RANGE_PATTERN.test(from)) {
      throw definitionError(
        `${at}.from must be a semver range of older versions (e.g. "1.x" or "<2.0.0"), got ${JSON.stringify(from)}`,
      )
    }
    if (typeof note !== 'string' || note.trim() === '' || /[\r\n]/.test(note)) {
      throw definitionError(`${at}.note must be one non-empty line`)
    }
    if (typeof up !== 'function') throw definitionError(`${at}.up must be a function`)
  }
}

function checkAliases(spec: { name: string; aliases?: unknown }): void {
  if (spec.aliases === undefined) return
  const label = `task "${spec.name}"`
  if (!Array.isArray(spec.aliases)) throw definitionError(`${label}: aliases must be an array`)
  for (const alias of spec.aliases) {
    if (typeof alias !== 'string' || !TYPE_ID_PATTERN.test(alias)) {
      throw definitionError(
        `${label}: the alias ${JSON.stringify(alias)} must be a full type id such as "acme.old.Hello"`,
      )
    }
  }
  if (new Set(spec.aliases).size !== spec.aliases.length) {
    throw definitionError(`${label}: aliases lists the same type twice`)
  }
}

function checkOutputs<O extends OutputsSchema>(spec: { name: string; outputs?: O }): O {
  // Without outputs, O is its default, NoOutputs: the empty object schema.
  if (spec.outputs === undefined) return EMPTY_OUTPUTS as unknown as O
  if (!(spec.outputs instanceof z.ZodObject)) {
    throw definitionError(`"${spec.name}": outputs must be a z.object(...) schema`)
  }
  return spec.outputs
}

function checkFunction(name: string, key: string, value: unknown): void {
  if (typeof value !== 'function') throw definitionError(`"${name}": ${key} must be a function`)
}

function definitionError(message: string): KiteError {
  return new KiteError(message, { code: 'DEFINITION_INVALID', kind: 'user' })
}

function capitalize(value: string): string {
  return value.charAt(0).toUpperCase() + value.slice(1)
}
