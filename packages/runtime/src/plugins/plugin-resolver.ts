import { findAliasedTask, type TypeKind, type TypeManifest } from '@kite/sdk/host'
import { type InstanceConfig, namespaceDefaults, parseConfig } from '../config.js'
import { RuntimeError } from '../errors.js'
import type { PluginDefaultEntry } from '../flow/flow-model.js'
import { closest } from '../flow/parse-flow.js'
import type { InstalledPlugin, PluginCatalog } from './plugin-catalog.js'
import type { DefaultsLevel } from './plugin-defaults.js'
import { isPluginAllowed } from './plugin-security.js'
import { type DecidedBy, defaultsApply, resolveVersion } from './version-resolver.js'

/**
 * The concrete plugin version a task (or trigger, condition) runs with, as recorded in an
 * execution's `plugins` list.
 */
export interface PluginPin {
  type: string
  kind: TypeKind
  package: string
  version: string
  integrity?: string
  decidedBy: DecidedBy
}

/** A pin plus what validating and rendering need: the spec that chose it and the type's schemas. */
export interface ResolvedPlugin extends PluginPin {
  /** The spec that was applied (`^1.2`, `LATEST`, ...). */
  versionSpec: string
  /** The type's entry in that version's manifest: JSON Schemas of properties and outputs. */
  manifestEntry: TypeManifest
  /**
   * Set when the flow wrote an old type id that this version declares as an alias: `type` is
   * the new id (the one the code knows), `written` the flow's, `since` the oldest installed
   * version of the package that declares the alias.
   */
  alias?: { written: string; since: string }
}

/** What a flow asks of the resolver for one task, trigger or condition. */
export interface ResolveRequest {
  type: string
  kind: TypeKind
  /** How messages name the asker: `task "get"`, `trigger "hourly"`. */
  label: string
  /** The task's own `version`, if any. */
  version?: string
  namespace: string
  /** The flow's `pluginDefaults`. */
  flowDefaults: readonly PluginDefaultEntry[]
}

/**
 * Turns "type T at version spec V" into a concrete installed version (SPEC section 4). Throws a
 * RuntimeError (`PLUGIN_NOT_FOUND`, `PLUGIN_VERSION`) whose message names the task, the type, the
 * spec, the level that decided it and why it failed.
 */
export interface PluginResolver {
  resolve(request: ResolveRequest): ResolvedPlugin
  /** Looks up exactly a recorded pin again (an execution resuming keeps its versions). */
  resolvePinned(pin: PluginPin, label: string): ResolvedPlugin
  /** Plugin defaults that apply in a namespace, nearest level first, for property merging. */
  defaultsLevels(namespace: string, flowDefaults: readonly PluginDefaultEntry[]): DefaultsLevel[]
  /** `ctx.pluginConfig` for a type (`plugins.configurations`). */
  pluginConfig(type: string): Record<string, unknown>
  /**
   * Every installed version that provides the type, oldest first, for messages that compare
   * versions ("`name` exists in 1.0.0"). Empty when no installed plugin owns the type.
   */
  versionsOfType(type: string): Array<{ package: string; version: string; entry: TypeManifest }>
}

export interface PluginResolverOptions {
  catalog: PluginCatalog
  config?: InstanceConfig
}

