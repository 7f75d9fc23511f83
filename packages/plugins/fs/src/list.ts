import { stat } from 'node:fs/promises'
import { defineTask, KiteError, z } from '@kite/sdk'
import { resolveConfiguredPath } from './allowed-roots.js'
import { withFsErrors } from './fs-errors.js'
import { listEntries } from './list-files.js'

export const list = defineTask({
  name: 'List',
  title: 'List files',
  description:
    'Lists a directory under the allowed roots, optionally recursively and filtered by a glob pattern. Symlinks are listed as `symlink` and never followed.',
  properties: z.object({
    path: z
      .string()
      .min(1)
      .describe('The directory: absolute, or relative to the first allowed root.'),
    pattern: z
      .string()
      .min(1)
      .optional()
      .describe(
        'A glob matched against each path relative to `path`: `*.csv`, `**/*.json`, `2024-*/report.txt`.',
      ),
    recursive: z.boolean().default(false).describe('Descend into subdirectories.'),
    entryType: z
      .enum(['FILES', 'DIRECTORIES', 'ALL'])
      .default('ALL')
      .describe('Which entries to return.'),
  }),
  outputs: z.object({
    files: z
      .array(
        z.object({
          path: z.string().describe('Absolute path.'),
          size: z.number().int().describe('Size in bytes.'),
          modified: z.string().describe('Last modification time, ISO-8601.'),
          type: z.enum(['file', 'directory', 'symlink', 'other']).describe('What the entry is.'),
        }),
      )
      .describe('The entries, sorted by path.'),
    count: z.number().int().describe('How many entries were found.'),
  }),
  examples: [
    {
      title: 'CSV files of the inbox',
      code: 'path: /data/inbox\npattern: "*.csv"\nentryType: FILES',
    },
    { title: 'Everything, recursively', code: 'path: /data/archive\nrecursive: true' },
  ],
  async run(props, ctx) {
    const directory = await resolveConfiguredPath(ctx, props.path, 'path')
    return withFsErrors('path', props.path, async () => {
      if (!(await stat(directory)).isDirectory()) {
        throw new KiteError(`path: "${props.path}" is not a directory`, {
          code: 'NOT_A_DIRECTORY',
          kind: 'user',
        })
      }
      const entries = await listEntries(directory, props)
      const wanted = entries.filter(
        (entry) =>
          props.entryType === 'ALL' ||
          (props.entryType === 'FILES' ? entry.type === 'file' : entry.type === 'directory'),
      )
      const files = wanted.map(({ path, size, modified, type }) => ({ path, size, modified, type }))
      return { files, count: files.length }
    })
  },
})
