import { randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join, resolve, sep } from 'node:path'
import { isKiteError } from '@kite/sdk'
import { parseManifest, SDK_VERSION } from '@kite/sdk/host'
import {
  hashManifest,
  readPackageContents,
  readPackageTarball,
  type TarballLimits,
} from '@kite/sdk/tarball'
import type pacoteModule from 'pacote'
import semver from 'semver'
import { messageOf, RuntimeError } from '../errors.js'
import type { RuntimeLogger } from '../executor/engine.js'
import type { InstalledPlugin, MutablePluginCatalog } from './plugin-catalog.js'
import { isPluginAllowed, type PluginSecurity } from './plugin-security.js'
import {
  type ConfigurationValues,
  checkPermissions,
  type PermissionGrants,
} from './sandbox-permissions.js'

export interface PluginStoreOptions {
  /** `<data>/plugins`. */
  dir: string
  /** npm registry URL the store installs from (any npm registry; a Kite registry adds events). */
  registry?: string
  catalog: MutablePluginCatalog
  security: PluginSecurity
  logger: RuntimeLogger
  /** What a tarball may hold (SPEC 5); the registry's defaults unless configured. */
  limits?: Partial<TarballLimits>
  /**
   * `plugins.permissions` and `plugins.configurations`: a version asking for more than is granted
   * is refused (none granted when absent).
   */
  permissions?: { grants: PermissionGrants; configurations: readonly ConfigurationValues[] }
  /**
   * Called when an install of an allowed package begins, before any registry round trip: the
   * runtime starts its spare sandbox process then, so the new version's first task finds it booted.
   */
  onInstallStart?: (name: string) => void
}

/**
 * pacote (npm's fetcher, ~250 ms to import on this machine) loaded at the first install or
 * packument read, not when the runtime starts: most starts install nothing.
 */
let pacoteLoading: Promise<typeof pacoteModule> | undefined
const loadPacote = () => {
  pacoteLoading ??= import('pacote').then((module) => module.default)
  return pacoteLoading
}

/** What an install recorded beside the extracted package (`.kite-install.json`). */
interface InstallRecord {
  name: string
  version: string
  integrity: string
  /** `sha256-…` of the manifest bytes, as the registry's catalog recorded it. */
  manifestHash: string
  resolved: string
  installedAt: string
}

/** How an install learns what the catalog recorded for a version. */
export interface InstallOptions {
  /** The manifest hash the caller already has from the catalog (events, reconcile). */
  manifestHash?: string
}

export interface InstallResult {
  plugin: InstalledPlugin
  /** False when the version was already installed (installing is idempotent). */
  installed: boolean
}

/** The registry's view of a package: versions (oldest first), dist-tags, integrities. */
export interface RegistryPackage {
  name: string
  versions: string[]
  distTags: Record<string, string>
}

/**
 * The plugin store (SPEC 6): `<dir>/<name>/<version>/`, one integrity-checked, extracted tarball
 * per version, with `node_modules/@kite/sdk` linked to the runtime's own SDK. An install extracts
 * to a temporary directory beside the target and renames it into place once checked, so a
 * half-finished install is never visible; the directories are the record of what is installed.
 */
export interface PluginStore {
  readonly dir: string
  readonly registry: string | undefined
  /** Adds every stored version to the catalog (at start); broken ones are reported, not skipped silently. */
  load(): Promise<{ loaded: InstalledPlugin[]; failed: { path: string; error: string }[] }>
  /**
   * Installs `name@spec` (a version, range or dist-tag; default `latest`) from the registry: the
   * tarball is integrity-checked, read by SPEC 5's rules, and its manifest must hash to what the
   * registry's catalog recorded, or nothing is installed.
   */
  install(name: string, spec?: string, options?: InstallOptions): Promise<InstallResult>
  /** Removes a version from the catalog and the disk. False when it was not installed. */
  uninstall(name: string, version: string): Promise<boolean>
  /** The registry's versions of a package. */
  packument(name: string): Promise<RegistryPackage>
  isAllowed(name: string): boolean
}

