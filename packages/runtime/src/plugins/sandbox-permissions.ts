import { isAbsolute, resolve, sep } from 'node:path'
import type { PluginPermissions } from '@kite/sdk'
import { RuntimeError } from '../errors.js'
import { matchesPattern } from './plugin-security.js'

/** `plugins.permissions` of `kite.yaml`: a package name or `*` pattern → what it may have. */
export type PermissionGrants = Readonly<Record<string, PluginPermissions>>

/** A `plugins.configurations` entry, as far as permissions read it. */
export interface ConfigurationValues {
  type: string
  values: Record<string, unknown>
}

/** What a sandbox process of one version gets: every `config:` path expanded to real ones. */
export interface SandboxPermissions {
  childProcess: boolean
  fsRead: string[]
  fsWrite: string[]
  env: string[]
}

export const NO_PERMISSIONS: SandboxPermissions = Object.freeze({
  childProcess: false,
  fsRead: [],
  fsWrite: [],
  env: [],
}) as SandboxPermissions

export interface PermissionCheck {
  name: string
  version: string
  /** The plugin's group: `config:<key>` paths read the configurations of this group's types. */
  group: string
  /** What the manifest asks for. */
  asked: PluginPermissions | undefined
  grants: PermissionGrants
  configurations: readonly ConfigurationValues[]
}

/** Everything `plugins.permissions` grants a package: the union of every matching entry. */
export function grantedPermissions(name: string, grants: PermissionGrants): PluginPermissions {
  const granted: Required<PluginPermissions> = {
    childProcess: false,
    fsRead: [],
    fsWrite: [],
    env: [],
  }
  for (const [pattern, grant] of Object.entries(grants)) {
    if (!matchesPattern(pattern, name)) continue
    granted.childProcess ||= grant.childProcess ?? false
    granted.fsRead.push(...(grant.fsRead ?? []))
    granted.fsWrite.push(...(grant.fsWrite ?? []))
    granted.env.push(...(grant.env ?? []))
  }
  return granted
}

/**
 * The directories a `config:<key>` path stands for: the `<key>` values of every configuration of
 * the plugin's group or one of its types (a string or a list of strings, absolute paths).
 */
export function expandPath(
  path: string,
  group: string,
  configurations: readonly ConfigurationValues[],
): string[] {
  if (!path.startsWith('config:')) return [resolve(path)]
  const key = path.slice('config:'.length)
  const found: string[] = []
  for (const configuration of configurations) {
    if (configuration.type !== group && !configuration.type.startsWith(`${group}.`)) continue
    const value = configuration.values[key]
    const list = typeof value === 'string' ? [value] : Array.isArray(value) ? value : []
    for (const item of list) {
      if (typeof item === 'string' && isAbsolute(item) && !item.includes(',')) {
        found.push(resolve(item))
      }
    }
  }
  return found
}

const inside = (path: string, root: string) =>
  path === root || path.startsWith(root.endsWith(sep) ? root : root + sep)

/**
 * Checks what a version asks for against what the instance grants its package and returns what
 * its sandbox gets. Throws `PLUGIN_PERMISSION` listing what it asks for and what is granted when
 * it asks for more. A path is granted when the grant lists it as written (`config:roots`) or when
 * every directory it stands for lies under a granted directory.
 */
export function checkPermissions(check: PermissionCheck): SandboxPermissions {
  const { asked, group, configurations } = check
  const granted = grantedPermissions(check.name, check.grants)
  const missing: string[] = []
  if (asked?.childProcess && !granted.childProcess) missing.push('childProcess')
  const paths = (kind: 'fsRead' | 'fsWrite'): string[] => {
    const grantedRoots = (granted[kind] ?? []).flatMap((path) =>
      expandPath(path, group, configurations),
    )
    const result: string[] = []
    for (const path of asked?.[kind] ?? []) {
      const expanded = expandPath(path, group, configurations)
      const ok =
        granted[kind]?.includes(path) ||
        expanded.every((real) => grantedRoots.some((root) => inside(real, root)))
      if (!ok) missing.push(`${kind} ${path}`)
      result.push(...expanded)
    }
    return [...new Set(result)]
  }
  const fsRead = paths('fsRead')
  const fsWrite = paths('fsWrite')
  for (const name of asked?.env ?? []) {
    if (!granted.env?.includes(name)) missing.push(`env ${name}`)
  }
  if (missing.length > 0) {
    throw new RuntimeError(
      `plugin ${check.name}@${check.version} asks for permissions this runtime does not grant it: ${missing.join(', ')}. It asks for: ${describePermissions(asked)}; plugins.permissions grants it: ${describePermissions(granted)}. Grant them in kite.yaml (plugins.permissions."${check.name}") or use a version that asks for less.`,
      { code: 'PLUGIN_PERMISSION', kind: 'operational' },
    )
  }
  return {
    childProcess: asked?.childProcess ?? false,
    fsRead,
    fsWrite,
    env: [...new Set(asked?.env ?? [])],
  }
}

/** `childProcess, fsRead /a /b, env HOME`, or `nothing`. */
export function describePermissions(permissions: PluginPermissions | undefined): string {
  const parts: string[] = []
  if (permissions?.childProcess) parts.push('childProcess')
  for (const kind of ['fsRead', 'fsWrite', 'env'] as const) {
    const list = permissions?.[kind] ?? []
    if (list.length > 0) parts.push(`${kind} ${list.join(' ')}`)
  }
  return parts.length > 0 ? parts.join(', ') : 'nothing'
}
