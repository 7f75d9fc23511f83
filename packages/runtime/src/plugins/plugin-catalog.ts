import type { PluginDefinition } from '@kite/sdk'
import type { PluginManifest, TypeKind, TypeManifest } from '@kite/sdk/host'
import { listManifestTypes } from '@kite/sdk/host'
import semver from 'semver'
import { RuntimeError } from '../errors.js'

/**
 * Where an installed version's code is. A `definition` lives in this process (tests, embedders);
 * a `module` is an ESM bundle on disk (a local plugin directory now, the plugin store next), which
 * an isolated host can import in a worker thread.
 */
export type PluginCode =
  | { kind: 'definition'; plugin: PluginDefinition }
  | { kind: 'module'; entry: string }

/** One installed version of one plugin package. */
export interface InstalledPlugin {
  /** npm package name. */
  name: string
  version: string
  /** npm integrity (`sha512-...`) when the version came from a registry tarball. */
  integrity?: string
  manifest: PluginManifest
  code: PluginCode
  /** Where it came from, for messages: `in-process`, a directory, a store path. */
  origin: string
}

/** A type as one installed version provides it. */
export interface ProvidedType {
  plugin: InstalledPlugin
  kind: TypeKind
  entry: TypeManifest
}

/**
 * The installed plugin versions the resolver chooses from, filled by the plugin store (from the
 * registry), in-process definitions and local plugin directories.
 */
export interface PluginCatalog {
  /** Increases on every change, so callers can cache what they derived from the catalog. */
  readonly generation: number
  /** Every installed version, by package name then semver. */
  list(): readonly InstalledPlugin[]
  get(name: string, version: string): InstalledPlugin | undefined
  /** Installed versions of a package, oldest first. */
  versionsOf(name: string): readonly InstalledPlugin[]
  /** The package owning the type's group: the longest installed group that prefixes the type. */
  ownerOf(type: string): { name: string; group: string } | undefined
  /** The type in one installed version, if that version provides it. */
  typeIn(plugin: InstalledPlugin, type: string): ProvidedType | undefined
  /** Groups of every installed package. */
  groups(): string[]
}

/** The installed version a pin names; a PLUGIN_VERSION error when it is not installed. */
export function installedVersion(
  catalog: PluginCatalog,
  pin: { package: string; version: string },
): InstalledPlugin {
  const plugin = catalog.get(pin.package, pin.version)
  if (!plugin) {
    throw new RuntimeError(`${pin.package}@${pin.version} is not installed`, {
      code: 'PLUGIN_VERSION',
      kind: 'operational',
    })
  }
  return plugin
}

/** A catalog that can be changed: adding a version is additive, never replacing another. */
export interface MutablePluginCatalog extends PluginCatalog {
  /** Adds a version; refuses a group owned by another package and a version installed twice. */
  add(plugin: InstalledPlugin): void
  remove(name: string, version: string): boolean
  /** Bumps `generation` when something resolution depends on changed (namespace defaults). */
  touch(): void
}

/** An in-memory catalog. */
export function createPluginCatalog(
  initial: readonly InstalledPlugin[] = [],
): MutablePluginCatalog {
  const packages = new Map<string, InstalledPlugin[]>()
  const owners = new Map<string, string>()
  const types = new WeakMap<InstalledPlugin, Map<string, ProvidedType>>()
  let generation = 0

  const typesOf = (plugin: InstalledPlugin): Map<string, ProvidedType> => {
    let map = types.get(plugin)
    if (!map) {
      map = new Map(
        listManifestTypes(plugin.manifest).map(({ kind, entry }) => [
          entry.type,
          { plugin, kind, entry },
        ]),
      )
      types.set(plugin, map)
    }
    return map
  }

  const catalog: MutablePluginCatalog = {
    get generation() {
      return generation
    },
    list: () => [...packages.keys()].sort().flatMap((name) => packages.get(name) ?? []),
    get: (name, version) => packages.get(name)?.find((plugin) => plugin.version === version),
    versionsOf: (name) => packages.get(name) ?? [],
    ownerOf(type) {
      const parts = type.split('.')
      for (let length = parts.length - 1; length >= 2; length--) {
        const group = parts.slice(0, length).join('.')
        const name = owners.get(group)
        if (name !== undefined) return { name, group }
      }
      return undefined
    },
    typeIn: (plugin, type) => typesOf(plugin).get(type),
    groups: () => [...owners.keys()].sort(),
    add(plugin) {
      const { group, name, version } = plugin.manifest
      if (name !== plugin.name || version !== plugin.version) {
        throw new RuntimeError(
          `plugin ${plugin.name}@${plugin.version}: its manifest says ${name}@${version}`,
          { code: 'PLUGIN_INVALID' },
        )
      }
      const owner = owners.get(group)
      if (owner !== undefined && owner !== name) {
        throw new RuntimeError(
          `plugin ${name}@${version}: the group "${group}" already belongs to ${owner}; a group belongs to exactly one package`,
          { code: 'PLUGIN_CONFLICT' },
        )
      }
      const versions = packages.get(name) ?? []
      const existing = versions.find((item) => item.version === version)
      if (existing) {
        throw new RuntimeError(
          `plugin ${name}@${version} is already installed (from ${existing.origin})`,
          { code: 'PLUGIN_CONFLICT' },
        )
      }
      const previousGroup = versions[0]?.manifest.group
      if (previousGroup !== undefined && previousGroup !== group) {
        throw new RuntimeError(
          `plugin ${name}@${version}: its group "${group}" differs from the installed versions' "${previousGroup}"`,
          { code: 'PLUGIN_CONFLICT' },
        )
      }
      versions.push(plugin)
      versions.sort((a, b) => semver.compare(a.version, b.version))
      packages.set(name, versions)
      owners.set(group, name)
      generation++
    },
    touch() {
      generation++
    },
    remove(name, version) {
      const versions = packages.get(name)
      const index = versions?.findIndex((item) => item.version === version) ?? -1
      if (!versions || index < 0) return false
      const [removed] = versions.splice(index, 1)
      if (versions.length === 0) {
        packages.delete(name)
        if (removed) owners.delete(removed.manifest.group)
      }
      generation++
      return true
    },
  }
  for (const plugin of initial) catalog.add(plugin)
  return catalog
}
