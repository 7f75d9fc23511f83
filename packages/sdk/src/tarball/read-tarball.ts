import { promisify } from 'node:util'
import { gunzip } from 'node:zlib'
import { unpackTar } from 'modern-tar'
import { KiteError } from '../errors.js'
import { checkEntryPath, collisionKey, resolveTarballLimits, type TarballLimits } from './rules.js'

const gunzipAsync = promisify(gunzip)

/** Codes a tarball or its manifest is refused with (the registry and runtime keep them). */
export type TarballErrorCode =
  | 'TARBALL_CORRUPT'
  | 'TARBALL_TOO_LARGE'
  | 'TARBALL_ENTRY_INVALID'
  | 'MANIFEST_MISSING'
  | 'MANIFEST_JSON_INVALID'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_MISMATCH'
  | 'MANIFEST_TOO_LARGE'

/** The regular files of a package, keyed by their path inside it (`package/` stripped). */
export type PackageFiles = ReadonlyMap<string, Buffer>

export interface ReadTarballOptions {
  /** How messages name the package, e.g. `@acme/x@1.0.0`. */
  label: string
  limits?: Partial<TarballLimits>
}

/**
 * Reads an npm package tarball (gzip + tar) into memory and enforces SPEC 5's rules on it: every
 * entry a regular file or directory whose path is already normal and under `package/`, no two
 * entries naming the same path (case and Unicode form folded), no file used as a directory, and
 * the unpacked stream within `maxUnpackedBytes`. Anything else is refused with a `KiteError`
 * whose message names the entry and the rule.
 *
 * @example
 * const files = await readPackageTarball(tgz, { label: '@acme/x@1.0.0' })
 * files.get('package.json')?.toString('utf8')
 */
export async function readPackageTarball(
  gzipped: Uint8Array,
  options: ReadTarballOptions,
): Promise<PackageFiles> {
  const { label } = options
  const limits = resolveTarballLimits(options.limits)
  let tar: Buffer
  try {
    tar = await gunzipAsync(gzipped, { maxOutputLength: limits.maxUnpackedBytes })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw tarballError(
        'TARBALL_TOO_LARGE',
        `the tarball of ${label} expands past the ${formatBytes(limits.maxUnpackedBytes)} limit on unpacked size (maxUnpackedBytes)`,
        error,
      )
    }
    throw corrupt(label, `it is not valid gzip data (${(error as Error).message})`, error)
  }
  let entries: Awaited<ReturnType<typeof unpackTar>>
  try {
    entries = await unpackTar(tar, { strict: true })
  } catch (error) {
    throw corrupt(label, `it is not a readable tar archive (${(error as Error).message})`, error)
  }
  const files = new Map<string, Buffer>()
  const seen = new Map<string, { name: string; type: string }>()
  for (const { header, data } of entries) {
    const type = header.type ?? 'file'
    const refuse = (why: string) =>
      tarballError(
        'TARBALL_ENTRY_INVALID',
        `the tarball of ${label} is refused: entry "${header.name}" ${why}; a package may hold only regular files and directories under package/, with normal paths`,
      )
    if (type === 'symlink') throw refuse(`is a symbolic link (to "${header.linkname ?? ''}")`)
    if (type === 'link') throw refuse(`is a hard link (to "${header.linkname ?? ''}")`)
    if (type !== 'file' && type !== 'directory') throw refuse(`is a ${type.replace('-', ' ')}`)
    const checked = checkEntryPath(header.name, type)
    if (!checked.ok) throw refuse(checked.reason)
    const key = collisionKey(checked.path)
    const earlier = seen.get(key)
    if (earlier && !(earlier.type === 'directory' && type === 'directory')) {
      throw refuse(`names the same path as the earlier entry "${earlier.name}"`)
    }
    seen.set(key, { name: header.name, type })
    if (type === 'file') {
      files.set(
        checked.path,
        data ? Buffer.from(data.buffer, data.byteOffset, data.length) : Buffer.alloc(0),
      )
    }
  }
  // A file used as a directory (`dist` and `dist/index.js`) extracts differently in every tool.
  for (const path of files.keys()) {
    for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1)) {
      const parent = seen.get(collisionKey(path.slice(0, slash)))
      if (parent?.type === 'file') {
        throw tarballError(
          'TARBALL_ENTRY_INVALID',
          `the tarball of ${label} is refused: entry "package/${path}" is inside "${parent.name}", which is a file`,
        )
      }
    }
  }
  if (files.size === 0) throw corrupt(label, 'it holds no files')
  return files
}

export function tarballError(code: TarballErrorCode, message: string, cause?: unknown): KiteError {
  return new KiteError(message, { code, kind: 'user', ...(cause === undefined ? {} : { cause }) })
}

function corrupt(label: string, why: string, cause?: unknown): KiteError {
  return tarballError('TARBALL_CORRUPT', `the tarball of ${label} is corrupt: ${why}`, cause)
}

/** `64 MiB`, `1 MiB`, `512 KiB`, `100 bytes`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KiB`
  return `${bytes} bytes`
}
