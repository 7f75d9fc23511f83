import { readFileSync, rmSync, unwatchFile, watchFile } from 'node:fs'
import { access, cp, mkdir, readFile, rm } from 'node:fs/promises'
import { join, resolve, sep } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { PluginDefinition } from '@kite/sdk'
import {
  createManifest,
  isDefinition,
  listManifestTypes,
  parseManifest,
  SDK_VERSION,
} from '@kite/sdk/host'
import semver from 'semver'
import { RuntimeError } from '../errors.js'
import type { InstalledPlugin, MutablePluginCatalog } from './plugin-catalog.js'

export interface PluginVersionOptions {
  /** npm package name, e.g. `@acme/kite-plugin-test`. */
  name: string
  version: string
  plugin: PluginDefinition
  integrity?: string
}

/**
 * An installed version made from an in-process definition (tests, embedders). Its manifest is
 * generated with the SDK exactly as `kite-plugin build` would.
 *
 * @example
 * definePluginVersion({ name: '@acme/kite-plugin-test', version: '1.0.0', plugin })
 */
export function definePluginVersion(options: PluginVersionOptions): InstalledPlugin {
  if (!isDefinition(options.plugin, 'plugin')) {
    throw new RuntimeError(
      `plugin ${options.name}@${options.version}: not a plugin made with definePlugin()`,
      { code: 'PLUGIN_INVALID' },
    )
  }
  if (!semver.valid(options.version)) {
    throw new RuntimeError(
      `plugin ${options.name}: "${options.version}" is not a semver version such as 1.2.0`,
      { code: 'PLUGIN_INVALID' },
    )
  }
  let manifest: InstalledPlugin['manifest']
  try {
    manifest = createManifest(
      options.plugin,
      { name: options.name, version: options.version },
      { entry: 'dist/index.js', sdkRange: `^${SDK_VERSION}` },
    )
  } catch (error) {
    throw new RuntimeError(
      `plugin ${options.name}@${options.version}: ${(error as Error).message}`,
      { code: 'PLUGIN_INVALID', cause: error },
    )
  }
  return {
    name: options.name,
    version: options.version,
    ...(options.integrity ? { integrity: options.integrity } : {}),
    manifest,
    code: { kind: 'definition', plugin: options.plugin },
    origin: 'in-process',
  }
}

export interface LoadPluginDirectoryOptions {
  /**
   * Import the bundle once and check it matches the manifest (default true), so a broken plugin
   * fails when it is loaded, not at its first task.
   */
  verify?: boolean
}

/**
 * Loads a built plugin directory (`package.json` with `kite.manifest`, `dist/kite-plugin.json`,
 * the bundle): what `kite flow run --plugin DIR` and `kite server local --plugin DIR` use.
 */
