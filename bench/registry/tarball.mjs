import { createHash } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import { packTar } from 'modern-tar'

/** A gzipped tar with every file under `package/`, as `npm pack` makes it (modern-tar). */
export async function packTarball(files) {
  const entries = Object.entries(files).map(([path, content]) => {
    const body = Buffer.from(content)
    return { header: { name: `package/${path}`, size: body.length, type: 'file' }, body }
  })
  return gzipSync(await packTar(entries))
}

export function integrityOf(tarball) {
  return {
    integrity: `sha512-${createHash('sha512').update(tarball).digest('base64')}`,
    shasum: createHash('sha1').update(tarball).digest('hex'),
  }
}
