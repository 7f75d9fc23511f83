import { lstat, rm, rmdir } from 'node:fs/promises'
import { defineTask, KiteError, z } from '@kite/sdk'
import { isRoot, loadAllowedRoots, notFound, resolveAllowed } from './allowed-roots.js'
import { withFsErrors } from './fs-errors.js'

export const deleteFile = defineTask({
  name: 'Delete',
  title: 'Delete a file or directory',
  description:
    'Deletes a file, a symlink (not what it points to), or a directory under the allowed roots. A directory that is not empty needs `recursive: true`. The allowed roots themselves cannot be deleted.',
  properties: z.object({
    path: z
      .string()
      .min(1)
      .describe('What to delete: absolute, or relative to the first allowed root.'),
    recursive: z.boolean().default(false).describe('Delete a directory with its content.'),
    errorOnMissing: z
      .boolean()
      .default(false)
      .describe('Fail when the path does not exist (otherwise `deleted` is false).'),
  }),
  outputs: z.object({
    deleted: z.boolean().describe('Whether something was deleted.'),
  }),
  examples: [
    { title: 'Delete a processed file', code: 'path: "/data/inbox/{{ trigger.name }}"' },
    { title: 'Clear a folder', code: 'path: /data/tmp/run-42\nrecursive: true' },
  ],
  async run(props, ctx) {
    const roots = await loadAllowedRoots(ctx)
    const path = await resolveAllowed(props.path, roots, 'path')
    if (isRoot(path, roots)) {
      throw new KiteError(`path: "${props.path}" is an allowed root; it cannot be deleted`, {
        code: 'PATH_NOT_ALLOWED',
        kind: 'user',
      })
    }
    return withFsErrors('path', props.path, async () => {
      const stats = await lstat(path).catch(() => undefined)
      if (!stats) {
        if (props.errorOnMissing) throw notFound(props.path, 'path')
        return { deleted: false }
      }
      if (stats.isDirectory() && !props.recursive) {
        await rmdir(path)
      } else {
        await rm(path, { recursive: props.recursive })
      }
      ctx.logger.info(`deleted ${path}`)
      return { deleted: true }
    })
  },
})
