import { gunzipSync } from 'node:zlib'
import { RegistryError } from './errors.js'

const BLOCK = 512
/** Upper bound of an unpacked package: a plugin is one bundle and a manifest, not a data set. */
const MAX_UNPACKED_BYTES = 256 * 1024 * 1024

/**
 * Reads the regular files of an npm package tarball (gzip + tar) into memory, keyed by their
 * path inside the package (npm's leading `package/` folder stripped, as npm itself does).
 * Throws `TARBALL_CORRUPT` for anything that is not a well-formed tarball.
 */
export function readPackageTarball(gzipped: Uint8Array, label: string): Map<string, Buffer> {
  let tar: Buffer
  try {
    tar = gunzipSync(gzipped, { maxOutputLength: MAX_UNPACKED_BYTES })
  } catch (error) {
    throw corrupt(label, `it is not valid gzip data (${(error as Error).message})`, error)
  }
  const files = new Map<string, Buffer>()
  let offset = 0
  let longName: string | undefined
  let paxPath: string | undefined
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK)
    if (header.every((byte) => byte === 0)) return finish(files, label)
    if (!checksumMatches(header)) throw corrupt(label, `a tar header at byte ${offset} is damaged`)
    const size = readSize(header.subarray(124, 136))
    const type = String.fromCharCode(header[156] ?? 0)
    const start = offset + BLOCK
    const end = start + size
    if (size < 0 || end > tar.length) throw corrupt(label, 'it ends in the middle of a file')
    const body = tar.subarray(start, end)
    offset = start + Math.ceil(size / BLOCK) * BLOCK
    if (type === 'L') {
      longName = cString(body)
      continue
    }
    if (type === 'x') {
      paxPath = readPaxPath(body) ?? paxPath
      continue
    }
    if (type === 'g') continue
    const name = paxPath ?? longName ?? headerName(header)
    longName = undefined
    paxPath = undefined
    if (type !== '0' && type !== '\0' && type !== '7') continue
    const path = stripFirstSegment(name)
    if (path) files.set(path, Buffer.from(body))
  }
  // Some packers omit the two zero blocks at the end; what was read is still a complete archive.
  return finish(files, label)
}

function finish(files: Map<string, Buffer>, label: string): Map<string, Buffer> {
  if (files.size === 0) throw corrupt(label, 'it holds no files')
  return files
}

function corrupt(label: string, why: string, cause?: unknown): RegistryError {
  return new RegistryError(`the tarball of ${label} is corrupt: ${why}`, {
    code: 'TARBALL_CORRUPT',
    cause,
  })
}

function checksumMatches(header: Buffer): boolean {
  const stored = parseOctal(header.subarray(148, 156))
  let sum = 0
  for (let index = 0; index < BLOCK; index++) {
    sum += index >= 148 && index < 156 ? 32 : (header[index] ?? 0)
  }
  return stored === sum
}

function readSize(field: Buffer): number {
  // Sizes of 8 GiB and more use base-256 with the high bit set; nothing that big is legitimate.
  if (((field[0] ?? 0) & 0x80) !== 0) return -1
  return parseOctal(field)
}

function parseOctal(field: Buffer): number {
  const text = cString(field).trim()
  if (text === '') return 0
  if (!/^[0-7]+$/.test(text)) return -1
  return Number.parseInt(text, 8)
}

function cString(buffer: Buffer): string {
  const nul = buffer.indexOf(0)
  return buffer.subarray(0, nul === -1 ? buffer.length : nul).toString('utf8')
}

function headerName(header: Buffer): string {
  const name = cString(header.subarray(0, 100))
  const magic = header.subarray(257, 262).toString('latin1')
  const prefix = magic === 'ustar' ? cString(header.subarray(345, 500)) : ''
  return prefix ? `${prefix}/${name}` : name
}

function readPaxPath(body: Buffer): string | undefined {
  let path: string | undefined
  let offset = 0
  while (offset < body.length) {
    const space = body.indexOf(0x20, offset)
    if (space === -1) break
    const length = Number.parseInt(body.subarray(offset, space).toString('latin1'), 10)
    if (!Number.isFinite(length) || length <= 0) break
    const record = body.subarray(space + 1, offset + length - 1).toString('utf8')
    const equals = record.indexOf('=')
    if (equals !== -1 && record.slice(0, equals) === 'path') path = record.slice(equals + 1)
    offset += length
  }
  return path
}

function stripFirstSegment(path: string): string {
  const normalized = path.replace(/^\.?\/+/, '')
  const slash = normalized.indexOf('/')
  return slash === -1 ? '' : normalized.slice(slash + 1)
}
