import { KiteError } from '@kite/sdk'

/** Bounds on what one archive may expand to. */
export interface ExtractLimits {
  maxTotalSize: number
  maxEntries: number
}

/** The files of an archive: entry name → bytes, in archive order. */
export type ArchiveFiles = Map<string, Uint8Array>

/**
 * Checks an entry name from or for an archive and returns it with `/` separators. Absolute paths
 * and `..` segments are refused: extracted to a disk later, such a name would write outside the
 * target directory ("zip slip").
 */
export function checkEntryName(name: string): string {
  const normalized = name.replaceAll('\\', '/')
  const refuse = (why: string) =>
    new KiteError(`archive entry "${name}" ${why}; refusing the archive`, {
      code: 'ENTRY_NAME_UNSAFE',
      kind: 'user',
    })
  if (normalized === '' || normalized === '/') throw refuse('has no name')
  if (normalized.includes('\0')) throw refuse('contains a NUL character')
  if (normalized.startsWith('/') || /^[A-Za-z]:/.test(normalized)) {
    throw refuse('is an absolute path')
  }
  const segments = normalized.split('/')
  if (segments.includes('..')) throw refuse('climbs out of the archive with ".."')
  // "./report.csv" (as `tar -C dir .` writes it) is "report.csv".
  return segments
    .filter((segment, index) => segment !== '.' || index === segments.length - 1)
    .join('/')
}

/** Counts entries and bytes as they are read, refusing an archive that expands too far. */
export function createBudget(limits: ExtractLimits) {
  let entries = 0
  let bytes = 0
  const seen = new Set<string>()
  return {
    /** Call for every file entry, before its content is expanded when possible. */
    admit(name: string, size: number): string {
      const checked = checkEntryName(name)
      if (seen.has(checked)) {
        throw new KiteError(`archive entry "${checked}" appears twice; refusing the archive`, {
          code: 'ENTRY_DUPLICATE',
          kind: 'user',
        })
      }
      seen.add(checked)
      if (++entries > limits.maxEntries) {
        throw new KiteError(
          `the archive holds more than ${limits.maxEntries} entries (maxEntries); refusing it`,
          { code: 'ARCHIVE_TOO_LARGE', kind: 'user' },
        )
      }
      bytes += size
      if (bytes > limits.maxTotalSize) throw tooLarge(limits.maxTotalSize)
      return checked
    },
    get bytes() {
      return bytes
    },
  }
}

export function tooLarge(maxTotalSize: number): KiteError {
  return new KiteError(
    `the archive expands to more than ${formatBytes(maxTotalSize)} (maxTotalSize); refusing it (a zip bomb?)`,
    { code: 'ARCHIVE_TOO_LARGE', kind: 'user' },
  )
}

export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1 && Number.isInteger(value / 1024)) {
    value /= 1024
    unit++
  }
  return `${value} ${units[unit]}`
}

export function corrupt(format: string, error: unknown): KiteError {
  const message = error instanceof Error ? error.message : String(error)
  return new KiteError(`the ${format} archive is corrupt or truncated: ${message}`, {
    code: 'ARCHIVE_INVALID',
    kind: 'user',
    cause: error,
  })
}
