import { randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { rm, stat } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as NodeReadableStream } from 'node:stream/web'
import type { RunContext } from '@kite/sdk'

/**
 * Streams a response body to a file in the working directory, then into internal storage, so a
 * large body never sits in memory whole.
 */
export async function storeBody(
  response: Response,
  ctx: Pick<RunContext, 'storage' | 'workingDir'>,
  fileName: string,
): Promise<{ uri: string; size: number }> {
  const path = join(ctx.workingDir, `${randomUUID()}-${fileName}`)
  try {
    const source = response.body
      ? Readable.fromWeb(response.body as unknown as NodeReadableStream<Uint8Array>)
      : Readable.from([])
    await pipeline(source, createWriteStream(path))
    const { size } = await stat(path)
    return { uri: await ctx.storage.putFile(fileName, path), size }
  } finally {
    await rm(path, { force: true })
  }
}

/** A file name for a response: `Content-Disposition`'s, else the URL's last segment, else `fallback`. */
export function responseFileName(response: Response, uri: string, fallback: string): string {
  const disposition = response.headers.get('content-disposition') ?? ''
  const encoded = /filename\*\s*=\s*(?:UTF-8'')?([^;]+)/i.exec(disposition)?.[1]
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(disposition)?.[1]
  let name = ''
  try {
    name = encoded ? decodeURIComponent(encoded.trim()) : (plain?.trim() ?? '')
  } catch {
    name = plain?.trim() ?? ''
  }
  if (!name) name = decodeURIComponent(basename(new URL(uri).pathname))
  const safe = basename(name).replace(/[^\w.-]+/g, '_')
  return safe && safe !== '.' && safe !== '..' ? safe : fallback
}
