import { access, readFile } from 'node:fs/promises'
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
import type { InstalledPlugin } from './plugin-catalog.js'

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
