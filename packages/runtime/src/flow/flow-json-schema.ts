import { z } from '@kite/sdk'
import {
  type JsonSchema,
  listManifestTypes,
  type TypeKind,
  type TypeManifest,
} from '@kite/sdk/host'
import type { PluginCatalog } from '../plugins/plugin-catalog.js'
import { BUILTIN_TRIGGER_TYPES, FLOWABLE_TYPES } from './flow-model.js'
import {
  ConditionCommonSchema,
  FlowableSchemas,
  FlowInputSchema,
  FlowOutputSchema,
  FlowTopSchema,
  TaskCommonSchema,
  TriggerCommonShape,
  TriggerSchemas,
} from './flow-schema.js'

/** One type as one installed version provides it. */
export interface SchemaTypeVersion {
  package: string
  version: string
  kind: TypeKind
  entry: TypeManifest
}

type Schema = Record<string, unknown>

const DIALECT = 'https://json-schema.org/draft/2020-12/schema'
/** An exact version: a `version` like this selects one branch; anything else may match any. */
const EXACT_VERSION = '^\\d+\\.\\d+\\.\\d+(?:-[0-9A-Za-z.-]+)?(?:\\+[0-9A-Za-z.-]+)?$'
/** A value holding an expression: known only at run time, so any declared type accepts it. */
const EXPRESSION = { type: 'string', pattern: '\\{\\{|\\{%' }

/** Every type of every installed version in a catalog, for `flowJsonSchema`. */
export function schemaTypesOf(catalog: PluginCatalog): SchemaTypeVersion[] {
  return catalog.list().flatMap((plugin) =>
    listManifestTypes(plugin.manifest).map(({ kind, entry }) => ({
      package: plugin.name,
      version: plugin.version,
      kind,
      entry,
    })),
  )
}

/**
 * The JSON Schema (draft 2020-12) of a flow for the given installed types (SPEC 11): the flow's
 * shape, with one branch per `type` and version. An exact `version` ("1.0.0") selects that
 * version's properties; without one (or with a range or LATEST) a task is valid when it fits any
 * installed version, since which one applies depends on the defaults of the runtime it is saved
 * to. Property values holding `{{ }}` are accepted whatever the declared type, and properties a
 * plugin requires are not required here, since `pluginDefaults` may set them. Pure: same input,
 * same schema, for an editor's YAML language server or the runtime UI.
 */
export function flowJsonSchema(types: readonly SchemaTypeVersion[]): Schema {
  const byKind = (kind: TypeKind) => groupByType(types.filter((item) => item.kind === kind))
  const taskRef = { $ref: '#/$defs/task' }
  const top = jsonOf(FlowTopSchema)
  const topProperties = top.properties as Record<string, Schema>
  for (const key of ['tasks', 'errors', 'finally'])
    topProperties[key] = listOf(topProperties[key], taskRef)
  topProperties.triggers = listOf(topProperties.triggers, { $ref: '#/$defs/trigger' })
  topProperties.inputs = listOf(topProperties.inputs, { $ref: '#/$defs/input' })
  topProperties.outputs = listOf(topProperties.outputs, { $ref: '#/$defs/output' })

  const flowables = Object.entries(FLOWABLE_TYPES).map(([type, kind]) => {
    const schema = jsonOf(FlowableSchemas[kind])
    const properties = schema.properties as Record<string, Schema>
    properties.type = { const: type }
    for (const key of ['tasks', 'then', 'else', 'defaults', 'errors', 'finally']) {
      if (properties[key]) properties[key] = listOf(properties[key], taskRef)
    }
    if (properties.cases) {
      properties.cases = {
        ...properties.cases,
        additionalProperties: { type: 'array', items: taskRef },
      }
    }
    return { type, branches: [schema] }
  })
  const builtinTriggers = Object.entries(BUILTIN_TRIGGER_TYPES).map(([type, kind]) => {
    const schema = jsonOf(TriggerSchemas[kind])
    const properties = schema.properties as Record<string, Schema>
    properties.type = { const: type }
    properties.conditions = listOf(properties.conditions, { $ref: '#/$defs/condition' })
    return { type, branches: [schema] }
  })

  const taskCommon = jsonOf(TaskCommonSchema).properties as Record<string, Schema>
  const triggerCommon = jsonOf(z.object({ ...TriggerCommonShape, interval: z.string().optional() }))
    .properties as Record<string, Schema>
  triggerCommon.conditions = listOf(triggerCommon.conditions, { $ref: '#/$defs/condition' })
  const conditionCommon = jsonOf(ConditionCommonSchema).properties as Record<string, Schema>

  const pluginBranches = (kind: TypeKind, common: Record<string, Schema>) =>
    [...byKind(kind)].map(([type, versions]) => ({
      type,
      branches: versions.map((item) => versionBranch(item, common)),
    }))

  return {
    $schema: DIALECT,
    title: 'Kite flow',
    ...top,
    $defs: {
      task: dispatch('task', [...flowables, ...pluginBranches('task', taskCommon)]),
      trigger: dispatch('trigger', [
        ...builtinTriggers,
        ...pluginBranches('trigger', triggerCommon),
      ]),
      condition: dispatch('condition', pluginBranches('condition', conditionCommon), ['type']),
      input: jsonOf(FlowInputSchema),
      output: jsonOf(FlowOutputSchema),
    },
  }
}

