import { gunzipSync, gzipSync } from 'node:zlib'
import { KiteError } from '@kite/sdk'
import { packTar, unpackTar } from 'modern-tar'
import {
  type ArchiveFiles,
  corrupt,
  createBudget,
  type ExtractLimits,
  tooLarge,
} from './entries.js'

/** Bytes a tar spends around each entry's content: header, long-name header, padding. */
const TAR_OVERHEAD_PER_ENTRY = 3 * 512

export async function createTar(files: ArchiveFiles, gzipLevel?: number): Promise<Uint8Array> {
  const mtime = new Date()
  const tar = await packTar(
    [...files].map(([name, body]) => ({
      header: { name, size: body.length, type: 'file' as const, mode: 0o644, mtime },
      body,
    })),
  )
  return gzipLevel === undefined ? tar : new Uint8Array(gzipSync(tar, { level: gzipLevel }))
}

export async function readTarGz(
  bytes: Uint8Array,
  limits: ExtractLimits,
  onSkipped: (name: string, type: string) => void,
): Promise<ArchiveFiles> {
  // The decompressed tar can only be a little larger than the files it holds: stop inflating
  // there, before a gzip bomb fills the memory.
  const maxOutputLength = limits.maxTotalSize + (limits.maxEntries + 2) * TAR_OVERHEAD_PER_ENTRY
  let tar: Uint8Array
  try {
    tar = gunzipSync(bytes, { maxOutputLength })
  } catch (error) {
    if (error instanceof RangeError) throw tooLarge(limits.maxTotalSize)
    throw corrupt('tar.gz', error)
  }
  return readTar(tar, limits, onSkipped, 'tar.gz')
}

export async function readTar(
  tar: Uint8Array,
  limits: ExtractLimits,
  onSkipped: (name: string, type: string) => void,
  format = 'tar',
): Promise<ArchiveFiles> {
  const budget = createBudget(limits)
  const admitted = new Map<string, string>()
  let entries: Awaited<ReturnType<typeof unpackTar>>
  try {
    entries = await unpackTar(tar, {
      strict: true,
      filter(header) {
        const type = header.type ?? 'file'
        if (type === 'directory') return false
        if (type !== 'file') {
          onSkipped(header.name, type)
          return false
        }
        admitted.set(header.name, budget.admit(header.name, header.size))
        return true
      },
    })
  } catch (error) {
    if (error instanceof KiteError) throw error
    throw corrupt(format, error)
  }
  const files: ArchiveFiles = new Map()
  for (const entry of entries) {
    files.set(admitted.get(entry.header.name) ?? entry.header.name, entry.data ?? new Uint8Array())
  }
  return files
}
