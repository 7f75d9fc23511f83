import semver from 'semver'
import type { PluginDefaultEntry } from '../flow/flow-model.js'

/**
 * Which level of configuration decided a task's version spec (SPEC section 4), nearest first:
 * the task itself, the flow's `pluginDefaults`, the namespace's plugin defaults, the instance's
 * `plugins.defaults`, and last the instance's `plugins.defaultVersion`.
 */
export type DecidedBy = 'task' | 'flow' | 'namespace' | 'instance' | 'defaultVersion'

/** A version spec, parsed: `1.2.0`, `LATEST`, `OLDEST` (keywords case-insensitive) or a range. */
export type ParsedVersionSpec =
  | { kind: 'latest' }
  | { kind: 'oldest' }
  | { kind: 'exact'; version: string }
  | { kind: 'range'; range: string }

/** Parses a version spec; undefined when it is none of the accepted forms. */
export function parseVersionSpec(spec: string): ParsedVersionSpec | undefined {
  const text = spec.trim()
  const upper = text.toUpperCase()
  if (upper === 'LATEST') return { kind: 'latest' }
  if (upper === 'OLDEST') return { kind: 'oldest' }
  const exact = semver.valid(text)
  if (exact) return { kind: 'exact', version: exact }
  const range = semver.validRange(text)
  if (range !== null && text !== '') return { kind: 'range', range: text }
  return undefined
}

/**
 * Chooses among installed versions (those that contain the type). `LATEST`/`OLDEST` prefer
 * releases over prereleases and fall back to prereleases only when there is no release; ranges
 * follow npm's rules (prereleases only when the range names one).
 */
export function selectVersion(spec: string, versions: readonly string[]): string | undefined {
  const parsed = parseVersionSpec(spec)
  if (!parsed) return undefined
  const valid = versions.filter((version) => semver.valid(version) !== null)
  switch (parsed.kind) {
    case 'exact':
      return valid.find((version) => semver.eq(version, parsed.version))
    case 'range':
      return semver.maxSatisfying(valid, parsed.range) ?? undefined
    case 'latest':
    case 'oldest': {
      const releases = valid.filter((version) => semver.prerelease(version) === null)
      const pool = [...(releases.length > 0 ? releases : valid)].sort(semver.compare)
      return parsed.kind === 'latest' ? pool.at(-1) : pool[0]
    }
  }
}

/** Namespace defaults for one namespace; the resolver passes nearest first. */
export interface NamespaceDefaults {
  namespace: string
  defaults: readonly PluginDefaultEntry[]
}

/** Everything that may set a task's version, level by level. */
export interface VersionLevels {
  /** The task's own `version`. */
  task?: string
  /** The flow's `pluginDefaults`. */
  flow: readonly PluginDefaultEntry[]
  /** Namespace plugin defaults, nearest namespace first (`company.team`, then `company`). */
  namespaces: readonly NamespaceDefaults[]
  /** The instance's `plugins.defaults`. */
  instance: readonly PluginDefaultEntry[]
  /** The instance's `plugins.defaultVersion`: LATEST (default), OLDEST, NONE or a version/range. */
  defaultVersion: string
}

/** The spec chosen for a type and the level it came from. */
export interface VersionDecision {
  spec: string
  decidedBy: DecidedBy
  /** In words, for messages: `the task`, `the flow's pluginDefaults entry "kite.http"`. */
  source: string
}

/** The group whose types never need a version, even in strict mode. */
export const CORE_GROUP = 'kite.core'

/** True when a pluginDefaults `type` (exact type, group or prefix) applies to `type`. */
export function defaultsApply(entryType: string, type: string): boolean {
  return entryType === type || type.startsWith(`${entryType}.`)
}

/** Entries that apply to `type`, most specific (longest `type`) first, list order on ties. */
export function applicableDefaults(
  entries: readonly PluginDefaultEntry[],
  type: string,
): PluginDefaultEntry[] {
  return entries
    .map((entry, index) => ({ entry, index }))
    .filter(({ entry }) => defaultsApply(entry.type, type))
    .sort((a, b) => b.entry.type.length - a.entry.type.length || a.index - b.index)
    .map(({ entry }) => entry)
}

