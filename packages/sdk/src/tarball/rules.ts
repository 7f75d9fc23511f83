/**
 * What an npm package tarball may hold (SPEC 5, "What a tarball may hold"): every entry a regular
 * file or directory under `package/`, its path already normal. The registry refuses a publish that
 * breaks these rules and the runtime refuses to install one, so no two readers of one tarball can
 * ever disagree about which bytes a path names.
 */

/** Limits on one package tarball and its plugin manifest. */
export interface TarballLimits {
  /** Largest size of the unpacked tar stream, in bytes (default 64 MiB). */
  maxUnpackedBytes: number
  /** Largest plugin manifest (and package.json), in bytes (default 1 MiB). */
  maxManifestBytes: number
  /** Most tasks + triggers + conditions one plugin version may declare (default 500). */
  maxTypes: number
  /** Longest string (or object key) anywhere in the manifest, in characters (default 65 536). */
  maxStringLength: number
}

export const DEFAULT_TARBALL_LIMITS: Readonly<TarballLimits> = Object.freeze({
  maxUnpackedBytes: 64 * 1024 * 1024,
  maxManifestBytes: 1024 * 1024,
  maxTypes: 500,
  maxStringLength: 64 * 1024,
})

/**
 * Fills in the defaults of partial limits; throws a TypeError naming a limit that is not a
 * positive whole number (a configuration mistake, caught at start).
 */
export function resolveTarballLimits(limits: Partial<TarballLimits> = {}): TarballLimits {
  const resolved = { ...DEFAULT_TARBALL_LIMITS }
  for (const key of Object.keys(DEFAULT_TARBALL_LIMITS) as (keyof TarballLimits)[]) {
    const value = limits[key]
    if (value === undefined) continue
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new TypeError(`tarball limit ${key} must be a positive whole number (got ${value})`)
    }
    resolved[key] = value
  }
  return resolved
}

/** Entry types a package may hold; every other (links, devices, fifos) is refused. */
export type AllowedEntryType = 'file' | 'directory'

/** The verdict on one entry path: the path inside the package, or why it is refused. */
export type EntryPathCheck = { ok: true; path: string } | { ok: false; reason: string }

/**
 * Checks one raw tar entry name against the path rules and returns the path inside the package
 * (without `package/`; `''` for the `package/` directory itself). A directory's name may end in
 * one `/`; nothing else about the name is rewritten, because a name that needs normalising is
 * exactly the alias the rules exist to refuse.
 *
 * @example
 * checkEntryPath('package/dist/index.js', 'file') // { ok: true, path: 'dist/index.js' }
 * checkEntryPath('package/./dist/index.js', 'file') // { ok: false, reason: 'has a "." segment' }
 */
export function checkEntryPath(name: string, type: AllowedEntryType): EntryPathCheck {
  if (name === '') return { ok: false, reason: 'has an empty path' }
  if (name.includes('\0')) return { ok: false, reason: 'has a NUL character in its path' }
  if (name.includes('\\')) return { ok: false, reason: 'has a backslash in its path' }
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) {
    return { ok: false, reason: 'has an absolute path' }
  }
  let body = name
  if (type === 'directory' && body.endsWith('/')) body = body.slice(0, -1)
  const segments = body.split('/')
  for (const segment of segments) {
    if (segment === '')
      return { ok: false, reason: 'has an empty segment ("//" or a trailing "/")' }
    if (segment === '.') return { ok: false, reason: 'has a "." segment' }
    if (segment === '..') return { ok: false, reason: 'has a ".." segment' }
  }
  if (segments[0] !== 'package') return { ok: false, reason: 'is not under package/' }
  if (segments.length === 1 && type === 'file') {
    return { ok: false, reason: 'names the package folder itself as a file' }
  }
  return { ok: true, path: segments.slice(1).join('/') }
}

/**
 * The key two paths collide under on some file system: Unicode-normalised and case-folded, so
 * `dist/A.js` and `dist/a.js` (one file on macOS and Windows) count as the same path.
 */
export function collisionKey(path: string): string {
  return path.normalize('NFC').toLowerCase()
}
