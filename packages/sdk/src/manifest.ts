import { z } from 'zod'
import type { AnyDefinition, PluginDefinition } from './define.js'
import { formatIssues, KiteError } from './errors.js'
import { type JsonSchema, outputsJsonSchema, propertiesJsonSchema } from './json-schema.js'
import {
  GROUP_PATTERN,
  NAME_PATTERN,
  PACKAGE_NAME_PATTERN,
  SEMVER_PATTERN,
  TYPE_ID_PATTERN,
  typeId,
} from './names.js'
import { PluginPermissions } from './permissions.js'

/** The manifest format this SDK writes and reads. */
export const MANIFEST_VERSION = 1
/** Where a built plugin keeps its manifest, relative to the package root. */
export const MANIFEST_PATH = 'dist/kite-plugin.json'
/** The keyword every plugin package carries, so registries can find plugins. */
export const PLUGIN_KEYWORD = 'kite-plugin'

const JsonSchemaObject = z
  .record(z.string(), z.unknown())
  .refine((schema) => schema.type === 'object', 'must be a JSON Schema of type "object"')
  .transform((schema) => schema as JsonSchema)

export const ManifestExample = z.object({
  title: z.string().min(1),
  code: z.string(),
  full: z.boolean().optional(),
})

/** A migration as the manifest lists it; its code stays in the bundle. */
export const ManifestMigration = z.object({
  from: z.string().min(1),
  note: z.string().min(1),
})

const TypeEntryBase = z.object({
  type: z.string().min(1),
  name: z.string().regex(NAME_PATTERN, 'must be PascalCase with optional dotted sub-groups'),
  title: z.string(),
  description: z.string(),
  deprecated: z.union([z.boolean(), z.string()]).optional(),
  properties: JsonSchemaObject,
  examples: z.array(ManifestExample),
  /** Absent in manifests written before migrations existed. */
  migrations: z.array(ManifestMigration).optional(),
})

export const TaskManifest = TypeEntryBase.extend({
  outputs: JsonSchemaObject,
  /** Older type ids that resolve to this task; absent when there are none. */
  aliases: z.array(z.string().regex(TYPE_ID_PATTERN, 'must be a full type id')).optional(),
})
export type TaskManifest = z.infer<typeof TaskManifest>

export const TriggerManifest = TypeEntryBase.extend({
  outputs: JsonSchemaObject,
  interval: z.string().regex(/^P/, 'must be an ISO-8601 duration'),
})
export type TriggerManifest = z.infer<typeof TriggerManifest>

export const ConditionManifest = TypeEntryBase
export type ConditionManifest = z.infer<typeof ConditionManifest>

/** One task, trigger or condition as the manifest describes it. */
export type TypeManifest = TaskManifest | TriggerManifest | ConditionManifest
export type TypeKind = 'task' | 'trigger' | 'condition'

/**
 * `dist/kite-plugin.json`: everything a registry or runtime needs to know about a plugin version
 * without running its code.
 */
export const PluginManifest = z
  .object({
    manifestVersion: z.literal(MANIFEST_VERSION),
    name: z.string().regex(PACKAGE_NAME_PATTERN, 'must be an npm package name'),
    version: z.string().regex(SEMVER_PATTERN, 'must be a semver version such as 1.2.0'),
    group: z
      .string()
      .regex(GROUP_PATTERN, 'must be dotted lower-case segments (e.g. acme.pokemon)'),
    title: z.string().min(1),
    description: z.string(),
    /** The `@kite/sdk` range the plugin was built for. */
    sdkRange: z.string().min(1),
    /** The bundle to import, relative to the package root. */
    entry: z
      .string()
      .regex(
        /^(?!\/)(?!.*\.\.)[\w./-]+\.m?js$/,
        'must be a relative path to a .js file inside the package',
      ),
    keywords: z.array(z.string()).default([]),
    tasks: z.array(TaskManifest),
    triggers: z.array(TriggerManifest),
    conditions: z.array(ConditionManifest),
    /** What the plugin needs beyond its sandbox; absent when it needs nothing. */
    permissions: PluginPermissions.optional(),
  })
  .superRefine((manifest, ctx) => {
    const seen = new Set<string>()
    for (const kind of ['tasks', 'triggers', 'conditions'] as const) {
      for (const [index, entry] of manifest[kind].entries()) {
        const expected = typeId(manifest.group, entry.name)
        if (entry.type !== expected) {
          ctx.addIssue({
            code: 'custom',
            path: [kind, index, 'type'],
            message: `type "${entry.type}" is outside the group "${manifest.group}" (expected "${expected}")`,
          })
        }
        if (seen.has(entry.type)) {
          ctx.addIssue({
            code: 'custom',
            path: [kind, index, 'type'],
            message: `type "${entry.type}" is declared twice`,
          })
        }
        seen.add(entry.type)
      }
    }
    for (const [index, task] of manifest.tasks.entries()) {
      for (const alias of task.aliases ?? []) {
        if (seen.has(alias)) {
          ctx.addIssue({
            code: 'custom',
            path: ['tasks', index, 'aliases'],
            message: `alias "${alias}" is a type of this plugin or another task's alias`,
          })
        }
        seen.add(alias)
      }
    }
  })
