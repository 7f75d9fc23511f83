import { defineTask, KiteError, z } from '@kite/sdk'
import { type ArchiveFiles, checkEntryName } from './entries.js'
import { createTar } from './tar.js'
import { createZip } from './zip.js'

export const ArchiveFormat = z.enum(['ZIP', 'TAR_GZ', 'TAR'])

const EXTENSIONS = { ZIP: 'zip', TAR_GZ: 'tar.gz', TAR: 'tar' } as const

export const archive = defineTask({
  name: 'Archive',
  title: 'Create an archive',
  description:
    'Packs files into a zip, tar.gz or tar archive in internal storage. Each entry comes from a stored file (a `kite:///` URI) or is given as text.',
  properties: z.object({
    files: z
      .record(z.string(), z.string())
      .refine((files) => Object.keys(files).length > 0, 'give at least one file')
      .describe(
        'Entry name (may contain `/` for folders) → content: a `kite:///` URI of a stored file, or any other text, written as it is.',
      ),
    format: ArchiveFormat.default('ZIP').describe('The archive format.'),
    compressionLevel: z
      .number()
      .int()
      .min(0)
      .max(9)
      .default(6)
      .describe('0 stores without compressing, 9 compresses hardest (ZIP and TAR_GZ).'),
    name: z
      .string()
      .min(1)
      .optional()
      .describe('The stored file name (default `archive.zip`, `archive.tar.gz` or `archive.tar`).'),
  }),
  outputs: z.object({
    uri: z.string().describe('The kite:/// URI of the archive.'),
    size: z.number().int().describe('The size of the archive in bytes.'),
    entries: z.number().int().describe('How many files it holds.'),
  }),
  examples: [
    {
      title: 'Zip two exports and a note',
      code: `files:
  orders.csv: "{{ outputs.orders.uri }}"
  customers/all.csv: "{{ outputs.customers.uri }}"
  README.txt: "Exported by {{ flow.id }} on {{ execution.startDate }}"`,
    },
    {
      title: 'Make a tar.gz',
      code: `files:
  data.jsonl: "{{ outputs.query.uri }}"
format: TAR_GZ
compressionLevel: 9
name: backup.tar.gz`,
    },
  ],
  async run(props, ctx) {
    const files: ArchiveFiles = new Map()
    for (const [entry, content] of Object.entries(props.files)) {
      const name = checkEntryName(entry)
      if (files.has(name)) {
        throw new KiteError(`two files would be named "${name}" in the archive`, {
          code: 'ENTRY_DUPLICATE',
          kind: 'user',
        })
      }
      files.set(
        name,
        content.startsWith('kite:///')
          ? await ctx.storage.get(content)
          : new TextEncoder().encode(content),
      )
    }
    const bytes =
      props.format === 'ZIP'
        ? createZip(files, props.compressionLevel)
        : await createTar(files, props.format === 'TAR_GZ' ? props.compressionLevel : undefined)
    const uri = await ctx.storage.put(props.name ?? `archive.${EXTENSIONS[props.format]}`, bytes)
    ctx.logger.info(`archived ${files.size} file(s) into ${bytes.length} bytes (${props.format})`)
    return { uri, size: bytes.length, entries: files.size }
  },
})