export async function loadPluginDirectory(
  dir: string,
  options: LoadPluginDirectoryOptions = {},
): Promise<InstalledPlugin> {
  const root = resolve(dir)
  const fail = (message: string, cause?: unknown) =>
    new RuntimeError(`plugin directory ${root}: ${message}`, {
      code: 'PLUGIN_INVALID',
      ...(cause === undefined ? {} : { cause }),
    })
  const pkg = await readJson(join(root, 'package.json')).catch((error: unknown) => {
    throw fail(`cannot read package.json: ${(error as Error).message}`, error)
  })
  const manifestPath = (pkg.kite as { manifest?: unknown } | undefined)?.manifest
  if (typeof manifestPath !== 'string') {
    throw fail(
      'package.json has no "kite": { "manifest": "dist/kite-plugin.json" }: is it a Kite plugin?',
    )
  }
  const manifestFile = inside(root, manifestPath)
  if (!manifestFile) throw fail(`kite.manifest "${manifestPath}" points outside the package`)
  const raw = await readJson(manifestFile).catch((error: unknown) => {
    throw fail(
      `cannot read ${manifestPath} (${(error as Error).message}); build the plugin first (npm run build)`,
      error,
    )
  })
  let manifest: InstalledPlugin['manifest']
  try {
    manifest = parseManifest(raw)
  } catch (error) {
    throw fail((error as Error).message, error)
  }
  if (manifest.name !== pkg.name || manifest.version !== pkg.version) {
    throw fail(
      `the manifest is for ${manifest.name}@${manifest.version} but package.json is ${String(pkg.name)}@${String(pkg.version)}; rebuild the plugin`,
    )
  }
  if (!semver.satisfies(SDK_VERSION, manifest.sdkRange, { includePrerelease: true })) {
    throw fail(
      `built for @kite/sdk ${manifest.sdkRange}, but this runtime provides @kite/sdk ${SDK_VERSION}`,
    )
  }
  const entry = inside(root, manifest.entry)
  if (!entry) throw fail(`the manifest's entry "${manifest.entry}" points outside the package`)
  try {
    await access(entry)
  } catch (error) {
    throw fail(
      `the bundle ${manifest.entry} is missing; build the plugin first (npm run build)`,
      error,
    )
  }
  const plugin: InstalledPlugin = {
    name: manifest.name,
    version: manifest.version,
    manifest,
    code: { kind: 'module', entry },
    origin: root,
  }
  if (options.verify !== false) {
    const definition = await importPluginModule(plugin).catch((error: unknown) => {
      throw fail((error as Error).message, error)
    })
    const declared = listManifestTypes(manifest).map(({ entry: type }) => type.type)
    const missing = declared.filter((type) => !definition.find(type))
    if (definition.group !== manifest.group || missing.length > 0) {
      throw fail(
        `the bundle does not match its manifest (${missing.length > 0 ? `missing ${missing.join(', ')}` : `group ${definition.group}`}); rebuild the plugin`,
      )
    }
  }
  return plugin
}

export interface WatchPluginDirectoryOptions {
  /** The catalog the directory's plugin is in (and its rebuilds go to). */
  catalog: MutablePluginCatalog
  logger: { info(message: string): void; error(message: string): void }
  /** Quiet time after the last change before re-importing (default 300 ms): a build writes several files. */
  debounceMs?: number
  /** How often the manifest's modification time is checked (default 250 ms). */
  intervalMs?: number
}

export interface PluginDirectoryWatch {
  /** The version new executions get now. */
  readonly current: InstalledPlugin
  /** Resolves after the next re-import attempt (loaded or refused), for tests and tools. */
  next(): Promise<{ loaded: InstalledPlugin } | { error: Error }>
  close(): Promise<void>
}

/** Where rebuilds are copied (under the package, so its own node_modules still resolve). */
const SNAPSHOTS = join('node_modules', '.kite-watch')

/**
 * Re-imports a plugin directory when its manifest (`dist/kite-plugin.json`) changes: `kite server
 * local --plugin DIR --watch`. Each rebuild is copied aside (`node_modules/.kite-watch/<n>/`) and
 * loaded from there, so the bundle is imported afresh and the copy code already running uses is
 * never overwritten. A rebuild with a new version is added next to the old one (executions
 * locked to the old version keep it); one with the same version replaces it for what starts
 * next (tasks already running finish on the code they started with). A build that does not load
 * is logged and the previous version stays.
 */
