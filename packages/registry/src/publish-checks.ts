import { createHash } from 'node:crypto'
import { isKiteError } from '@kite/sdk'
import type { PluginManifest } from '@kite/sdk/host'
import {
  type PackageContents,
  readPackageContents,
  readPackageTarball,
  type TarballErrorCode,
  type TarballLimits,
} from '@kite/sdk/tarball'
import semver from 'semver'
import validateName from 'validate-npm-package-name'
import type { Catalog } from './catalog.js'
import { RegistryError } from './errors.js'
import { type PackageDocs, readPackageDocs } from './package-docs.js'

/** The body npm sends to `PUT /<name>` when it publishes one version. */
export interface PublishBody {
  name: string
  version: string
  /** The version's metadata (its package.json plus npm's additions). */
  metadata: Record<string, unknown>
  tarball: Buffer
  /** `sha512-…` of the tarball, computed here. */
  integrity: string
}

/** What a publish turned out to be once its tarball was read. */
export type CheckedPublish =
  | { plugin: false; body: PublishBody }
  | {
      plugin: true
      body: PublishBody
      manifest: PluginManifest
      manifestHash: string
      docs: PackageDocs
    }

/**
 * Extracts the one version and tarball of an npm publish request, or throws `BAD_REQUEST` /
 * `TARBALL_CORRUPT` saying what is wrong with it.
 */
export function readPublishBody(name: string, body: unknown): PublishBody {
  if (!isRecord(body)) throw badRequest(`the publish request for ${name} is not a JSON object`)
  const versions = isRecord(body.versions) ? Object.entries(body.versions) : []
  const attachments = isRecord(body._attachments) ? Object.entries(body._attachments) : []
  if (versions.length !== 1 || attachments.length !== 1) {
    throw badRequest(
      `the publish request for ${name} must carry exactly one version and one tarball (it has ${versions.length} and ${attachments.length})`,
    )
  }
  const [version, metadata] = versions[0] as [string, unknown]
  const [, attachment] = attachments[0] as [string, unknown]
  const label = `${name}@${version}`
  if (!semver.valid(version)) throw badRequest(`"${version}" is not a semver version (${name})`)
  if (!isRecord(metadata)) throw badRequest(`the metadata of ${label} is not an object`)
  if (metadata.name !== undefined && metadata.name !== name) {
    throw badRequest(`the metadata of ${label} names another package, "${String(metadata.name)}"`)
  }
  if (!isRecord(attachment) || typeof attachment.data !== 'string') {
    throw corrupt(`the tarball of ${label} is missing from the request`)
  }
  const tarball = Buffer.from(attachment.data, 'base64')
  if (tarball.length === 0) throw corrupt(`the tarball of ${label} is empty`)
  const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`
  const dist = isRecord(metadata.dist) ? metadata.dist : {}
  if (typeof dist.integrity === 'string' && dist.integrity.startsWith('sha512-')) {
    if (dist.integrity !== integrity) {
      throw corrupt(
        `the tarball of ${label} does not match its declared integrity (declared ${dist.integrity}, received ${integrity})`,
      )
    }
  }
  if (typeof dist.shasum === 'string') {
    const shasum = createHash('sha1').update(tarball).digest('hex')
    if (dist.shasum !== shasum) {
      throw corrupt(
        `the tarball of ${label} does not match its declared shasum (declared ${dist.shasum}, received ${shasum})`,
      )
    }
  }
  return { name, version, metadata, tarball, integrity }
}

/**
 * Runs every publish check: the tarball obeys SPEC 5's rules (`@kite/sdk/tarball`, the same
 * reading a runtime applies at install) and is the package it claims to be; for a plugin (a
 * `kite.manifest` in package.json) the manifest is within the limits, passes `PluginManifest`,
 * names this package and version, keeps its types in its group, declares a sane `@kite/sdk`
 * range, ships its entry, and its group and types belong to no other package.
 */
export async function checkPublish(
  body: PublishBody,
  catalog: Catalog,
  limits: TarballLimits,
): Promise<CheckedPublish> {
  const { name, version } = body
  const label = `${name}@${version}`
  if (catalog.versions.versionStates(name).has(version)) {
    throw new RegistryError(
      `${label} is already published; versions are immutable, so bump the version and publish again`,
      { code: 'VERSION_EXISTS' },
    )
  }
  const contents = await readContents(body.tarball, label, limits)
  const pkg = contents.packageJson
  if (pkg.name !== name || pkg.version !== version) {
    throw badRequest(
      `the tarball's package.json is ${String(pkg.name)}@${String(pkg.version)}, but the request publishes ${label}`,
    )
  }
  if (!contents.plugin) {
    if (catalog.versions.isPlugin(name)) {
      throw new RegistryError(
        `${name} is a Kite plugin, but ${label} has no "kite": { "manifest": ... } in package.json; every version of a plugin must carry its manifest`,
        { code: 'NOT_A_PLUGIN' },
      )
    }
    return { plugin: false, body }
  }
  const { manifest, hash } = contents.plugin
  const outside = [...manifest.tasks, ...manifest.triggers, ...manifest.conditions].find(
    (entry) => !entry.type.startsWith(`${manifest.group}.`),
  )
  if (outside) {
    throw manifestError(
      'MANIFEST_INVALID',
      label,
      `type "${outside.type}" is outside the group "${manifest.group}"`,
    )
  }
  const range = semver.validRange(manifest.sdkRange)
  if (range === null || semver.minVersion(manifest.sdkRange) === null) {
    throw new RegistryError(
      `${label}: the @kite/sdk range "${manifest.sdkRange}" is not a valid semver range (use something like "^0.1.0")`,
      { code: 'SDK_RANGE_INVALID' },
    )
  }
  const conflict = catalog.versions.conflictingGroup(manifest.group, name)
  if (conflict) {
    const why =
      conflict.group === manifest.group
        ? `the group "${manifest.group}" belongs to ${conflict.name}`
        : `the group "${manifest.group}" overlaps the group "${conflict.group}" of ${conflict.name}`
    throw new RegistryError(
      `${label}: ${why}; a group belongs to exactly one package, so pick another group`,
      { code: 'GROUP_OWNED' },
    )
  }
  for (const { type } of [...manifest.tasks, ...manifest.triggers, ...manifest.conditions]) {
    const owner = catalog.versions.typeOwner(type, name)
    if (owner) {
      throw new RegistryError(`${label}: the type "${type}" is already provided by ${owner}`, {
        code: 'TYPE_OWNED',
      })
    }
  }
  return { plugin: true, body, manifest, manifestHash: hash, docs: contents.docs }
}

