import { cp, lstat, rename, rm } from 'node:fs/promises'
import { sep } from 'node:path'
import { defineTask, KiteError, z } from '@kite/sdk'
import {
  type AllowedRoots,
  exists,
  isRoot,
  loadAllowedRoots,
  notFound,
  resolveAllowed,
} from './allowed-roots.js'
import { withFsErrors } from './fs-errors.js'

const transferProperties = {
  from: z.string().min(1).describe('The source: absolute, or relative to the first allowed root.'),
  to: z.string().min(1).describe('The destination path itself (not the folder to put it in).'),
  overwrite: z.boolean().default(false).describe('Replace the destination if it exists.'),
}

const transferOutputs = z.object({
  path: z.string().describe('The real path of the destination.'),
})

async function prepare(
  props: { from: string; to: string; overwrite: boolean },
  roots: AllowedRoots,
): Promise<{ from: string; to: string; isDirectory: boolean }> {
  const from = await resolveAllowed(props.from, roots, 'from')
  const to = await resolveAllowed(props.to, roots, 'to')
  const source = await lstat(from).catch(() => undefined)
  if (!source) throw notFound(props.from, 'from')
  if (from === to) {
    throw new KiteError(`from and to are the same path ("${props.from}")`, {
      code: 'PROPERTIES_INVALID',
      kind: 'user',
    })
  }
  if (source.isDirectory() && `${to}${sep}`.startsWith(`${from}${sep}`)) {
    throw new KiteError(`to: "${props.to}" is inside the directory "${props.from}"`, {
      code: 'PROPERTIES_INVALID',
      kind: 'user',
    })
  }
  if (`${from}${sep}`.startsWith(`${to}${sep}`)) {
    throw new KiteError(`to: "${props.to}" contains "${props.from}"`, {
      code: 'PROPERTIES_INVALID',
      kind: 'user',
    })
  }
  const target = await lstat(to).catch(() => undefined)
  if (target && !props.overwrite) throw exists(props.to, 'to')
  return { from, to, isDirectory: source.isDirectory() }
}

export const copy = defineTask({
  name: 'Copy',
  title: 'Copy a file or directory',
  description:
    'Copies a file, or a directory with `recursive: true`, to another path under the allowed roots. Symlinks inside a copied directory are copied as symlinks.',
  properties: z.object({
    ...transferProperties,
    recursive: z.boolean().default(false).describe('Needed to copy a directory with its content.'),
  }),
  outputs: transferOutputs,
  examples: [
    { title: 'Back a file up', code: 'from: /data/inbox/orders.csv\nto: /data/backup/orders.csv' },
    {
      title: 'Copy a folder',
      code: 'from: /data/reports\nto: /data/archive/reports\nrecursive: true',
    },
  ],
  async run(props, ctx) {
    const roots = await loadAllowedRoots(ctx)
    const { from, to, isDirectory } = await prepare(props, roots)
    if (isDirectory && !props.recursive) {
      throw new KiteError(`from: "${props.from}" is a directory; set recursive: true to copy it`, {
        code: 'PROPERTIES_INVALID',
        kind: 'user',
      })
    }
    return withFsErrors('to', props.to, async () => {
      if (props.overwrite && isDirectory) await rm(to, { recursive: true, force: true })
      await cp(from, to, {
        recursive: isDirectory,
        force: props.overwrite,
        errorOnExist: !props.overwrite,
        verbatimSymlinks: true,
      })
      ctx.logger.info(`copied ${from} to ${to}`)
      return { path: to }
    })
  },
})

export const move = defineTask({
  name: 'Move',
  title: 'Move a file or directory',
  description:
    'Moves (renames) a file or directory to another path under the allowed roots, across file systems if needed.',
  properties: z.object(transferProperties),
  outputs: transferOutputs,
  examples: [
    {
      title: 'Archive a processed file',
      code: 'from: /data/inbox/orders.csv\nto: /data/done/orders.csv',
    },
  ],
  async run(props, ctx) {
    const roots = await loadAllowedRoots(ctx)
    const { from, to, isDirectory } = await prepare(props, roots)
    if (isRoot(from, roots)) {
      throw new KiteError(`from: "${props.from}" is an allowed root; it cannot be moved`, {
        code: 'PATH_NOT_ALLOWED',
        kind: 'user',
      })
    }
    return withFsErrors('to', props.to, async () => {
      if (props.overwrite) await rm(to, { recursive: true, force: true })
      try {
        await rename(from, to)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error
        await cp(from, to, { recursive: isDirectory, verbatimSymlinks: true, errorOnExist: true })
        await rm(from, { recursive: true })
      }
      ctx.logger.info(`moved ${from} to ${to}`)
      return { path: to }
    })
  },
})