/**
 * Decides which version spec applies to a type (SPEC section 4). A `forced` pluginDefaults entry
 * that sets `version` wins over the task's own (nearest level first); otherwise the first level
 * that sets a version decides. Returns `undefined` in strict mode (`defaultVersion: NONE`) when
 * no level sets one, except for the core group, which falls back to LATEST.
 */
export function decideVersionSpec(
  type: string,
  levels: VersionLevels,
): VersionDecision | undefined {
  const ordered: Array<{
    decidedBy: DecidedBy
    label: string
    entries: readonly PluginDefaultEntry[]
  }> = [
    { decidedBy: 'flow', label: "the flow's pluginDefaults", entries: levels.flow },
    ...levels.namespaces.map((level) => ({
      decidedBy: 'namespace' as const,
      label: `namespace ${level.namespace}'s plugin defaults`,
      entries: level.defaults,
    })),
    { decidedBy: 'instance', label: "the instance's plugins.defaults", entries: levels.instance },
  ]
  const fromLevel = (forced: boolean): VersionDecision | undefined => {
    for (const level of ordered) {
      for (const entry of applicableDefaults(level.entries, type)) {
        if (entry.forced !== forced) continue
        const version = entry.values.version
        if (typeof version === 'string' || typeof version === 'number') {
          return {
            spec: String(version),
            decidedBy: level.decidedBy,
            source: `${level.label} entry "${entry.type}"${forced ? ' (forced)' : ''}`,
          }
        }
      }
    }
    return undefined
  }
  const forced = fromLevel(true)
  if (forced) return forced
  if (levels.task !== undefined) return { spec: levels.task, decidedBy: 'task', source: 'the task' }
  const fromDefaults = fromLevel(false)
  if (fromDefaults) return fromDefaults
  const defaultVersion = levels.defaultVersion.trim() || 'LATEST'
  if (defaultVersion.toUpperCase() === 'NONE') {
    if (defaultsApply(CORE_GROUP, type)) {
      return {
        spec: 'LATEST',
        decidedBy: 'defaultVersion',
        source: `the core group ${CORE_GROUP} (LATEST even when plugins.defaultVersion is NONE)`,
      }
    }
    return undefined
  }
  return {
    spec: defaultVersion,
    decidedBy: 'defaultVersion',
    source: "the instance's plugins.defaultVersion",
  }
}

/** The outcome of resolving one type's version among the installed ones. */
export type VersionResolution =
  | { ok: true; version: string; decision: VersionDecision }
  | { ok: false; reason: string; decision?: VersionDecision }

/**
 * Decides the spec and picks the version among `candidates` (installed versions that contain the
 * type); `installed` is every installed version of the package, for messages.
 */
export function resolveVersion(options: {
  type: string
  /** How messages name the plugin: `kite.http (@kite/plugin-http)`. */
  plugin: string
  levels: VersionLevels
  candidates: readonly string[]
  installed: readonly string[]
}): VersionResolution {
  const { type, plugin, levels, candidates, installed } = options
  const decision = decideVersionSpec(type, levels)
  if (!decision) {
    return {
      ok: false,
      reason: `no version is set for ${type} and plugins.defaultVersion is NONE (strict mode): set "version" on the task or in a pluginDefaults entry`,
    }
  }
  if (!parseVersionSpec(decision.spec)) {
    return {
      ok: false,
      decision,
      reason: `version "${decision.spec}" (from ${decision.source}) is not an exact version, LATEST, OLDEST or a semver range`,
    }
  }
  const version = selectVersion(decision.spec, candidates)
  if (version !== undefined) return { ok: true, version, decision }
  const sorted = [...installed].sort(semver.compare)
  const lacking = sorted.filter((item) => !candidates.includes(item))
  const list = sorted.length > 0 ? sorted.join(', ') : 'none'
  const note =
    lacking.length > 0
      ? ` (${lacking.join(', ')} ${lacking.length === 1 ? 'does' : 'do'} not provide ${type})`
      : ''
  return {
    ok: false,
    decision,
    reason: `version "${decision.spec}" of ${plugin} (from ${decision.source}) matches none of the installed versions ${list}${note}`,
  }
}
