import { z } from 'zod'
import type { OutputsSchema, PropertiesSchema } from './define.js'

/** A JSON Schema document (draft 2020-12) as plain JSON. */
export interface JsonSchema {
  type?: string | string[]
  title?: string
  description?: string
  default?: unknown
  examples?: unknown[]
  enum?: unknown[]
  const?: unknown
  properties?: Record<string, JsonSchema>
  required?: string[]
  items?: JsonSchema
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  additionalProperties?: boolean | JsonSchema
  /** Kite: false when the runtime must pass the property through without rendering `{{ }}`. */
  $dynamic?: boolean
  /** Kite: true (or a message) when the property is deprecated. */
  $deprecated?: boolean | string
  /** Kite: groups of output fields of which a task sets exactly one (e.g. `value` xor `uri`). */
  $exclusive?: string[][]
  [keyword: string]: unknown
}

/**
 * JSON Schema of a properties schema, input side (defaults make a property optional). Every
 * top-level property carries `$dynamic` and `$deprecated`; `.meta({ dynamic: false })` and
 * `.meta({ deprecated: true })` set them.
 */
export function propertiesJsonSchema(schema: PropertiesSchema): JsonSchema {
  const json = toJsonSchema(schema, 'input')
  for (const property of Object.values(json.properties ?? {})) {
    property.$dynamic ??= true
    property.$deprecated ??= false
  }
  return json
}

/** JSON Schema of an outputs (or trigger event) schema, output side. */
export function outputsJsonSchema(schema: OutputsSchema): JsonSchema {
  return toJsonSchema(schema, 'output')
}

function toJsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const json = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    target: 'draft-2020-12',
  }) as JsonSchema
  return renameKiteKeywords(json)
}

/** zod writes `.meta()` keys as they are; Kite's own keywords carry a `$`. */
function renameKiteKeywords(node: JsonSchema): JsonSchema {
  if ('dynamic' in node) {
    node.$dynamic = node.dynamic !== false
    delete node.dynamic
  }
  if ('deprecated' in node && node.deprecated)
    node.$deprecated = node.deprecated as boolean | string
  if ('exclusive' in node) {
    node.$exclusive = node.exclusive as string[][]
    delete node.exclusive
  }
  for (const value of Object.values(node)) {
    if (Array.isArray(value)) {
      for (const item of value) if (isSchemaNode(item)) renameKiteKeywords(item)
    } else if (isSchemaNode(value)) {
      renameKiteKeywords(value)
    }
  }
  return node
}

function isSchemaNode(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Human-readable type of a JSON Schema node: `string`, `"GET" | "POST"`, `array<number>`… */
export function describeJsonType(schema: JsonSchema | undefined): string {
  if (!schema) return 'any'
  if (schema.enum) return schema.enum.map((value) => JSON.stringify(value)).join(' | ')
  if (schema.const !== undefined) return JSON.stringify(schema.const)
  const union = schema.anyOf ?? schema.oneOf
  if (union) return [...new Set(union.map(describeJsonType))].join(' | ')
  const type = Array.isArray(schema.type) ? schema.type.join(' | ') : schema.type
  if (type === 'array') return `array<${describeJsonType(schema.items)}>`
  if (type === 'string' && typeof schema.format === 'string') return `string (${schema.format})`
  return type ?? 'any'
}