export function createPluginStore(options: PluginStoreOptions): PluginStore {
  const dir = resolve(options.dir)
  const cache = join(dir, '.cache')
  const { catalog, logger } = options
  const sdkDir = dirname(createRequire(import.meta.url).resolve('@kite/sdk/package.json'))
  const installing = new Map<string, Promise<InstallResult>>()
  const extracting = new Map<string, Promise<InstallResult>>()

  const pathOf = (name: string, version?: string): string => {
    const base = resolve(dir, name)
    if (!base.startsWith(dir + sep) || !/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(name)) {
      throw new RuntimeError(`"${name}" is not an npm package name`, { code: 'REQUEST_INVALID' })
    }
    return version === undefined ? base : join(base, version)
  }

  const pacoteOptions = () => {
    if (!options.registry) {
      throw new RuntimeError(
        'no registry is configured: start the runtime with --registry URL (or plugins.registry in kite.yaml)',
        { code: 'PLUGIN_VERSION', kind: 'operational' },
      )
    }
    return {
      registry: `${options.registry.replace(/\/$/, '')}/`,
      cache,
      preferOnline: true,
      // One install reads the packument once: the tarball's fetch reuses the manifest's (it
      // fetched it again, a second round trip to the registry on the hot-reload path).
      packumentCache: new Map<string, pacoteModule.Packument>(),
    }
  }

  const allowedOrThrow = (name: string) => {
    if (!isPluginAllowed(name, options.security)) {
      throw new RuntimeError(
        `plugin ${name} is not allowed by plugins.security (includes: ${options.security.includes.join(', ') || 'any'}; excludes: ${options.security.excludes.join(', ') || 'none'})`,
        { code: 'PLUGIN_INVALID' },
      )
    }
  }

  /** Reads and checks an extracted version: manifest, names, SDK range, entry. */
  const inspect = async (root: string, name: string, version: string, record: InstallRecord) => {
    const fail = (message: string, cause?: unknown) =>
      new RuntimeError(`plugin ${name}@${version}: ${message}`, {
        code: 'PLUGIN_INVALID',
        ...(cause === undefined ? {} : { cause }),
      })
    let pkg: { kite?: { manifest?: unknown }; name?: unknown; version?: unknown }
    try {
      pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'))
    } catch (error) {
      throw fail(`cannot read its package.json: ${messageOf(error)}`, error)
    }
    const manifestPath = pkg.kite?.manifest
    if (typeof manifestPath !== 'string') {
      throw fail('package.json has no "kite": { "manifest": ... }: it is not a Kite plugin')
    }
    let bytes: Buffer
    try {
      bytes = await readFile(inside(root, manifestPath))
    } catch (error) {
      throw fail(`cannot read its manifest ${manifestPath}: ${messageOf(error)}`, error)
    }
    // Re-read after extraction: what will run is checked against what the registry checked.
    if (!record.manifestHash) {
      throw fail(
        'its install record has no manifest hash (installed by an older runtime); install it again',
      )
    }
    const hash = hashManifest(bytes)
    if (hash !== record.manifestHash) {
      throw fail(
        `its manifest ${manifestPath} (${hash}) differs from the registry catalog's record (${record.manifestHash || 'none'}); refusing a version whose manifest is not the one the registry checked`,
      )
    }
    let manifest: InstalledPlugin['manifest']
    try {
      manifest = parseManifest(JSON.parse(bytes.toString('utf8')))
    } catch (error) {
      throw fail(`invalid manifest ${manifestPath}: ${messageOf(error)}`, error)
    }
    if (manifest.name !== name || manifest.version !== version) {
      throw fail(`its manifest is for ${manifest.name}@${manifest.version}`)
    }
    if (!semver.satisfies(SDK_VERSION, manifest.sdkRange, { includePrerelease: true })) {
      throw fail(
        `it needs @kite/sdk ${manifest.sdkRange}, but this runtime provides @kite/sdk ${SDK_VERSION}; install a version built for this SDK or upgrade the runtime`,
      )
    }
    checkPermissions({
      name,
      version,
      group: manifest.group,
      asked: manifest.permissions,
      grants: options.permissions?.grants ?? {},
      configurations: options.permissions?.configurations ?? [],
    })
    const entry = inside(root, manifest.entry)
    await stat(entry).catch((error: unknown) => {
      throw fail(`its bundle ${manifest.entry} is missing from the tarball`, error)
    })
    const plugin: InstalledPlugin = {
      name,
      version,
      integrity: record.integrity,
      manifest,
      code: { kind: 'module', entry },
      origin: root,
    }
    return plugin
  }

  /** The manifest hash the registry's catalog keeps for `name@version`. */
  const catalogHash = async (name: string, version: string): Promise<string> => {
    const base = (options.registry ?? '').replace(/\/$/, '')
    const url = `${base}/-/kite/api/v1/plugins/${name.replace('/', '%2f')}`
    let versions: { version?: unknown; manifestHash?: unknown }[] = []
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(30_000) })
      if (response.ok) {
        const body = (await response.json()) as { versions?: unknown }
        if (Array.isArray(body.versions)) versions = body.versions
      } else if (response.status !== 404) {
        throw new Error(`${url} answered ${response.status}`)
      }
    } catch (error) {
      throw new RuntimeError(
        `plugin ${name}@${version}: cannot read the registry catalog's record of it: ${messageOf(error)}`,
        { code: 'PLUGIN_VERSION', kind: 'operational', cause: error },
      )
    }
    const hash = versions.find((entry) => entry.version === version)?.manifestHash
    if (typeof hash !== 'string' || !hash.startsWith('sha256-')) {
      throw new RuntimeError(
        `plugin ${name}@${version}: the registry's catalog has no record of its manifest (is ${options.registry} a Kite registry?); nothing was installed`,
        { code: 'PLUGIN_INVALID', kind: 'operational' },
      )
    }
    return hash
  }

  const doInstall = async (
    name: string,
    spec: string,
    installOptions: InstallOptions,
  ): Promise<InstallResult> => {
    allowedOrThrow(name)
    const opts = pacoteOptions()
    options.onInstallStart?.(name)
    const pacote = await loadPacote()
    let manifest: Awaited<ReturnType<typeof pacote.manifest>>
    try {
      manifest = await pacote.manifest(`${name}@${spec}`, opts)
    } catch (error) {
      const code = (error as { code?: string }).code
      throw new RuntimeError(
        code === 'ETARGET' || code === 'E404'
          ? `plugin ${name}@${spec} does not exist in the registry ${options.registry}${code === 'ETARGET' ? ` (${messageOf(error).split('\n')[0]})` : ''}`
          : `cannot read ${name}@${spec} from the registry ${options.registry}: ${messageOf(error)}`,
        {
          code: code === 'ETARGET' || code === 'E404' ? 'NOT_FOUND' : 'PLUGIN_VERSION',
          kind: 'operational',
          cause: error,
        },
      )
    }
    const version = manifest.version
    const existing = catalog.get(name, version)
    if (existing) return { plugin: existing, installed: false }
    // Two specs may resolve to one version: the second waits for the first's install.
    const key = `${name}@${version}`
    const running = extracting.get(key)
    if (running) {
      const result = await running
      return { plugin: result.plugin, installed: false }
    }
    const extraction = extract(
      name,
      version,
      manifest._integrity,
      manifest._resolved,
      opts,
      installOptions.manifestHash,
    )
    extracting.set(key, extraction)
    try {
      return await extraction
    } finally {
      extracting.delete(key)
    }
  }

  const extract = async (
    name: string,
    version: string,
    integrity: string,
    resolved: string,
    opts: ReturnType<typeof pacoteOptions>,
    knownHash: string | undefined,
  ): Promise<InstallResult> => {
    const target = pathOf(name, version)
    const manifestHash = knownHash ?? (await catalogHash(name, version))
    const temp = join(dirname(target), `.tmp-${version}-${randomBytes(4).toString('hex')}`)
    await mkdir(dirname(target), { recursive: true })
    try {
      let tarball: Buffer
      const pacote = await loadPacote()
      try {
        tarball = await pacote.tarball(`${name}@${version}`, { ...opts, integrity })
      } catch (error) {
        // A corrupted gzip can fail before the digest is compared: ask the digest itself.
        const mismatch =
          (error as { code?: string }).code === 'EINTEGRITY' ||
          (await pacote.tarball(`${name}@${version}`, { ...opts, integrity }).then(
            () => false,
            (check: { code?: string }) => check.code === 'EINTEGRITY',
          ))
        throw new RuntimeError(
          mismatch
            ? `plugin ${name}@${version}: the tarball does not match the registry's integrity ${integrity} (tampered or corrupted); nothing was installed`
            : `plugin ${name}@${version}: cannot download its tarball: ${messageOf(error)}`,
          {
            code: mismatch ? 'PLUGIN_INVALID' : 'PLUGIN_VERSION',
            kind: 'operational',
            cause: error,
          },
        )
      }
      await unpackPlugin(tarball, temp, { name, version, limits: options.limits })
      const record: InstallRecord = {
        name,
        version,
        integrity,
        manifestHash,
        resolved,
        installedAt: new Date().toISOString(),
      }
      const plugin = await inspect(temp, name, version, record)
      await mkdir(join(temp, 'node_modules', '@kite'), { recursive: true })
      await rm(join(temp, 'node_modules', '@kite', 'sdk'), { recursive: true, force: true })
      await symlink(sdkDir, join(temp, 'node_modules', '@kite', 'sdk'), 'dir')
      await writeFile(join(temp, '.kite-install.json'), `${JSON.stringify(record, null, 2)}\n`)
      if (catalog.get(name, version)) {
        return { plugin: catalog.get(name, version) as InstalledPlugin, installed: false }
      }
      // One process per data directory: a directory the catalog does not know is a leftover
      // (a version that failed to load), replaced by this checked copy.
      await removeAside(target)
      await rename(temp, target)
      const installed: InstalledPlugin = {
        ...plugin,
        code: { kind: 'module', entry: join(target, plugin.manifest.entry) },
        origin: target,
      }
      try {
        catalog.add(installed)
      } catch (error) {
        await removeAside(target)
        throw error
      }
      logger.info(`plugin ${name}@${version} installed`)
      return { plugin: installed, installed: true }
    } finally {
      await rm(temp, { recursive: true, force: true }).catch(() => {})
    }
  }

  return {
    dir,
    registry: options.registry,
    isAllowed: (name) => isPluginAllowed(name, options.security),
    async load() {
      const loaded: InstalledPlugin[] = []
      const failed: { path: string; error: string }[] = []
      const names: string[] = []
      for (const entry of await readdir(dir).catch(() => [] as string[])) {
        if (entry.startsWith('.')) continue
        if (entry.startsWith('@')) {
          for (const sub of await readdir(join(dir, entry)).catch(() => [] as string[])) {
            names.push(`${entry}/${sub}`)
          }
        } else names.push(entry)
      }
      for (const name of names) {
        if (!isPluginAllowed(name, options.security)) continue
        for (const version of await readdir(join(dir, name)).catch(() => [] as string[])) {
          if (version.startsWith('.') || !semver.valid(version)) continue
          const root = join(dir, name, version)
          try {
            const record = JSON.parse(
              await readFile(join(root, '.kite-install.json'), 'utf8'),
            ) as InstallRecord
            if (catalog.get(name, version)) continue
            const plugin = await inspect(root, name, version, record)
            catalog.add(plugin)
            loaded.push(plugin)
          } catch (error) {
            failed.push({ path: root, error: messageOf(error) })
            logger.error(`plugin store: cannot load ${root}: ${messageOf(error)}`)
          }
        }
      }
      return { loaded, failed }
    },
    install(name, spec = 'latest', installOptions = {}) {
      const key = `${name}@${spec}`
      const running = installing.get(key)
      // A caller that joins an install under way did not install anything itself.
      if (running) return running.then(({ plugin }) => ({ plugin, installed: false }))
      const started = doInstall(name, spec, installOptions).finally(() => installing.delete(key))
      installing.set(key, started)
      return started
    },
    async uninstall(name, version) {
      const removed = catalog.remove(name, version)
      const existed = await removeAside(pathOf(name, version))
      if (existed) logger.info(`plugin ${name}@${version} uninstalled`)
      return removed || existed
    },
    async packument(name) {
      try {
        const opts = pacoteOptions()
        const doc = await (await loadPacote()).packument(name, opts)
        return {
          name,
          versions: Object.keys(doc.versions).sort(semver.compare),
          distTags: { ...doc['dist-tags'] } as Record<string, string>,
        }
      } catch (error) {
        const code = (error as { code?: string }).code
        throw new RuntimeError(
          code === 'E404'
            ? `plugin ${name} does not exist in the registry ${options.registry}`
            : `cannot read ${name} from the registry ${options.registry}: ${messageOf(error)}`,
          {
            code: code === 'E404' ? 'NOT_FOUND' : 'PLUGIN_VERSION',
            kind: 'operational',
            cause: error,
          },
        )
      }
    },
  }
}

