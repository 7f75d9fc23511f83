import type { JsonSchema } from './json-schema.js'

/**
 * Renders a task's raw properties before validation: every value goes through `render`, except
 * properties whose schema says `$dynamic: false`, which pass through untouched. Nested objects
 * with their own property schemas are walked the same way.
 *
 * `render` is the expression engine's deep renderer bound to the execution's context.
 */
export function renderProperties(
  values: Record<string, unknown>,
  schema: JsonSchema,
  render: (value: unknown) => unknown,
): Record<string, unknown> {
  const result: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(values)) {
    const property = schema.properties?.[key]
    if (property?.$dynamic === false) {
      result[key] = value
    } else if (property?.properties && isPlainObject(value)) {
      result[key] = renderProperties(value, property, render)
    } else {
      result[key] = render(value)
    }
  }
  return result
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}
