import { defineTask, KiteError, z } from '@kite/sdk'
import { type ArchiveFiles, formatBytes } from './entries.js'
import { readTar, readTarGz } from './tar.js'
import { readZip } from './zip.js'

const GIB = 1024 ** 3

export const extract = defineTask({
  name: 'Extract',
  title: 'Extract an archive',
  description:
    'Unpacks a stored zip, tar.gz or tar archive: every file becomes a stored file, listed by its entry name. Entries with absolute paths or `..` are refused (zip slip), and so are archives that expand beyond `maxTotalSize` or hold more than `maxEntries` files (zip bombs). Folders, links and devices are skipped.',
  properties: z.object({
    from: z
      .string()
      .startsWith('kite:///', 'must be a kite:/// URI')
      .describe('The archive (a kite:/// URI).'),
    format: z
      .enum(['AUTO', 'ZIP', 'TAR_GZ', 'TAR'])
      .default('AUTO')
      .describe('The archive format; AUTO recognises it from its first bytes.'),
    maxTotalSize: z
      .number()
      .int()
      .positive()
      .default(GIB)
      .describe('The most bytes all extracted files may add up to (default 1 GiB).'),
    maxEntries: z
      .number()
      .int()
      .positive()
      .default(10_000)
      .describe('The most files the archive may hold.'),
  }),
  outputs: z.object({
    files: z
      .record(z.string(), z.string())
      .describe('Entry name → kite:/// URI of the extracted file.'),
    size: z.number().int().describe('The total size of the extracted files in bytes.'),
  }),
  examples: [
    {
      title: 'Unzip a download',
      code: 'from: "{{ outputs.download.uri }}"',
    },
    {
      title: 'Extract a tar.gz of at most 100 MiB',
      code: 'from: "{{ outputs.download.uri }}"\nformat: TAR_GZ\nmaxTotalSize: 104857600',
    },
  ],
  async run(props, ctx) {
    const bytes = await ctx.storage.get(props.from)
    const format = props.format === 'AUTO' ? detectFormat(bytes) : props.format
    const limits = { maxTotalSize: props.maxTotalSize, maxEntries: props.maxEntries }
    const skipped = (name: string, type: string) =>
      ctx.logger.warn(`skipped "${name}": a ${type}, not a file`)
    let files: ArchiveFiles
    if (format === 'ZIP') files = readZip(bytes, limits)
    else if (format === 'TAR_GZ') files = await readTarGz(bytes, limits, skipped)
    else files = await readTar(bytes, limits, skipped)
    const stored: Record<string, string> = {}
    let size = 0
    for (const [name, content] of files) {
      if (ctx.signal.aborted) {
        throw new KiteError('extracting was stopped (timeout or kill)', {
          code: 'ABORTED',
          kind: 'user',
        })
      }
      stored[name] = await ctx.storage.put(name.slice(name.lastIndexOf('/') + 1) || 'file', content)
      size += content.length
    }
    ctx.logger.info(`extracted ${files.size} file(s), ${formatBytes(size)} (${format})`)
    return { files: stored, size }
  },
})

function detectFormat(bytes: Uint8Array): 'ZIP' | 'TAR_GZ' | 'TAR' {
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5)) return 'ZIP'
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return 'TAR_GZ'
  if (new TextDecoder().decode(bytes.subarray(257, 262)) === 'ustar') return 'TAR'
  throw new KiteError(
    'the file is not a zip, tar.gz or tar archive (its first bytes say none of them); set `format` if you are sure',
    { code: 'ARCHIVE_FORMAT_UNKNOWN', kind: 'user' },
  )
}