export type PluginManifest = z.infer<typeof PluginManifest>

/** The task of a manifest that declares `type` as an alias, if any. */
export function findAliasedTask(manifest: PluginManifest, type: string): TaskManifest | undefined {
  return manifest.tasks.find((task) => task.aliases?.includes(type))
}

/**
 * Parses a manifest (already JSON-decoded) and throws a KiteError listing every problem.
 */
export function parseManifest(value: unknown): PluginManifest {
  const result = PluginManifest.safeParse(value)
  if (result.success) return result.data
  throw new KiteError(
    `invalid plugin manifest:\n- ${formatIssues(result.error.issues).join('\n- ')}`,
    {
      code: 'MANIFEST_INVALID',
      kind: 'user',
    },
  )
}

/** The fields of package.json a manifest is built from. */
export interface ManifestPackage {
  name: string
  version: string
  description?: string
  keywords?: string[]
  peerDependencies?: Record<string, string>
}

export interface CreateManifestOptions {
  /** The bundle, relative to the package root. */
  entry: string
  /** The `@kite/sdk` range the plugin was built for. */
  sdkRange: string
}

/** Builds (and validates) the manifest of a plugin definition. */
export function createManifest(
  plugin: PluginDefinition,
  pkg: ManifestPackage,
  options: CreateManifestOptions,
): PluginManifest {
  const common = (definition: AnyDefinition) => ({
    type: typeId(plugin.group, definition.name),
    name: definition.name,
    title: definition.title ?? definition.name,
    description: definition.description ?? '',
    ...(definition.deprecated === undefined ? {} : { deprecated: definition.deprecated }),
    properties: propertiesJsonSchema(definition.properties),
    examples: (definition.examples ?? []).map((example) => ({ ...example })),
    ...(definition.migrations?.length
      ? { migrations: definition.migrations.map(({ from, note }) => ({ from, note })) }
      : {}),
  })
  return parseManifest({
    manifestVersion: MANIFEST_VERSION,
    name: pkg.name,
    version: pkg.version,
    group: plugin.group,
    title: plugin.title,
    description: plugin.description || pkg.description || '',
    sdkRange: options.sdkRange,
    entry: options.entry,
    keywords: pkg.keywords ?? [],
    tasks: plugin.tasks.map((task) => ({
      ...common(task),
      outputs: outputsJsonSchema(task.outputs),
      ...(task.aliases?.length ? { aliases: [...task.aliases] } : {}),
    })),
    triggers: plugin.triggers.map((trigger) => ({
      ...common(trigger),
      outputs: outputsJsonSchema(trigger.outputs),
      interval: trigger.interval,
    })),
    conditions: plugin.conditions.map(common),
    ...(plugin.permissions ? { permissions: plugin.permissions } : {}),
  })
}

/** Every type of a manifest with its kind, in declaration order. */
export function listManifestTypes(
  manifest: PluginManifest,
): Array<{ kind: TypeKind; entry: TypeManifest }> {
  return [
    ...manifest.tasks.map((entry) => ({ kind: 'task' as const, entry })),
    ...manifest.triggers.map((entry) => ({ kind: 'trigger' as const, entry })),
    ...manifest.conditions.map((entry) => ({ kind: 'condition' as const, entry })),
  ]
}
