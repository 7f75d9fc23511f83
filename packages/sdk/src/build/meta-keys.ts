import type { JsonSchema } from '../json-schema.js'
import type { PluginManifest } from '../manifest.js'
import { listManifestTypes } from '../manifest.js'
import { KITE_META_KEYS } from '../meta.js'

/** Keywords whose value maps names (not keywords) to schemas. */
const NAME_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions'])

/**
 * zod's `.meta()` takes any key (it is JSON Schema), so a misspelt Kite key such as
 * `.meta({ dynamc: false })` compiles and would silently do nothing. Finds keys in the
 * manifest's schemas that are one or two edits away from a Kite key, with the one meant.
 */
export function misspeltMetaKeys(manifest: PluginManifest): string[] {
  const problems: string[] = []
  for (const { entry } of listManifestTypes(manifest)) {
    const schemas: Array<[string, JsonSchema]> = [['properties', entry.properties as JsonSchema]]
    if ('outputs' in entry) schemas.push(['outputs', entry.outputs as JsonSchema])
    for (const [part, schema] of schemas) {
      walk(schema, part, (key, path) => {
        // Kite's own output keywords ($dynamic, ...) and the rest of JSON Schema's `$` keys are fine.
        if (key.startsWith('$')) return
        const meant = KITE_META_KEYS.find((known) => key !== known && distance(key, known) <= 2)
        if (meant) {
          problems.push(
            `${entry.type} ${path}: the metadata key "${key}" is not one Kite reads; did you mean "${meant}"?`,
          )
        }
      })
    }
  }
  return problems
}

function walk(node: unknown, path: string, visit: (key: string, path: string) => void): void {
  if (Array.isArray(node)) {
    for (const [index, item] of node.entries()) walk(item, `${path}[${index}]`, visit)
    return
  }
  if (typeof node !== 'object' || node === null) return
  for (const [key, value] of Object.entries(node)) {
    visit(key, path)
    if (NAME_MAPS.has(key) && typeof value === 'object' && value !== null) {
      for (const [name, schema] of Object.entries(value)) walk(schema, `${path}.${name}`, visit)
    } else if (typeof value === 'object') {
      walk(value, path, visit)
    }
  }
}

/** Levenshtein distance, case-insensitive. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase()
  const y = b.toLowerCase()
  let previous = Array.from({ length: y.length + 1 }, (_, index) => index)
  for (let i = 1; i <= x.length; i++) {
    const current = [i]
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1
      current.push(
        Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost),
      )
    }
    previous = current
  }
  return previous[y.length] ?? 0
}
