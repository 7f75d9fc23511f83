import { crc32 } from 'node:zlib'
import { KiteError } from '@kite/sdk'
import { unzipSync, type Zippable, zipSync } from 'fflate'
import { type ArchiveFiles, corrupt, createBudget, type ExtractLimits } from './entries.js'

export function createZip(files: ArchiveFiles, level: number): Uint8Array {
  const zippable: Zippable = {}
  for (const [name, bytes] of files) zippable[name] = [bytes, { level: clampLevel(level) }]
  return zipSync(zippable)
}

type DeflateLevel = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9
const LEVELS: readonly DeflateLevel[] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
function clampLevel(level: number): DeflateLevel {
  return LEVELS[Math.min(9, Math.max(0, Math.round(level)))] ?? 6
}

/**
 * Reads a zip archive. Entry names, count and declared sizes are checked before each entry is
 * inflated (fflate never inflates past the declared size), and each entry's CRC-32 is verified.
 */
export function readZip(bytes: Uint8Array, limits: ExtractLimits): ArchiveFiles {
  const budget = createBudget(limits)
  let unzipped: Record<string, Uint8Array>
  let checksums: Map<string, number>
  try {
    checksums = readChecksums(bytes)
    unzipped = unzipSync(bytes, {
      filter(file) {
        if (file.name.endsWith('/')) return false
        budget.admit(file.name, file.originalSize)
        return true
      },
    })
  } catch (error) {
    if (error instanceof KiteError) throw error
    throw corrupt('zip', error)
  }
  const files: ArchiveFiles = new Map()
  for (const [name, content] of Object.entries(unzipped)) {
    if (crc32(content) !== checksums.get(name)) {
      throw corrupt('zip', new Error(`the content of "${name}" does not match its CRC-32`))
    }
    files.set(name.replaceAll('\\', '/'), content)
  }
  return files
}

/**
 * The CRC-32 of every entry, from the central directory (fflate does not check them). Walks the
 * directory the way fflate does, zip64 included.
 */
function readChecksums(data: Uint8Array): Map<string, number> {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  const u16 = (offset: number) => view.getUint16(offset, true)
  const u32 = (offset: number) => view.getUint32(offset, true)
  let end = data.length - 22
  while (end >= 0 && u32(end) !== 0x06054b50) {
    if (data.length - end > 65558) break
    end--
  }
  if (end < 0 || u32(end) !== 0x06054b50) throw new Error('no end of central directory record')
  let count = u16(end + 10)
  let offset = u32(end + 16)
  if (end >= 20 && u32(end - 20) === 0x07064b50) {
    const zip64End = Number(view.getBigUint64(end - 12, true))
    if (u32(zip64End) === 0x06064b50) {
      count = Number(view.getBigUint64(zip64End + 32, true))
      offset = Number(view.getBigUint64(zip64End + 48, true))
    }
  }
  const checksums = new Map<string, number>()
  const utf8 = new TextDecoder('utf-8')
  const latin1 = new TextDecoder('latin1')
  for (let index = 0; index < count; index++) {
    if (u32(offset) !== 0x02014b50) throw new Error('invalid central directory entry')
    const utf8Name = (u16(offset + 8) & 0x800) !== 0
    const nameLength = u16(offset + 28)
    const name = (utf8Name ? utf8 : latin1).decode(
      data.subarray(offset + 46, offset + 46 + nameLength),
    )
    checksums.set(name, u32(offset + 16))
    offset += 46 + nameLength + u16(offset + 30) + u16(offset + 32)
  }
  return checksums
}
