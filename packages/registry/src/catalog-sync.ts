import { createHash } from 'node:crypto'
import type { Logger } from '@kite/sdk'
import type { PluginManifest } from '@kite/sdk/host'
import type { TarballLimits } from '@kite/sdk/tarball'
import semver from 'semver'
import type { Catalog } from './catalog.js'
import type { StoredEvent } from './catalog-types.js'
import type { PackageDocs } from './package-docs.js'
import { PackageStorage, type StoredPackument } from './package-storage.js'
import { readManifestFromTarball } from './publish-checks.js'

export interface SyncContext {
  catalog: Catalog
  storage: PackageStorage
  logger: Logger
  /** The rules a stored tarball is read by (the same as at publish). */
  limits: TarballLimits
}

export interface SyncHints {
  /** The manifest of a version just published (saves reading its tarball back). */
  published?: {
    version: string
    manifest: PluginManifest
    manifestHash: string
    integrity: string
    docs: PackageDocs
  }
  /** The account that published a new version; becomes the maintainer of a new package. */
  publisher?: string
}

/**
 * Brings the catalog in line with what verdaccio has stored for one package: indexes versions
 * it lacks, drops unpublished ones, records deprecations and dist-tags, and returns the events
 * that produced. Storage is the source of truth; the catalog is an index of it.
 */
export async function syncPackage(
  context: SyncContext,
  name: string,
  hints: SyncHints = {},
): Promise<StoredEvent[]> {
  const { catalog, storage } = context
  const packument = storage.read(name)
  const events: StoredEvent[] = []
  const indexed = catalog.versions.versionStates(name)
  if (!packument) {
    for (const version of indexed.keys())
      events.push(catalog.versions.removeVersion(name, version, {}))
    catalog.forgetPackage(name)
    return events
  }
  ensureMaintainer(context, packument, hints.publisher)
  for (const version of indexed.keys()) {
    if (!packument.versions[version]) {
      events.push(catalog.versions.removeVersion(name, version, packument.distTags))
    }
  }
  for (const [version, deprecated] of indexed) {
    const stored = packument.versions[version]
    if (stored && stored.deprecated !== deprecated) {
      events.push(catalog.versions.setDeprecated(name, version, stored.deprecated))
    }
  }
  // Versions indexed before the catalog kept docs: read them from their tarballs once.
  for (const version of catalog.versions.versionsWithoutDocs(name)) {
    const read = packument.versions[version] && (await readStored(context, packument, version))
    if (read?.plugin) catalog.versions.setDocs(name, version, read.plugin.docs)
  }
  const others = catalog.versions.notPluginVersions(name)
  for (const version of others) {
    if (!packument.versions[version]) catalog.versions.forgetNotPlugin(name, version)
  }
  const missing = Object.keys(packument.versions)
    .filter((version) => !indexed.has(version) && !others.has(version) && semver.valid(version))
    .sort(
      (a, b) => timeOf(packument, a).localeCompare(timeOf(packument, b)) || semver.compare(a, b),
    )
  for (const version of missing) {
    const event = await indexVersion(context, packument, version, hints)
    if (event) events.push(event)
  }
  catalog.versions.setDistTags(name, packument.distTags)
  return events
}

/** Reconciles every package in storage, and every catalog entry storage no longer has. */
export async function syncAll(context: SyncContext): Promise<StoredEvent[]> {
  const names = new Set([...context.storage.list(), ...context.catalog.owners.knownPackages()])
  const events: StoredEvent[] = []
  for (const name of names) {
    try {
      events.push(...(await syncPackage(context, name)))
    } catch (error) {
      context.logger.error(`cannot index ${name}: ${(error as Error).message}`)
    }
  }
  return events
}

async function indexVersion(
  context: SyncContext,
  packument: StoredPackument,
  version: string,
  hints: SyncHints,
): Promise<StoredEvent | undefined> {
  const { catalog } = context
  const stored = packument.versions[version]
  if (!stored) return undefined
  const read =
    hints.published?.version === version
      ? { plugin: hints.published, integrity: hints.published.integrity }
      : await readStored(context, packument, version)
  if (!read) return undefined
  const { plugin, integrity } = read
  if (!plugin) {
    catalog.versions.markNotPlugin(packument.name, version)
    return undefined
  }
  return catalog.versions.addVersion(
    {
      name: packument.name,
      version,
      manifest: plugin.manifest,
      manifestHash: plugin.manifestHash,
      published: timeOf(packument, version),
      integrity: integrity ?? '',
      tarballPath: PackageStorage.tarballPath(packument.name, stored.filename),
      deprecated: stored.deprecated,
      docs: plugin.docs,
    },
    packument.distTags,
  )
}

/**
 * Reads a stored version's tarball by the publish rules: its plugin manifest and docs (none when
 * it is not a plugin) and its integrity; undefined, with a warning, when it cannot be read.
 */
async function readStored(
  context: SyncContext,
  packument: StoredPackument,
  version: string,
): Promise<
  | {
      plugin: { manifest: PluginManifest; manifestHash: string; docs: PackageDocs } | undefined
      integrity: string | undefined
    }
  | undefined
> {
  const { storage, logger } = context
  const stored = packument.versions[version]
  if (!stored) return undefined
  const label = `${packument.name}@${version}`
  let tarball: Buffer
  try {
    tarball = storage.readTarball(packument.name, stored.filename)
  } catch (error) {
    logger.warn(`${label} has no tarball in storage (${(error as Error).message}); not indexed`)
    return undefined
  }
  const integrity =
    stored.integrity ?? `sha512-${createHash('sha512').update(tarball).digest('base64')}`
  try {
    return { plugin: await readManifestFromTarball(tarball, label, context.limits), integrity }
  } catch (error) {
    logger.warn(
      `${label} has an unreadable plugin manifest; not indexed: ${(error as Error).message}`,
    )
    return undefined
  }
}

function ensureMaintainer(
  context: SyncContext,
  packument: StoredPackument,
  publisher?: string,
): void {
  if (context.catalog.owners.maintainersOf(packument.name).length > 0) return
  const first = Object.values(packument.versions)
    .filter((version) => version.publisher)
    .sort((a, b) => timeOf(packument, a.version).localeCompare(timeOf(packument, b.version)))[0]
  const owner = first?.publisher ?? publisher
  if (owner)
    context.catalog.owners.addMaintainer(
      packument.name,
      owner,
      timeOf(packument, first?.version ?? ''),
    )
}

function timeOf(packument: StoredPackument, version: string): string {
  return packument.time[version] ?? packument.time.created ?? new Date(0).toISOString()
}
