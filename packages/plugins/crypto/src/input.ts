import { createReadStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { pipeline } from 'node:stream/promises'
import { KiteError, type RunContext, z } from '@kite/sdk'

export const BinaryEncoding = z.enum(['UTF8', 'HEX', 'BASE64'])
export type BinaryEncoding = z.infer<typeof BinaryEncoding>

export const storageUri = z.string().startsWith('kite:///', 'must be a kite:/// URI')

export const valueInput = {
  value: z.string().optional().describe('The input as text. Set this or `from`.'),
  from: storageUri
    .optional()
    .describe('The input as a stored file (a kite:/// URI). Set this or `value`.'),
  valueEncoding: BinaryEncoding.default('UTF8').describe(
    'How `value` turns into bytes: UTF8 text, or HEX / BASE64 for binary data.',
  ),
}

/** Decodes text in the given encoding, refusing text that is not valid in it. */
export function decodeBytes(text: string, encoding: BinaryEncoding, what: string): Buffer {
  if (encoding === 'UTF8') return Buffer.from(text, 'utf8')
  const valid =
    encoding === 'HEX'
      ? /^(?:[0-9a-fA-F]{2})*$/.test(text)
      : /^[A-Za-z0-9+/\-_]*={0,2}$/.test(text.replace(/\s+/g, ''))
  if (!valid) {
    throw new KiteError(`${what} is not valid ${encoding === 'HEX' ? 'hex' : 'base64'}`, {
      code: 'INPUT_INVALID',
      kind: 'user',
    })
  }
  return Buffer.from(text.replace(/\s+/g, ''), encoding === 'HEX' ? 'hex' : 'base64')
}

/** Exactly one of `value` and `from`. */
export function chooseInput(props: {
  value?: string
  from?: string
}): { kind: 'value'; value: string } | { kind: 'from'; uri: string } {
  if (props.value !== undefined && props.from !== undefined) {
    throw new KiteError('give either `value` or `from`, not both', {
      code: 'INPUT_AMBIGUOUS',
      kind: 'user',
    })
  }
  if (props.from !== undefined) return { kind: 'from', uri: props.from }
  if (props.value !== undefined) return { kind: 'value', value: props.value }
  throw new KiteError('nothing to process: give `value` (text) or `from` (a kite:/// URI)', {
    code: 'INPUT_MISSING',
    kind: 'user',
  })
}

/**
 * Feeds the input to `update` — `value` at once, a stored file streamed from a local copy so a
 * large file never sits in memory whole.
 */
export async function feedInput(
  ctx: RunContext,
  props: { value?: string; from?: string; valueEncoding: BinaryEncoding },
  update: (chunk: Buffer) => void,
): Promise<void> {
  const input = chooseInput(props)
  if (input.kind === 'value') {
    update(decodeBytes(input.value, props.valueEncoding, '`value`'))
    return
  }
  const path = await ctx.storage.getFile(input.uri)
  try {
    await pipeline(
      createReadStream(path),
      async (chunks: AsyncIterable<Buffer>) => {
        for await (const chunk of chunks) update(chunk)
      },
      { signal: ctx.signal },
    )
  } finally {
    await rm(path, { force: true })
  }
}