export interface UnpackPluginOptions {
  name: string
  version: string
  limits?: Partial<TarballLimits> | undefined
}

/**
 * Writes a plugin tarball's files under `dir`, after reading it with `@kite/sdk/tarball` — the
 * rules and limits the registry applied at publish — so a tarball the registry would refuse is
 * refused here too (defence in depth), before a byte reaches the disk. Returns the manifest's
 * hash (the bytes written are the bytes hashed).
 */
export async function unpackPlugin(
  tarball: Uint8Array,
  dir: string,
  options: UnpackPluginOptions,
): Promise<{ manifestHash: string }> {
  const { name, version } = options
  const label = `${name}@${version}`
  let contents: ReturnType<typeof readPackageContents>
  let files: Awaited<ReturnType<typeof readPackageTarball>>
  try {
    files = await readPackageTarball(tarball, { label, limits: options.limits })
    contents = readPackageContents(files, { label, limits: options.limits })
  } catch (error) {
    throw new RuntimeError(
      `plugin ${label}: ${isKiteError(error) ? error.message : messageOf(error)}; nothing was installed`,
      { code: 'PLUGIN_INVALID', cause: error },
    )
  }
  const { packageJson, plugin } = contents
  if (packageJson.name !== name || packageJson.version !== version) {
    throw new RuntimeError(
      `plugin ${label}: the tarball's package.json is ${String(packageJson.name)}@${String(packageJson.version)}; nothing was installed`,
      { code: 'PLUGIN_INVALID' },
    )
  }
  if (!plugin) {
    throw new RuntimeError(
      `plugin ${label}: package.json has no "kite": { "manifest": ... }: it is not a Kite plugin`,
      { code: 'PLUGIN_INVALID' },
    )
  }
  const root = resolve(dir)
  for (const [path, content] of files) {
    const target = inside(root, path)
    await mkdir(dirname(target), { recursive: true })
    await writeFile(target, content, { flag: 'wx', mode: 0o644 })
  }
  return { manifestHash: plugin.hash }
}

/** Renames a directory aside (so it vanishes at once), then deletes it. False if it was absent. */
async function removeAside(path: string): Promise<boolean> {
  const trash = `${dirname(path)}/.tmp-rm-${randomBytes(4).toString('hex')}`
  try {
    await rename(path, trash)
  } catch {
    return false
  }
  await rm(trash, { recursive: true, force: true })
  return true
}

function inside(root: string, relative: string): string {
  const path = resolve(root, relative)
  if (!path.startsWith(root + sep)) {
    throw new RuntimeError(`"${relative}" points outside the package`, { code: 'PLUGIN_INVALID' })
  }
  return path
}