export function watchPluginDirectory(
  dir: string,
  initial: InstalledPlugin,
  options: WatchPluginDirectoryOptions,
): PluginDirectoryWatch {
  const root = resolve(dir)
  const { catalog, logger } = options
  const manifestOf = (pkg: Record<string, unknown>) => {
    const path = (pkg.kite as { manifest?: unknown } | undefined)?.manifest
    const file = typeof path === 'string' ? inside(root, path) : undefined
    if (!file || !path) {
      throw new RuntimeError(`plugin directory ${root}: package.json has no usable kite.manifest`, {
        code: 'PLUGIN_INVALID',
      })
    }
    return { file, distDir: String(path).replace(/^\.\//, '').split('/')[0] as string }
  }
  const manifestFile = manifestOf(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))).file
  const snapshots = join(root, SNAPSHOTS)
  // Copies left by an earlier server are not in use any more.
  rmSync(snapshots, { recursive: true, force: true })
  let current = initial
  let build = 0
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> = Promise.resolve()
  let waiters: Array<(result: { loaded: InstalledPlugin } | { error: Error }) => void> = []
  let closed = false

  const settle = (result: { loaded: InstalledPlugin } | { error: Error }) => {
    for (const resolveWaiter of waiters.splice(0)) resolveWaiter(result)
  }

  const reload = async () => {
    build++
    const target = join(snapshots, String(build))
    try {
      const { distDir } = manifestOf(await readJson(join(root, 'package.json')))
      await rm(target, { recursive: true, force: true })
      await mkdir(target, { recursive: true })
      await cp(join(root, 'package.json'), join(target, 'package.json'))
      await cp(join(root, distDir), join(target, distDir), { recursive: true })
      const loaded = { ...(await loadPluginDirectory(target)), origin: root }
      if (loaded.name !== current.name) {
        throw new RuntimeError(
          `plugin directory ${root}: it now holds ${loaded.name}, not ${current.name}; restart the server to change packages`,
          { code: 'PLUGIN_INVALID' },
        )
      }
      const replaced = catalog.get(loaded.name, loaded.version)
      if (replaced) catalog.remove(loaded.name, loaded.version)
      try {
        catalog.add(loaded)
      } catch (error) {
        if (replaced) catalog.add(replaced)
        throw error
      }
      const previous = current
      current = loaded
      logger.info(
        `plugin ${loaded.name}@${loaded.version} re-imported from ${root} (build ${build}): new executions use it${replaced ? '' : `, running ones keep ${previous.version}`}`,
      )
      settle({ loaded })
    } catch (error) {
      await rm(target, { recursive: true, force: true }).catch(() => {})
      logger.error(
        `${(error as Error).message} — still serving ${current.name}@${current.version}; fix the build and it is re-imported`,
      )
      settle({ error: error as Error })
    }
  }

  const changed = (now: { mtimeMs: number }, before: { mtimeMs: number }) => {
    if (closed || now.mtimeMs === before.mtimeMs || now.mtimeMs === 0) return
    clearTimeout(timer)
    timer = setTimeout(() => {
      running = running.then(reload)
    }, options.debounceMs ?? 300)
  }
  watchFile(manifestFile, { interval: options.intervalMs ?? 250, persistent: false }, changed)

  return {
    get current() {
      return current
    },
    next: () => new Promise((resolveWaiter) => waiters.push(resolveWaiter)),
    async close() {
      closed = true
      clearTimeout(timer)
      unwatchFile(manifestFile, changed)
      await running
      waiters = []
    },
  }
}

/** Imports a module plugin's bundle and returns its default export, checked to be a plugin. */
export async function importPluginModule(plugin: InstalledPlugin): Promise<PluginDefinition> {
  if (plugin.code.kind !== 'module') {
    throw new RuntimeError(`plugin ${plugin.name}@${plugin.version} is not a module`, {
      code: 'INTERNAL',
      kind: 'internal',
    })
  }
  let module: { default?: unknown }
  try {
    module = (await import(pathToFileURL(plugin.code.entry).href)) as { default?: unknown }
  } catch (error) {
    throw new RuntimeError(
      `plugin ${plugin.name}@${plugin.version}: cannot import ${plugin.code.entry}: ${(error as Error).message}`,
      { code: 'PLUGIN_INVALID', cause: error },
    )
  }
  if (!isDefinition(module.default, 'plugin')) {
    throw new RuntimeError(
      `plugin ${plugin.name}@${plugin.version}: the bundle's default export is not a definePlugin(...)`,
      { code: 'PLUGIN_INVALID' },
    )
  }
  return module.default
}

function inside(root: string, relative: string): string | undefined {
  const path = resolve(root, relative)
  return path.startsWith(root + sep) ? path : undefined
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  const value: unknown = JSON.parse(await readFile(path, 'utf8'))
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('not a JSON object')
  }
  return value as Record<string, unknown>
}