function groupByType(types: readonly SchemaTypeVersion[]): Map<string, SchemaTypeVersion[]> {
  const grouped = new Map<string, SchemaTypeVersion[]>()
  for (const item of types) {
    const list = grouped.get(item.entry.type) ?? []
    list.push(item)
    grouped.set(item.entry.type, list)
  }
  return grouped
}

/**
 * `type` names one of the known types; `if type is T then it fits one of T's branches`, so an
 * editor reports problems against the right type only.
 */
function dispatch(
  what: string,
  types: Array<{ type: string; branches: Schema[] }>,
  required: string[] = ['id', 'type'],
): Schema {
  return {
    type: 'object',
    required,
    properties: {
      type: {
        description: `the ${what} type`,
        ...(types.length > 0 ? { enum: types.map((item) => item.type) } : { not: {} }),
      },
    },
    ...(types.length > 0
      ? {
          allOf: types.map(({ type, branches }) => ({
            if: { properties: { type: { const: type } }, required: ['type'] },
            // biome-ignore lint/suspicious/noThenProperty: JSON Schema's keyword
            then: branches.length === 1 ? branches[0] : { anyOf: branches },
          })),
        }
      : {}),
  }
}

/** One version of one plugin type: its own properties next to the common keys. */
function versionBranch(item: SchemaTypeVersion, common: Record<string, Schema>): Schema {
  const { entry, version } = item
  const own = (entry.properties.properties ?? {}) as Record<string, JsonSchema>
  const properties: Record<string, unknown> = {
    ...common,
    type: { const: entry.type },
    version: {
      description: `${item.package} ${version}, or a range or keyword that may choose it`,
      anyOf: [
        { const: version },
        { type: 'string', not: { pattern: EXACT_VERSION } },
        { type: 'number' },
      ],
    },
  }
  for (const [key, schema] of Object.entries(own)) {
    if (Object.hasOwn(common, key)) continue
    const {
      $dynamic,
      $deprecated: _deprecated,
      ...rest
    } = schema as JsonSchema & {
      $dynamic?: boolean
      $deprecated?: unknown
    }
    properties[key] =
      $dynamic === false
        ? rest
        : {
            ...(typeof rest.description === 'string' ? { description: rest.description } : {}),
            anyOf: [rest, EXPRESSION],
          }
  }
  const extra = entry.properties.additionalProperties
  return {
    title: `${entry.type} ${version}`,
    ...(entry.description ? { description: entry.description } : {}),
    type: 'object',
    properties,
    additionalProperties: extra === undefined ? false : extra,
  }
}

function jsonOf(schema: z.ZodType): Schema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-2020-12',
  }) as Schema
  return rest
}

function listOf(schema: Schema | undefined, items: Schema): Schema {
  return { ...(schema ?? { type: 'array' }), items }
}
