// Walks the flow JSON Schema (`GET /plugins/schemas/flow`) along a YAML path: which keys an
// object may have and what they mean, for the task's type and the version it resolves to.
import { type Document, isMap, isPair, isScalar, isSeq, type Node, parseDocument } from 'yaml'

export type JsonSchema = {
  $ref?: string
  type?: string | string[]
  description?: string
  title?: string
  properties?: Record<string, JsonSchema>
  items?: JsonSchema
  additionalProperties?: JsonSchema | boolean
  allOf?: JsonSchema[]
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  if?: JsonSchema
  then?: JsonSchema
  const?: unknown
  enum?: unknown[]
  default?: unknown
  $defs?: Record<string, JsonSchema>
  required?: string[]
}

export type PathSegment = string | number

/** Where an offset is in the YAML: the path, and whether it is on a key or a value. */
export interface Location {
  path: PathSegment[]
  onKey: boolean
  /** The key or scalar under the offset, with its range. */
  text?: string
  from?: number
  to?: number
}

/** The path of the node at `offset`. */
export function locate(doc: Document, offset: number): Location {
  const path: PathSegment[] = []
  let node: unknown = doc.contents
  for (;;) {
    if (isMap(node)) {
      const pair = node.items.find((item) => {
        const key = item.key as Node | null
        const value = item.value as Node | null
        const start = key?.range?.[0] ?? value?.range?.[0]
        const end = value?.range?.[2] ?? key?.range?.[2]
        return start !== undefined && end !== undefined && offset >= start && offset <= end
      })
      if (!pair || !isPair(pair)) return { path, onKey: true }
      const key = pair.key as Node | null
      const name = isScalar(key) ? String(key.value) : ''
      if (key?.range && offset <= key.range[1]) {
        return {
          path: [...path, name],
          onKey: true,
          text: name,
          from: key.range[0],
          to: key.range[1],
        }
      }
      path.push(name)
      node = pair.value
      continue
    }
    if (isSeq(node)) {
      const index = node.items.findIndex((item) => {
        const range = (item as Node | null)?.range
        return range && offset >= range[0] && offset <= range[2]
      })
      if (index < 0) return { path, onKey: false }
      path.push(index)
      node = node.items[index]
      continue
    }
    if (isScalar(node) && node.range) {
      return {
        path,
        onKey: false,
        text: String(node.value ?? ''),
        from: node.range[0],
        to: node.range[1],
      }
    }
    return { path, onKey: false }
  }
}

export class SchemaWalker {
  constructor(
    private readonly root: JsonSchema,
    /** The version each task id resolves to (from the last validation). */
    private readonly versionOf: (taskId: string) => string | undefined = () => undefined,
  ) {}

  private deref(schema: JsonSchema | undefined): JsonSchema | undefined {
    let current = schema
    for (let depth = 0; current?.$ref && depth < 20; depth++) {
      const name = current.$ref.replace('#/$defs/', '')
      current = this.root.$defs?.[name]
    }
    return current
  }

  /**
   * The object schema for a value, with the branch for its `type` (and resolved version)
   * merged in: one flat `properties` list.
   */
  objectSchema(schema: JsonSchema | undefined, value: unknown): JsonSchema | undefined {
    const base = this.deref(schema)
    if (!base) return undefined
    const properties: Record<string, JsonSchema> = { ...base.properties }
    let description = base.description
    const data = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>
    for (const part of base.allOf ?? []) {
      const wanted = part.if?.properties?.type?.const
      if (wanted === undefined || wanted !== data.type) continue
      const branch = this.pickVersion(this.deref(part.then), data)
      Object.assign(properties, branch?.properties)
      description = branch?.description ?? description
    }
    for (const option of base.anyOf ?? base.oneOf ?? []) {
      const resolved = this.deref(option)
      if (resolved?.properties) Object.assign(properties, resolved.properties)
    }
    return { ...base, properties, ...(description ? { description } : {}) }
  }

  /** Among a type's version branches: the one the task resolves to, else the newest. */
  private pickVersion(schema: JsonSchema | undefined, data: Record<string, unknown>) {
    const branches = schema?.anyOf
    if (!branches) return schema
    const version =
      (typeof data.id === 'string' ? this.versionOf(data.id) : undefined) ??
      (typeof data.version === 'string' ? data.version : undefined)
    return (
      branches.find((branch) =>
        branch.properties?.version?.anyOf?.some((item) => item.const === version),
      ) ?? branches.at(-1)
    )
  }

  /** The schema at a path of the flow, given its data. */
  at(path: readonly PathSegment[], data: unknown): JsonSchema | undefined {
    let schema: JsonSchema | undefined = this.root
    let value: unknown = data
    for (const segment of path) {
      const object = this.objectSchema(schema, value)
      if (typeof segment === 'number') {
        schema = this.listItems(schema)
      } else {
        schema =
          object?.properties?.[segment] ??
          (typeof object?.additionalProperties === 'object'
            ? object.additionalProperties
            : undefined)
        schema = this.deref(schema)
      }
      value = (value as Record<string | number, unknown> | undefined)?.[segment]
    }
    return this.objectSchema(schema, value) ?? schema
  }

  private listItems(schema: JsonSchema | undefined): JsonSchema | undefined {
    const base = this.deref(schema)
    if (base?.items) return this.deref(base.items)
    for (const option of base?.anyOf ?? []) {
      const items = this.deref(option)?.items
      if (items) return this.deref(items)
    }
    return undefined
  }

  /** The task types (and trigger, condition types) the schema knows. */
  types(kind: 'task' | 'trigger' | 'condition'): string[] {
    const values = this.root.$defs?.[kind]?.properties?.type?.enum ?? []
    return values.map(String)
  }
}

/** Description of a property schema, looking through `anyOf` (expression or value). */
export function describe(schema: JsonSchema | undefined): string {
  if (!schema) return ''
  if (schema.description) return schema.description
  for (const option of schema.anyOf ?? []) {
    if (option.description) return option.description
  }
  return schema.title ?? ''
}

/** The data of a YAML text as far as it parses (for branch selection). */
export function parseLoose(text: string): { doc: Document; data: unknown } {
  const doc = parseDocument(text, { prettyErrors: false, strict: false })
  let data: unknown
  try {
    data = doc.toJS()
  } catch {
    data = undefined
  }
  return { doc, data }
}

/** The data at a path. */
export function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let value = data
  for (const segment of path)
    value = (value as Record<string | number, unknown> | undefined)?.[segment]
  return value
}
