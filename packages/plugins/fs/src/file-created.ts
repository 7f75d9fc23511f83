import { stat } from 'node:fs/promises'
import { defineTrigger, KiteError, z } from '@kite/sdk'
import { resolveConfiguredPath } from './allowed-roots.js'
import { withFsErrors } from './fs-errors.js'
import { listEntries } from './list-files.js'

export const fileCreated = defineTrigger({
  name: 'FileCreated',
  title: 'File created',
  description:
    'Watches a directory under the allowed roots and emits one event per file that appeared since the last poll (files already there at the first poll count as new). It remembers the files it has seen; a file that is deleted and created again fires again.',
  properties: z.object({
    directory: z
      .string()
      .min(1)
      .describe('The directory to watch: absolute, or relative to the first allowed root.'),
    pattern: z
      .string()
      .min(1)
      .optional()
      .describe('A glob matched against each path relative to `directory`: `*.csv`, `**/*.json`.'),
    recursive: z.boolean().default(false).describe('Watch subdirectories too.'),
  }),
  outputs: z.object({
    path: z.string().describe('The absolute path of the new file.'),
    size: z.number().int().describe('Its size in bytes when it was seen.'),
    modified: z.string().describe('Its last modification time, ISO-8601.'),
  }),
  interval: 'PT1M',
  examples: [
    { title: 'New CSV files in the inbox', code: 'directory: /data/inbox\npattern: "*.csv"' },
  ],
  async poll(props, ctx) {
    const directory = await resolveConfiguredPath(ctx, props.directory, 'directory')
    const files = await withFsErrors('directory', props.directory, async () => {
      if (!(await stat(directory)).isDirectory()) {
        throw new KiteError(`directory: "${props.directory}" is not a directory`, {
          code: 'NOT_A_DIRECTORY',
          kind: 'user',
        })
      }
      return (await listEntries(directory, props)).filter((entry) => entry.type === 'file')
    })
    const seen = new Set((await ctx.state.get<string[]>('seen')) ?? [])
    const fresh = files.filter((file) => !seen.has(file.path))
    // Only the files present now are kept, so the state stays as small as the directory.
    await ctx.state.set(
      'seen',
      files.map((file) => file.path),
    )
    if (fresh.length > 0) ctx.logger.info(`${fresh.length} new file(s) in ${directory}`)
    return fresh.map(({ path, size, modified }) => ({ path, size, modified }))
  },
})