/** A resolver over a catalog's installed versions and the instance configuration. */
export function createPluginResolver(options: PluginResolverOptions): PluginResolver {
  const { catalog } = options
  const config = options.config ?? parseConfig({})
  const configCache = new Map<string, Record<string, unknown>>()

  const notFound = (request: ResolveRequest): RuntimeError => {
    const groups = catalog.groups()
    const group = request.type.split('.').slice(0, -1).join('.')
    const hint = closest(group, groups)
    return new RuntimeError(
      `${request.label}: unknown type "${request.type}": no installed plugin provides it (installed groups: ${groups.join(', ') || 'none'})${hint ? `; did you mean a type of ${hint}?` : ''}`,
      { code: 'PLUGIN_NOT_FOUND' },
    )
  }

  /** `plugins.security` holds at save and at execution, whatever source a version came from. */
  const refuseExcluded = (name: string, label: string, type: string) => {
    if (!isPluginAllowed(name, config.plugins.security)) {
      throw new RuntimeError(
        `${label}: ${type} comes from ${name}, which plugins.security does not allow`,
        { code: 'PLUGIN_NOT_FOUND' },
      )
    }
  }

  /**
   * The package one of whose installed versions declares `type` as an alias of a task (a
   * renamed type, in any group), and the oldest installed version that declares it.
   */
  const aliasOwner = (type: string) => {
    for (const plugin of catalog.list()) {
      const task = findAliasedTask(plugin.manifest, type)
      const owner = task && catalog.ownerOf(task.type)
      if (!owner || owner.name !== plugin.name) continue
      const since = catalog
        .versionsOf(plugin.name)
        .find((item) => findAliasedTask(item.manifest, type) !== undefined)!.version
      return { owner, since }
    }
    return undefined
  }

  /** The type in one version: directly, or through a task that declares it as an alias. */
  const provides = (plugin: InstalledPlugin, type: string, aliases: boolean) => {
    const direct = catalog.typeIn(plugin, type)
    if (direct || !aliases) return direct && { ...direct, alias: false }
    const task = findAliasedTask(plugin.manifest, type)
    const provided = task && catalog.typeIn(plugin, task.type)
    return provided && { ...provided, alias: true }
  }

  return {
    resolve(request) {
      let owner = catalog.ownerOf(request.type)
      const versions = owner ? catalog.versionsOf(owner.name) : []
      // An old type id: the package whose versions declare it as an alias (looked for only when
      // some version lacks the type). Another package's alias never hides a type still provided.
      const aliased =
        request.kind === 'task' &&
        (!owner || versions.some((plugin) => !catalog.typeIn(plugin, request.type)))
          ? aliasOwner(request.type)
          : undefined
      const alias =
        aliased &&
        (!owner ||
          aliased.owner.name === owner.name ||
          !versions.some((plugin) => catalog.typeIn(plugin, request.type)))
          ? aliased
          : undefined
      if (alias) owner = alias.owner
      if (!owner) throw notFound(request)
      refuseExcluded(owner.name, request.label, request.type)
      const installed = catalog.versionsOf(owner.name)
      const provided = installed.flatMap((plugin) => {
        const type = provides(plugin, request.type, alias !== undefined)
        return type ? [type] : []
      })
      if (provided.length === 0) {
        const known = installed.flatMap((plugin) =>
          [
            ...plugin.manifest.tasks,
            ...plugin.manifest.triggers,
            ...plugin.manifest.conditions,
          ].map((entry) => entry.type),
        )
        const hint = closest(request.type, [...new Set(known)])
        throw new RuntimeError(
          `${request.label}: unknown type "${request.type}": no installed version of ${owner.name} provides it${hint ? ` (did you mean "${hint}"?)` : ''}`,
          { code: 'PLUGIN_NOT_FOUND' },
        )
      }
      const plugin = `${owner.group} (${owner.name})`
      const resolution = resolveVersion({
        type: request.type,
        plugin,
        levels: {
          ...(request.version === undefined ? {} : { task: request.version }),
          flow: request.flowDefaults,
          namespaces: namespaceDefaults(config, request.namespace),
          instance: config.plugins.defaults as PluginDefaultEntry[],
          defaultVersion: config.plugins.defaultVersion,
        },
        candidates: provided.map((type) => type.plugin.version),
        installed: installed.map((item) => item.version),
      })
      if (!resolution.ok) {
        const message = `${request.label}: ${resolution.reason}`
        throw new RuntimeError(message, {
          code: 'PLUGIN_VERSION',
          issues: [
            {
              path: '',
              message,
              type: request.type,
              ...(resolution.decision
                ? {
                    versionSpec: resolution.decision.spec,
                    decidedBy: resolution.decision.decidedBy,
                  }
                : {}),
            },
          ],
        })
      }
      const chosen = provided.find((type) => type.plugin.version === resolution.version)!
      if (chosen.kind !== request.kind) {
        throw new RuntimeError(
          `${request.label}: ${request.type} is a ${chosen.kind}, not a ${request.kind}`,
          { code: 'PLUGIN_NOT_FOUND' },
        )
      }
      return {
        type: chosen.entry.type,
        kind: chosen.kind,
        package: owner.name,
        version: chosen.plugin.version,
        ...(chosen.plugin.integrity ? { integrity: chosen.plugin.integrity } : {}),
        decidedBy: resolution.decision.decidedBy,
        versionSpec: resolution.decision.spec,
        manifestEntry: chosen.entry,
        ...(chosen.alias && alias ? { alias: { written: request.type, since: alias.since } } : {}),
      }
    },

    versionsOfType(type) {
      const owner = catalog.ownerOf(type)
      if (!owner) return []
      return catalog.versionsOf(owner.name).flatMap((plugin) => {
        const provided = catalog.typeIn(plugin, type)
        return provided
          ? [{ package: plugin.name, version: plugin.version, entry: provided.entry }]
          : []
      })
    },

    resolvePinned(pin, label) {
      refuseExcluded(pin.package, label, pin.type)
      const plugin = catalog.get(pin.package, pin.version)
      if (!plugin) {
        throw new RuntimeError(
          `${label}: ${pin.package}@${pin.version}, recorded for ${pin.type} when the execution started, is no longer installed`,
          { code: 'PLUGIN_VERSION', kind: 'operational' },
        )
      }
      const provided = catalog.typeIn(plugin, pin.type)
      if (!provided) {
        throw new RuntimeError(
          `${label}: ${pin.package}@${pin.version} does not provide ${pin.type}`,
          {
            code: 'PLUGIN_NOT_FOUND',
          },
        )
      }
      return { ...pin, versionSpec: pin.version, manifestEntry: provided.entry }
    },

    defaultsLevels(namespace, flowDefaults) {
      return [
        { level: 'flow', label: 'flow', entries: flowDefaults },
        ...namespaceDefaults(config, namespace).map((level) => ({
          level: 'namespace' as const,
          label: `namespace ${level.namespace}`,
          entries: level.defaults,
        })),
        {
          level: 'instance',
          label: 'instance',
          entries: config.plugins.defaults as PluginDefaultEntry[],
        },
      ]
    },

    pluginConfig(type) {
      let found = configCache.get(type)
      if (!found) {
        found = {}
        const entries = config.plugins.configurations
          .filter((entry) => defaultsApply(entry.type, type))
          .sort((a, b) => a.type.length - b.type.length)
        for (const entry of entries) Object.assign(found, entry.values)
        configCache.set(type, found)
      }
      return found
    },
  }
}
