import { createHash } from 'node:crypto'
import { isKiteError } from '../errors.js'
import { type PluginManifest, parseManifest } from '../manifest.js'
import { formatBytes, type PackageFiles, tarballError } from './read-tarball.js'
import { checkEntryPath, resolveTarballLimits, type TarballLimits } from './rules.js'

/** A plugin manifest as read from a package: its exact bytes, their hash, and the parsed form. */
export interface ManifestFile {
  /** Path inside the package, e.g. `dist/kite-plugin.json`. */
  path: string
  bytes: Buffer
  /** `sha256-<base64>` of `bytes`: what the registry's catalog records and a runtime compares. */
  hash: string
  manifest: PluginManifest
}

/** What a package turned out to be once its package.json and manifest were read. */
export interface PackageContents {
  packageJson: Record<string, unknown>
  /** Present when package.json has `kite.manifest` (the package is a plugin). */
  plugin?: ManifestFile
}

export interface ReadPackageOptions {
  /** How messages name the package, e.g. `@acme/x@1.0.0`. */
  label: string
  limits?: Partial<TarballLimits>
}

/** The hash the catalog keeps for a manifest: `sha256-` + base64 of its bytes. */
export function hashManifest(bytes: Uint8Array): string {
  return `sha256-${createHash('sha256').update(bytes).digest('base64')}`
}

/**
 * Reads package.json and, for a plugin, the manifest it points at — the bytes the registry checks
 * are the bytes a runtime installs — and checks the manifest: within `maxManifestBytes`,
 * `maxTypes` and `maxStringLength`, valid `PluginManifest`, naming the package's own name and
 * version, its entry shipped in the package. Throws a `KiteError` whose code says which rule.
 */
export function readPackageContents(
  files: PackageFiles,
  options: ReadPackageOptions,
): PackageContents {
  const { label } = options
  const limits = resolveTarballLimits(options.limits)
  const rawPackage = files.get('package.json')
  if (!rawPackage)
    throw tarballError('TARBALL_CORRUPT', `the tarball of ${label} has no package.json`)
  if (rawPackage.length > limits.maxManifestBytes) {
    throw tarballError(
      'MANIFEST_TOO_LARGE',
      `the package.json of ${label} is ${formatBytes(rawPackage.length)}, past the ${formatBytes(limits.maxManifestBytes)} limit (maxManifestBytes)`,
    )
  }
  const packageJson = parseJson(rawPackage, (error) =>
    tarballError(
      'TARBALL_CORRUPT',
      `package.json in the tarball of ${label} is not valid JSON`,
      error,
    ),
  )
  if (!isRecord(packageJson)) {
    throw tarballError(
      'TARBALL_CORRUPT',
      `package.json in the tarball of ${label} is not a JSON object`,
    )
  }
  const manifestPath = isRecord(packageJson.kite) ? packageJson.kite.manifest : undefined
  if (manifestPath === undefined) return { packageJson }
  const invalid = (
    code:
      | 'MANIFEST_MISSING'
      | 'MANIFEST_JSON_INVALID'
      | 'MANIFEST_INVALID'
      | 'MANIFEST_MISMATCH'
      | 'MANIFEST_TOO_LARGE',
    why: string,
    cause?: unknown,
  ) => tarballError(code, `${label} is not a valid Kite plugin: ${why}`, cause)
  if (typeof manifestPath !== 'string' || manifestPath === '') {
    throw invalid('MANIFEST_MISSING', '"kite.manifest" in package.json must be a path')
  }
  const path = packagePath(manifestPath)
  if (path === undefined) {
    throw invalid(
      'MANIFEST_MISSING',
      `"kite.manifest" in package.json ("${manifestPath}") must be a normal relative path inside the package`,
    )
  }
  const bytes = files.get(path)
  if (!bytes) {
    throw invalid(
      'MANIFEST_MISSING',
      `package.json points at "${manifestPath}", which is not in the tarball (run \`kite-plugin build\` before publishing and keep dist/ in "files")`,
    )
  }
  if (bytes.length > limits.maxManifestBytes) {
    throw invalid(
      'MANIFEST_TOO_LARGE',
      `${path} is ${formatBytes(bytes.length)}, past the ${formatBytes(limits.maxManifestBytes)} limit on a manifest (maxManifestBytes)`,
    )
  }
  const json = parseJson(bytes, (error) =>
    invalid(
      'MANIFEST_JSON_INVALID',
      `${path} is not valid JSON (${(error as Error).message})`,
      error,
    ),
  )
  if (isRecord(json)) {
    // Counted before the schema runs: 10,000 types should cost a refusal, not a validation.
    const count = ['tasks', 'triggers', 'conditions'].reduce((sum, key) => {
      const list = (json as Record<string, unknown>)[key]
      return sum + (Array.isArray(list) ? list.length : 0)
    }, 0)
    if (count > limits.maxTypes) {
      throw invalid(
        'MANIFEST_TOO_LARGE',
        `${path} declares ${count} types, past the limit of ${limits.maxTypes} per plugin (maxTypes)`,
      )
    }
  }
  const long = findLongString(json, limits.maxStringLength)
  if (long) {
    throw invalid(
      'MANIFEST_TOO_LARGE',
      `${path}: ${long.where} is ${long.length} characters long, past the limit of ${limits.maxStringLength} (maxStringLength)`,
    )
  }
  let manifest: PluginManifest
  try {
    manifest = parseManifest(json)
  } catch (error) {
    throw invalid(
      'MANIFEST_INVALID',
      `${path}: ${isKiteError(error) ? error.message : String(error)}`,
      error,
    )
  }
  if (manifest.name !== packageJson.name || manifest.version !== packageJson.version) {
    throw invalid(
      'MANIFEST_MISMATCH',
      `${path} describes ${manifest.name}@${manifest.version}, but package.json is ${String(packageJson.name)}@${String(packageJson.version)}; rebuild the plugin so the manifest matches package.json`,
    )
  }
  const entry = packagePath(manifest.entry)
  if (entry === undefined || !files.has(entry)) {
    throw invalid(
      'MANIFEST_INVALID',
      `the manifest's entry "${manifest.entry}" is not in the tarball`,
    )
  }
  return { packageJson, plugin: { path, bytes, hash: hashManifest(bytes), manifest } }
}

/** A path package.json refers to (`./dist/x.json` or `dist/x.json`), if it is normal. */
function packagePath(reference: string): string | undefined {
  const checked = checkEntryPath(`package/${reference.replace(/^\.\//, '')}`, 'file')
  return checked.ok && checked.path !== '' ? checked.path : undefined
}

/** The first string or key longer than `max`, with where it is (`tasks[3].description`). */
function findLongString(
  value: unknown,
  max: number,
  where = 'the manifest',
): { where: string; length: number } | undefined {
  if (typeof value === 'string')
    return value.length > max ? { where, length: value.length } : undefined
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findLongString(item, max, `${where === 'the manifest' ? '' : where}[${index}]`)
      if (found) return found
    }
    return undefined
  }
  if (isRecord(value)) {
    for (const [key, item] of Object.entries(value)) {
      const path = where === 'the manifest' ? key : `${where}.${key}`
      if (key.length > max) return { where: `a key in ${where}`, length: key.length }
      const found = findLongString(item, max, path)
      if (found) return found
    }
  }
  return undefined
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The JSON in `bytes` (UTF-8), or the error `invalid` makes of the parse failure. */
function parseJson(bytes: Buffer, invalid: (error: unknown) => Error): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'))
  } catch (error) {
    throw invalid(error)
  }
}
