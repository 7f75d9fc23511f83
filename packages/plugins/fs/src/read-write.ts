import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import { defineTask, KiteError, z } from '@kite/sdk'
import { resolveConfiguredPath } from './allowed-roots.js'
import { withFsErrors } from './fs-errors.js'

const Encoding = z.enum(['utf8', 'base64'])

export const read = defineTask({
  name: 'Read',
  title: 'Read a file',
  description:
    'Reads a local file under the allowed roots: into internal storage as `uri` (STORE, the default), or inline as `content` (FETCH) — never both.',
  properties: z.object({
    path: z.string().min(1).describe('The file: absolute, or relative to the first allowed root.'),
    fetchType: z
      .enum(['STORE', 'FETCH'])
      .default('STORE')
      .describe(
        'STORE copies the file into internal storage and outputs its `uri`; FETCH outputs its content as `content`.',
      ),
    encoding: Encoding.default('utf8').describe(
      'How `content` holds the bytes (FETCH): `utf8` text or `base64`.',
    ),
  }),
  outputs: z
    .object({
      uri: z.string().optional().describe('The `kite:///` URI of the stored copy (STORE).'),
      content: z.string().optional().describe('The content (FETCH), in `encoding`.'),
      size: z.number().int().describe('The size of the file in bytes.'),
    })
    .meta({ exclusive: [['uri', 'content']] }),
  examples: [
    { title: 'Store a file for later tasks', code: 'path: /data/inbox/orders.csv' },
    { title: 'Read a small file inline', code: 'path: config/settings.json\nfetchType: FETCH' },
  ],
  async run(props, ctx) {
    const path = await resolveConfiguredPath(ctx, props.path, 'path')
    return withFsErrors('path', props.path, async () => {
      const stats = await stat(path)
      if (!stats.isFile()) {
        throw new KiteError(`path: "${props.path}" is not a file`, {
          code: 'NOT_A_FILE',
          kind: 'user',
        })
      }
      if (props.fetchType === 'STORE') {
        const uri = await ctx.storage.putFile(basename(path), path)
        return { uri, size: stats.size }
      }
      const bytes = await readFile(path)
      return { content: bytes.toString(props.encoding), size: bytes.byteLength }
    })
  },
})

export const write = defineTask({
  name: 'Write',
  title: 'Write a file',
  description:
    'Writes a local file under the allowed roots, from `content` or from a stored file (`from`). Refuses to replace an existing file unless `overwrite` is true.',
  properties: z
    .object({
      path: z
        .string()
        .min(1)
        .describe('The file to write: absolute, or relative to the first allowed root.'),
      content: z.string().optional().describe('The content to write, in `encoding`.'),
      from: z
        .string()
        .startsWith('kite:///', 'must be a kite:/// URI')
        .optional()
        .describe('A `kite:///` URI of a stored file to write instead of `content`.'),
      encoding: Encoding.default('utf8').describe('How `content` holds the bytes: text or base64.'),
      overwrite: z.boolean().default(false).describe('Replace the file if it exists.'),
      createDirectories: z
        .boolean()
        .default(true)
        .describe('Create missing parent directories (inside the allowed roots).'),
    })
    .refine((props) => (props.content === undefined) !== (props.from === undefined), {
      message: 'set exactly one of `content` and `from`',
    }),
  outputs: z.object({
    path: z.string().describe('The real path of the written file.'),
    size: z.number().int().describe('The size written, in bytes.'),
  }),
  examples: [
    {
      title: 'Write text',
      code: 'path: /data/outbox/hello.txt\ncontent: "Hello {{ inputs.name }}"\noverwrite: true',
    },
    {
      title: 'Write a stored file',
      code: 'path: /data/outbox/report.csv\nfrom: "{{ outputs.export.uri }}"',
    },
  ],
  async run(props, ctx) {
    const path = await resolveConfiguredPath(ctx, props.path, 'path')
    const data =
      props.from !== undefined
        ? await ctx.storage.get(props.from).catch((error: unknown) => {
            throw new KiteError(`from: cannot read ${props.from}: ${(error as Error).message}`, {
              code: 'FILE_NOT_FOUND',
              kind: 'user',
              cause: error,
            })
          })
        : Buffer.from(props.content ?? '', props.encoding)
    return withFsErrors('path', props.path, async () => {
      if (props.createDirectories) await mkdir(dirname(path), { recursive: true })
      await writeFile(path, data, { flag: props.overwrite ? 'w' : 'wx' })
      ctx.logger.info(`wrote ${data.byteLength} bytes to ${path}`)
      return { path, size: data.byteLength }
    })
  },
})