/**
 * Reads the manifest of a stored tarball (used when rebuilding the catalog), by the same rules
 * as a publish: a stored tarball that breaks them is not indexed, so no runtime installs it.
 */
export async function readManifestFromTarball(
  tarball: Uint8Array,
  label: string,
  limits: TarballLimits,
): Promise<{ manifest: PluginManifest; manifestHash: string; docs: PackageDocs } | undefined> {
  const { plugin, docs } = await readContents(tarball, label, limits)
  return plugin && { manifest: plugin.manifest, manifestHash: plugin.hash, docs }
}

/** The SDK's reading of a tarball, its refusals turned into the registry's errors. */
async function readContents(
  tarball: Uint8Array,
  label: string,
  limits: TarballLimits,
): Promise<PackageContents & { docs: PackageDocs }> {
  try {
    const files = await readPackageTarball(tarball, { label, limits })
    const contents = readPackageContents(files, { label, limits })
    const rawManifest = contents.plugin ? parseLoosely(contents.plugin.bytes) : undefined
    return { ...contents, docs: readPackageDocs(files, contents.packageJson, rawManifest) }
  } catch (error) {
    if (isKiteError(error) && isTarballCode(error.code)) {
      throw new RegistryError(error.message, { code: error.code, cause: error })
    }
    throw error
  }
}

/** The manifest as its author wrote it, fields the SDK's schema does not know included. */
function parseLoosely(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'))
  } catch {
    return undefined
  }
}

const TARBALL_CODES: readonly TarballErrorCode[] = [
  'TARBALL_CORRUPT',
  'TARBALL_TOO_LARGE',
  'TARBALL_ENTRY_INVALID',
  'MANIFEST_MISSING',
  'MANIFEST_JSON_INVALID',
  'MANIFEST_INVALID',
  'MANIFEST_MISMATCH',
  'MANIFEST_TOO_LARGE',
]

function isTarballCode(code: string): code is TarballErrorCode {
  return (TARBALL_CODES as readonly string[]).includes(code)
}

/**
 * npm's rules for a new package name, plus no look-alike by case of a name the registry has
 * (`@kite/Plugin-Core` beside `@kite/plugin-core`). Throws `NAME_INVALID`.
 */
export function checkNewName(name: string, existing: Iterable<string>): void {
  const verdict = validateName(name)
  if (!verdict.validForNewPackages) {
    const problems = [...(verdict.errors ?? []), ...(verdict.warnings ?? [])]
    throw new RegistryError(
      `"${name}" is not a valid name for a new package: ${problems.join('; ')}`,
      { code: 'NAME_INVALID' },
    )
  }
  const folded = name.toLowerCase()
  for (const other of existing) {
    if (other !== name && other.toLowerCase() === folded) {
      throw new RegistryError(
        `"${name}" differs from the existing package ${other} only by case; pick a distinct name`,
        { code: 'NAME_INVALID' },
      )
    }
  }
}

/**
 * Who may create a new package in `@scope`: the owners the registry's config names, or else
 * whoever already maintains a package in it (the first publisher in a scope takes it).
 * Throws `SCOPE_OWNED` (403) for anyone else.
 */
export function checkScope(
  name: string,
  user: string,
  owners: Readonly<Record<string, readonly string[]>>,
  catalog: Catalog,
): void {
  if (!name.startsWith('@')) return
  const scope = name.slice(0, name.indexOf('/'))
  const configured = owners[scope]
  const allowed = configured ?? catalog.owners.scopeMembers(scope)
  if (allowed.length === 0 || allowed.includes(user)) return
  throw new RegistryError(
    `${user} may not publish ${name}: the scope ${scope} belongs to ${allowed.join(', ')}${configured ? ' (set in the registry config)' : ''}; publish under a scope of your own`,
    { code: 'SCOPE_OWNED' },
  )
}

function manifestError(
  code: 'MANIFEST_INVALID',
  label: string,
  why: string,
  cause?: unknown,
): RegistryError {
  return new RegistryError(`${label} is not a valid Kite plugin: ${why}`, { code, cause })
}

function badRequest(message: string): RegistryError {
  return new RegistryError(message, { code: 'BAD_REQUEST' })
}

function corrupt(message: string, cause?: unknown): RegistryError {
  return new RegistryError(message, { code: 'TARBALL_CORRUPT', cause })
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
