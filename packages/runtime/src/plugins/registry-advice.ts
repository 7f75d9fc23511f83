import semver from 'semver'
import type { RuntimeError, ValidationIssue } from '../errors.js'
import type { PluginCatalog } from './plugin-catalog.js'
import type { PluginStore } from './plugin-store.js'
import { selectVersion } from './version-resolver.js'

/**
 * What the registry's catalog adds to a flow that does not validate (SPEC 4 and 11): a pinned
 * version it has but this runtime has not installed yet is installed (when `plugins.security`
 * allows), and problems are told what the registry knows — which versions exist, and that a
 * property unknown under the resolved version was renamed or removed in a later one.
 */
export interface RegistryAdvice {
  /** Installs the pinned versions the issues lack and the registry has; the installed `name@version`s. */
  installPinned(issues: readonly ValidationIssue[]): Promise<string[]>
  /** Rewrites the issues' messages (and the error's) with what the registry knows. */
  explain(error: RuntimeError): Promise<void>
}

export interface RegistryAdviceOptions {
  store: Pick<PluginStore, 'registry' | 'install' | 'isAllowed'>
  catalog: Pick<PluginCatalog, 'get'>
  /** How long one catalog request may take (default 5 000 ms). */
  timeoutMs?: number
}

/** The catalog's answer for a type: the package and the versions that provide it. */
interface TypeRecord {
  name: string
  versions: string[]
}

/** A change as the catalog's diff reports it (only what is read here). */
interface DiffChange {
  type: string
  kind: string
  path: string
}

const UNKNOWN_PROPERTY = 'unknown property'

export function createRegistryAdvice(options: RegistryAdviceOptions): RegistryAdvice | undefined {
  const { store, catalog } = options
  if (!store.registry) return undefined
  const api = `${store.registry.replace(/\/$/, '')}/-/kite/api/v1`
  const timeout = options.timeoutMs ?? 5_000

  /** A catalog GET; undefined when the registry does not know the thing or does not answer. */
  const get = async (path: string): Promise<unknown> => {
    try {
      const response = await fetch(`${api}${path}`, { signal: AbortSignal.timeout(timeout) })
      return response.ok ? await response.json() : undefined
    } catch {
      return undefined
    }
  }

  const typeRecord = async (type: string): Promise<TypeRecord | undefined> => {
    const body = (await get(`/types/${encodeURIComponent(type)}`)) as {
      name?: unknown
      versions?: Array<{ version?: unknown }>
    }
    if (typeof body?.name !== 'string' || !Array.isArray(body.versions)) return undefined
    const versions = body.versions
      .map((item) => item.version)
      .filter((item): item is string => typeof item === 'string' && semver.valid(item) !== null)
      .sort(semver.compare)
    return { name: body.name, versions }
  }

  const diff = async (name: string, from: string, to: string): Promise<DiffChange[]> => {
    const body = (await get(`/plugins/${name.replace('/', '%2f')}/diff/${from}/${to}`)) as {
      changes?: DiffChange[]
    }
    return Array.isArray(body?.changes) ? body.changes : []
  }

  /** Issues about a version that is not installed: the type and the spec the flow pins. */
  const pinned = (issues: readonly ValidationIssue[]) =>
    issues.flatMap((issue) =>
      (issue.code === 'PLUGIN_VERSION' || issue.code === 'PLUGIN_NOT_FOUND') &&
      issue.type !== undefined &&
      issue.versionSpec !== undefined
        ? [{ issue, type: issue.type, spec: issue.versionSpec }]
        : [],
    )

  /**
   * `"name" was renamed to "who" in 2.0.0`: walks the registry's versions of the type up to the
   * resolved one, newest first, and finds the diff that removed the property.
   */
  const renameOf = async (issue: ValidationIssue, property: string) => {
    if (!issue.type || !issue.version) return undefined
    const record = await typeRecord(issue.type)
    if (!record) return undefined
    const versions = record.versions.filter((version) => semver.lte(version, issue.version!))
    for (let index = versions.length - 1; index > 0; index--) {
      const from = versions[index - 1]!
      const to = versions[index]!
      const changes = (await diff(record.name, from, to)).filter(
        (change) => change.type === issue.type,
      )
      if (
        !changes.some((c) => c.kind === 'property-removed' && c.path === `properties.${property}`)
      )
        continue
      const added = changes.filter(
        (change) => change.kind === 'property-added' && /^properties\.[^.[]+$/.test(change.path),
      )
      const renamedTo = added.length === 1 ? added[0]!.path.slice('properties.'.length) : undefined
      return { name: record.name, from, to, renamedTo }
    }
    return undefined
  }

  return {
    async installPinned(issues) {
      const installed: string[] = []
      for (const { type, spec } of pinned(issues)) {
        const record = await typeRecord(type)
        const version = record && selectVersion(spec, record.versions)
        if (!record || !version || !store.isAllowed(record.name)) continue
        if (catalog.get(record.name, version)) continue
        await store.install(record.name, version)
        installed.push(`${record.name}@${version}`)
      }
      return installed
    },

    async explain(error) {
      const firstMessage = error.issues[0]?.message
      for (const { issue, type, spec } of pinned(error.issues)) {
        const record = await typeRecord(type)
        if (!record || record.versions.length === 0) continue
        const match = selectVersion(spec, record.versions)
        issue.message +=
          match && !store.isAllowed(record.name)
            ? `; the registry has ${record.name}@${match}, but plugins.security does not allow ${record.name}`
            : `; the registry has ${type} in ${record.name} ${record.versions.join(', ')}: pin one of them (\`kite plugins install ${record.name}@VERSION\` installs it)`
      }
      for (const issue of error.issues) {
        const at = issue.message.indexOf(UNKNOWN_PROPERTY)
        const property = issue.path.match(/\.([^.[\]]+)$/)?.[1]
        if (at < 0 || !property) continue
        const rename = await renameOf(issue, property)
        if (!rename) continue
        const what = rename.renamedTo
          ? `"${property}" was renamed to "${rename.renamedTo}" in ${rename.to}`
          : `"${property}" was removed in ${rename.to}`
        const pin = `${semver.major(rename.from)}.x`
        issue.message = `${issue.message.slice(0, at)}${what} (the registry's diff ${rename.from} → ${rename.to}): run \`kite plugins upgrade ${rename.name} --to ${issue.version}\` or pin "${pin}"`
      }
      const first = error.issues[0]?.message
      if (firstMessage && first && first !== firstMessage) {
        error.message = error.message.replace(firstMessage, first)
      }
    },
  }
}
