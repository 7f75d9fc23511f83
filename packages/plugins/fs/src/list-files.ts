import { lstat, readdir } from 'node:fs/promises'
import { join, posix } from 'node:path'
import picomatch from 'picomatch'

export type EntryType = 'file' | 'directory' | 'symlink' | 'other'

export interface Entry {
  /** Absolute path. */
  path: string
  /** Path relative to the listed directory, with `/` separators. */
  relative: string
  size: number
  modified: string
  type: EntryType
}

export interface ListOptions {
  pattern?: string | undefined
  recursive: boolean
}

/**
 * Lists a directory (and, when recursive, its subdirectories; symlinked directories are not
 * followed). `pattern` is a glob matched against the path relative to `directory`.
 */
export async function listEntries(directory: string, options: ListOptions): Promise<Entry[]> {
  const matches = options.pattern ? picomatch(options.pattern, { dot: true }) : () => true
  const found: Entry[] = []
  const walk = async (relative: string): Promise<void> => {
    const names = (await readdir(join(directory, relative))).sort()
    for (const name of names) {
      const childRelative = relative ? posix.join(relative, name) : name
      const path = join(directory, childRelative)
      const stats = await lstat(path).catch(() => undefined)
      if (!stats) continue // removed while listing
      const type: EntryType = stats.isFile()
        ? 'file'
        : stats.isDirectory()
          ? 'directory'
          : stats.isSymbolicLink()
            ? 'symlink'
            : 'other'
      if (matches(childRelative)) {
        found.push({
          path,
          relative: childRelative,
          size: stats.size,
          modified: stats.mtime.toISOString(),
          type,
        })
      }
      if (type === 'directory' && options.recursive) await walk(childRelative)
    }
  }
  await walk('')
  return found
}
