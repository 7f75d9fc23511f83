import { createHash } from 'node:crypto'
import { posix } from 'node:path'
import { isKiteError } from '@kite/sdk'
import { type PluginManifest, parseManifest } from '@kite/sdk/host'
import semver from 'semver'
import type { Catalog } from './catalog.js'
import { RegistryError } from './errors.js'
import { readPackageTarball } from './tarball.js'

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
  | { plugin: true; body: PublishBody; manifest: PluginManifest }

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
 * Runs every publish check: the tarball is readable and is the package it claims to be; for a
 * plugin (a `kite.manifest` in package.json) the manifest is valid JSON, passes `PluginManifest`,
 * names this package and version, keeps its types in its group, declares a sane `@kite/sdk`
 * range, ships its entry, and its group and types belong to no other package.
 */
export function checkPublish(body: PublishBody, catalog: Catalog): CheckedPublish {
  const { name, version } = body
  const label = `${name}@${version}`
  if (catalog.versionStates(name).has(version)) {
    throw new RegistryError(
      `${label} is already published; versions are immutable, so bump the version and publish again`,
      { code: 'VERSION_EXISTS' },
    )
  }
  const files = readPackageTarball(body.tarball, label)
  const pkg = readJsonFile(files, 'package.json', label)
  if (!isRecord(pkg)) throw corrupt(`the tarball of ${label} has no readable package.json`)
  if (pkg.name !== name || pkg.version !== version) {
    throw badRequest(
      `the tarball's package.json is ${String(pkg.name)}@${String(pkg.version)}, but the request publishes ${label}`,
    )
  }
  const manifestPath = isRecord(pkg.kite) ? pkg.kite.manifest : undefined
  if (manifestPath === undefined) {
    if (catalog.isPlugin(name)) {
      throw new RegistryError(
        `${name} is a Kite plugin, but ${label} has no "kite": { "manifest": ... } in package.json; every version of a plugin must carry its manifest`,
        { code: 'NOT_A_PLUGIN' },
      )
    }
    return { plugin: false, body }
  }
  if (typeof manifestPath !== 'string' || manifestPath === '') {
    throw manifestError('MANIFEST_MISSING', label, '"kite.manifest" in package.json must be a path')
  }
  const path = posix.normalize(manifestPath.replace(/^\.\//, ''))
  const raw = files.get(path)
  if (!raw) {
    throw manifestError(
      'MANIFEST_MISSING',
      label,
      `package.json points at "${manifestPath}", which is not in the tarball (run \`kite-plugin build\` before publishing and keep dist/ in "files")`,
    )
  }
  let json: unknown
  try {
    json = JSON.parse(raw.toString('utf8'))
  } catch (error) {
    throw manifestError(
      'MANIFEST_JSON_INVALID',
      label,
      `${path} is not valid JSON (${(error as Error).message})`,
      error,
    )
  }
  let manifest: PluginManifest
  try {
    manifest = parseManifest(json)
  } catch (error) {
    const message = isKiteError(error) ? error.message : String(error)
    throw manifestError('MANIFEST_INVALID', label, `${path}: ${message}`, error)
  }
  if (manifest.name !== name || manifest.version !== version) {
    throw manifestError(
      'MANIFEST_MISMATCH',
      label,
      `${path} describes ${manifest.name}@${manifest.version}; rebuild the plugin so the manifest matches package.json`,
    )
  }
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
  const entry = posix.normalize(manifest.entry.replace(/^\.\//, ''))
  if (!files.has(entry)) {
    throw manifestError(
      'MANIFEST_INVALID',
      label,
      `the manifest's entry "${manifest.entry}" is not in the tarball`,
    )
  }
  const conflict = catalog.conflictingGroup(manifest.group, name)
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
    const owner = catalog.typeOwner(type, name)
    if (owner) {
      throw new RegistryError(`${label}: the type "${type}" is already provided by ${owner}`, {
        code: 'TYPE_OWNED',
      })
    }
  }
  return { plugin: true, body, manifest }
}

/** Reads the manifest of a stored tarball (used when rebuilding the catalog). */
export function readManifestFromTarball(
  tarball: Uint8Array,
  label: string,
): PluginManifest | undefined {
  const files = readPackageTarball(tarball, label)
  const pkg = readJsonFile(files, 'package.json', label)
  const path = isRecord(pkg) && isRecord(pkg.kite) ? pkg.kite.manifest : undefined
  if (typeof path !== 'string') return undefined
  const json = readJsonFile(files, posix.normalize(path.replace(/^\.\//, '')), label)
  if (json === undefined) return undefined
  return parseManifest(json)
}

function readJsonFile(files: Map<string, Buffer>, path: string, label: string): unknown {
  const raw = files.get(path)
  if (!raw) return undefined
  try {
    return JSON.parse(raw.toString('utf8'))
  } catch (error) {
    throw corrupt(`${path} in the tarball of ${label} is not valid JSON`, error)
  }
}

function manifestError(
  code: 'MANIFEST_MISSING' | 'MANIFEST_JSON_INVALID' | 'MANIFEST_INVALID' | 'MANIFEST_MISMATCH',
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
