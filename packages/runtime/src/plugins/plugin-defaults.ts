import type { PluginDefaultEntry } from '../flow/flow-model.js'
import { defaultsApply } from './version-resolver.js'

/** One level of plugin defaults (flow, a namespace, the instance), for property merging. */
export interface DefaultsLevel {
  level: 'flow' | 'namespace' | 'instance'
  /** How messages name it: `flow`, `namespace company`, `instance`. */
  label: string
  entries: readonly PluginDefaultEntry[]
}

/** Keys pluginDefaults never set: identity, and `version` (decided by the version resolver). */
const NEVER_DEFAULTED = new Set(['id', 'type', 'version'])

/**
 * Applies plugin defaults to a task's keys (SPEC section 3): non-forced values fill only keys the
 * task leaves unset, forced values win over the task's own. Among entries that set the same key,
 * the most specific entry wins (an exact type over a group prefix), then the nearest level
 * (flow, then namespaces nearest first, then instance).
 */
export function applyPluginDefaults(
  type: string,
  values: Record<string, unknown>,
  levels: readonly DefaultsLevel[],
): Record<string, unknown> {
  const ranked = levels
    .flatMap((level, levelIndex) =>
      level.entries.map((entry, index) => ({ entry, levelIndex, index })),
    )
    .filter(({ entry }) => defaultsApply(entry.type, type))
    .sort(
      (a, b) =>
        b.entry.type.length - a.entry.type.length ||
        a.levelIndex - b.levelIndex ||
        a.index - b.index,
    )
  if (ranked.length === 0) return values
  const merged = { ...values }
  const forcedSet = new Set<string>()
  for (const { entry } of ranked) {
    for (const [key, value] of Object.entries(entry.values)) {
      if (NEVER_DEFAULTED.has(key)) continue
      if (entry.forced) {
        if (forcedSet.has(key)) continue
        forcedSet.add(key)
        merged[key] = value
      } else if (!(key in values) && !(key in merged)) {
        merged[key] = value
      }
    }
  }
  return merged
}
