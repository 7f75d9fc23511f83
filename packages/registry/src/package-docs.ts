import type { PackageFiles } from '@kite/sdk/tarball'

/**
 * What a plugin asks of the machine it runs on, as its manifest declares it (SPEC's sandbox
 * work adds the field to the SDK; read loosely here: absent or malformed parts mean none).
 */
export interface PluginPermissions {
  childProcess: boolean
  fsRead: string[]
  fsWrite: string[]
  env: string[]
}

/** What a plugin page shows beyond the manifest, read from the package at publish time. */
export interface PackageDocs {
  /** README.md as written (Markdown; rendered safely by the UI). */
  readme?: string
  /** CHANGELOG.md as written. */
  changelog?: string
  /** An SVG icon (package.json `kite.icon`, else `icon.svg`), as a `data:` URL for an `<img>`. */
  icon?: string
  homepage?: string
  repository?: string
  permissions: PluginPermissions
}

/** README and CHANGELOG are kept up to this many bytes (a longer one is cut, and says so). */
export const MAX_DOC_BYTES = 256 * 1024
/** An icon past this size is ignored. */
export const MAX_ICON_BYTES = 64 * 1024

export const NO_PERMISSIONS: Readonly<PluginPermissions> = Object.freeze({
  childProcess: false,
  fsRead: [],
  fsWrite: [],
  env: [],
})

/**
 * Picks the README, CHANGELOG, icon and links out of a package's files, and the permissions out
 * of its raw manifest. Never throws: what is missing or malformed is left out.
 */
export function readPackageDocs(
  files: PackageFiles,
  packageJson: Record<string, unknown>,
  manifest: unknown,
): PackageDocs {
  const docs: PackageDocs = { permissions: readPermissions(manifest) }
  const readme = findFile(files, /^readme(\.(md|markdown|txt))?$/i)
  if (readme) docs.readme = cut(readme)
  const changelog = findFile(files, /^(changelog|changes|history)(\.(md|markdown|txt))?$/i)
  if (changelog) docs.changelog = cut(changelog)
  const kite = isRecord(packageJson.kite) ? packageJson.kite : {}
  const iconPath = typeof kite.icon === 'string' ? kite.icon.replace(/^\.\//, '') : 'icon.svg'
  const icon = files.get(iconPath)
  if (icon && icon.length <= MAX_ICON_BYTES && isSvg(icon)) {
    docs.icon = `data:image/svg+xml;base64,${icon.toString('base64')}`
  }
  const homepage = httpUrl(packageJson.homepage)
  if (homepage) docs.homepage = homepage
  const repository = httpUrl(
    isRecord(packageJson.repository) ? packageJson.repository.url : packageJson.repository,
  )
  if (repository) docs.repository = repository
  return docs
}

/** The `permissions` of a manifest, each part defaulting to none. */
export function readPermissions(manifest: unknown): PluginPermissions {
  const raw = isRecord(manifest) && isRecord(manifest.permissions) ? manifest.permissions : {}
  const strings = (value: unknown) =>
    Array.isArray(value)
      ? [...new Set(value.filter((item): item is string => typeof item === 'string'))]
          .slice(0, 200)
          .map((item) => item.slice(0, 500))
      : []
  return {
    childProcess: raw.childProcess === true,
    fsRead: strings(raw.fsRead),
    fsWrite: strings(raw.fsWrite),
    env: strings(raw.env),
  }
}

/** What `to` asks for that `from` did not (empty lists and false when nothing more). */
export function addedPermissions(
  from: PluginPermissions,
  to: PluginPermissions,
): PluginPermissions {
  const added = (before: string[], after: string[]) =>
    after.filter((item) => !before.includes(item))
  return {
    childProcess: to.childProcess && !from.childProcess,
    fsRead: added(from.fsRead, to.fsRead),
    fsWrite: added(from.fsWrite, to.fsWrite),
    env: added(from.env, to.env),
  }
}

export function hasPermissions(permissions: PluginPermissions): boolean {
  return (
    permissions.childProcess ||
    permissions.fsRead.length > 0 ||
    permissions.fsWrite.length > 0 ||
    permissions.env.length > 0
  )
}

function findFile(files: PackageFiles, pattern: RegExp): Buffer | undefined {
  for (const [path, bytes] of files) if (pattern.test(path)) return bytes
  return undefined
}

function cut(bytes: Buffer): string {
  if (bytes.length <= MAX_DOC_BYTES) return bytes.toString('utf8')
  return `${bytes.subarray(0, MAX_DOC_BYTES).toString('utf8')}\n\n… (cut at ${MAX_DOC_BYTES / 1024} KiB)`
}

function isSvg(bytes: Buffer): boolean {
  return /^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*<svg[\s>]/i.test(
    bytes.subarray(0, 4096).toString('utf8'),
  )
}

function httpUrl(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const url = value.replace(/^git\+/, '').replace(/\.git$/, '')
  try {
    const parsed = new URL(url)
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : undefined
  } catch {
    return undefined
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
