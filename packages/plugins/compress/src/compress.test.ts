import { randomBytes } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import { createSharedContext } from '@kite/sdk/testing'
import { zipSync } from 'fflate'
import { packTar } from 'modern-tar'
import { describe, expect, it } from 'vitest'
import { archive } from './archive.js'
import { extract } from './extract.js'

const longName = `${'deep/'.repeat(25)}file-with-a-long-name.txt`

/** Stores a few awkward files and returns the entry → URI map for Archive, and the bytes. */
async function fixtures(store: (name: string, content: Uint8Array) => Promise<string>) {
  const contents: Record<string, Uint8Array> = {
    'random.bin': new Uint8Array(randomBytes(300_000)),
    'text/zeros.txt': new TextEncoder().encode('0'.repeat(100_000)),
    'empty.txt': new Uint8Array(),
    'accents/café ☕.txt': new TextEncoder().encode('crème brûlée'),
    [longName]: new TextEncoder().encode('far down'),
  }
  const files: Record<string, string> = {}
  for (const [name, bytes] of Object.entries(contents)) files[name] = await store('input', bytes)
  return { contents, files }
}

describe('Archive and Extract', () => {
  for (const format of ['ZIP', 'TAR_GZ', 'TAR'] as const) {
    it(`round-trips ${format} byte for byte`, async () => {
      const { store, read, run } = await createSharedContext()
      const { contents, files } = await fixtures(store)
      const archived = await run(archive, {
        files: { ...files, 'note.txt': 'written inline' },
        format,
      })
      expect(archived).toMatchObject({ entries: 6, uri: expect.stringMatching(/^kite:\/\/\//) })
      const bytes = await read(String(archived.uri))
      expect(archived.size).toBe(bytes.length)
      const extracted = await run(extract, { from: archived.uri })
      const stored = extracted.files as Record<string, string>
      expect(Object.keys(stored).sort()).toEqual([...Object.keys(contents), 'note.txt'].sort())
      for (const [name, original] of Object.entries(contents)) {
        expect(Buffer.from(await read(String(stored[name]))).equals(Buffer.from(original))).toBe(
          true,
        )
      }
      expect(new TextDecoder().decode(await read(String(stored['note.txt'])))).toBe(
        'written inline',
      )
      expect(extracted.size).toBe(
        Object.values(contents).reduce((sum, bytes) => sum + bytes.length, 0) + 14,
      )
    })
  }

  it('names the archive after its format and compresses harder at level 9', async () => {
    const { store, run } = await createSharedContext()
    const text = await store('t.txt', new TextEncoder().encode('kite '.repeat(50_000)))
    const stored = await run(archive, { files: { 't.txt': text }, compressionLevel: 0 })
    const packed = await run(archive, { files: { 't.txt': text }, compressionLevel: 9 })
    expect(String(stored.uri)).toMatch(/archive\.zip$/)
    expect(Number(stored.size)).toBeGreaterThan(250_000)
    expect(Number(packed.size)).toBeLessThan(5_000)
    const tgz = await run(archive, { files: { 't.txt': text }, format: 'TAR_GZ', name: 'b.tgz' })
    expect(String(tgz.uri)).toMatch(/b\.tgz$/)
  })

  it('refuses unsafe entry names when archiving', async () => {
    const { run } = await createSharedContext()
    await expect(run(archive, { files: { '../up.txt': 'x' } })).rejects.toMatchObject({
      code: 'ENTRY_NAME_UNSAFE',
      message:
        'archive entry "../up.txt" climbs out of the archive with ".."; refusing the archive',
    })
    await expect(run(archive, { files: { '/etc/passwd': 'x' } })).rejects.toThrow(
      /is an absolute path/,
    )
  })
})

describe('Extract of hostile or broken archives', () => {
  it('refuses a hand-made zip-slip zip', async () => {
    const { store, run } = await createSharedContext()
    const evil = zipSync({
      'fine.txt': new TextEncoder().encode('ok'),
      '../../etc/cron.d/evil': new TextEncoder().encode('* * * * * root rm -rf /'),
    })
    await expect(run(extract, { from: await store('evil.zip', evil) })).rejects.toMatchObject({
      code: 'ENTRY_NAME_UNSAFE',
      kind: 'user',
      message:
        'archive entry "../../etc/cron.d/evil" climbs out of the archive with ".."; refusing the archive',
    })
    const absolute = zipSync({ '/tmp/evil': new TextEncoder().encode('x') })
    await expect(run(extract, { from: await store('abs.zip', absolute) })).rejects.toThrow(
      /"\/tmp\/evil" is an absolute path/,
    )
    const windows = zipSync({ 'a\\..\\..\\evil.bat': new TextEncoder().encode('x') })
    await expect(run(extract, { from: await store('win.zip', windows) })).rejects.toMatchObject({
      code: 'ENTRY_NAME_UNSAFE',
    })
  })

  it('refuses a tar.gz with a path climbing out, and one with a duplicate entry', async () => {
    const { store, run } = await createSharedContext()
    const tar = (names: string[]) =>
      packTar(
        names.map((name) => ({ header: { name, size: 1, type: 'file' as const }, body: 'x' })),
      )
    const slip = gzipSync(await tar(['ok.txt', 'a/../../escape.txt']))
    await expect(run(extract, { from: await store('slip.tgz', slip) })).rejects.toMatchObject({
      code: 'ENTRY_NAME_UNSAFE',
    })
    const twice = gzipSync(await tar(['same.txt', './same.txt']))
    await expect(run(extract, { from: await store('twice.tgz', twice) })).rejects.toMatchObject({
      code: 'ENTRY_DUPLICATE',
      message: 'archive entry "same.txt" appears twice; refusing the archive',
    })
  })

  it('stops zip and gzip bombs at maxTotalSize', async () => {
    const { store, run } = await createSharedContext()
    const zeros = new Uint8Array(3 * 1024 * 1024)
    const zip = zipSync({ 'zeros.bin': [zeros, { level: 9 }] })
    expect(zip.length).toBeLessThan(10_000)
    await expect(
      run(extract, { from: await store('bomb.zip', zip), maxTotalSize: 1024 * 1024 }),
    ).rejects.toMatchObject({
      code: 'ARCHIVE_TOO_LARGE',
      message: 'the archive expands to more than 1 MiB (maxTotalSize); refusing it (a zip bomb?)',
    })
    const tgz = gzipSync(
      await packTar([{ header: { name: 'zeros.bin', size: zeros.length }, body: zeros }]),
    )
    await expect(
      run(extract, { from: await store('bomb.tgz', tgz), maxTotalSize: 1024 * 1024 }),
    ).rejects.toMatchObject({ code: 'ARCHIVE_TOO_LARGE' })
    const many = zipSync(
      Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, new Uint8Array(1)])),
    )
    await expect(
      run(extract, { from: await store('many.zip', many), maxEntries: 10 }),
    ).rejects.toThrow(/more than 10 entries/)
  })

  it('fails clearly on corrupt and truncated archives', async () => {
    const { store, run } = await createSharedContext()
    const good = zipSync({ 'hello.txt': [new TextEncoder().encode('hello world'), { level: 0 }] })
    const truncated = good.subarray(0, good.length - 30)
    await expect(run(extract, { from: await store('cut.zip', truncated) })).rejects.toMatchObject({
      code: 'ARCHIVE_INVALID',
      message: expect.stringMatching(/^the zip archive is corrupt or truncated: /),
    })
    const flipped = new Uint8Array(good)
    const at = Buffer.from(flipped).indexOf('hello world')
    flipped[at] = 'j'.charCodeAt(0)
    await expect(run(extract, { from: await store('flip.zip', flipped) })).rejects.toThrow(
      'the zip archive is corrupt or truncated: the content of "hello.txt" does not match its CRC-32',
    )
    const tgz = gzipSync(
      await packTar([{ header: { name: 'a', size: 5000 }, body: 'x'.repeat(5000) }]),
    )
    await expect(
      run(extract, { from: await store('cut.tgz', tgz.subarray(0, tgz.length - 20)) }),
    ).rejects.toMatchObject({
      code: 'ARCHIVE_INVALID',
      message: expect.stringMatching(/^the tar\.gz archive is corrupt or truncated: /),
    })
    await expect(
      run(extract, { from: await store('noise.bin', new Uint8Array(randomBytes(1000))) }),
    ).rejects.toMatchObject({ code: 'ARCHIVE_FORMAT_UNKNOWN' })
  })

  it('skips links in a tar with a warning', async () => {
    const { store, run, context } = await createSharedContext()
    const tar = await packTar([
      { header: { name: 'real.txt', size: 2, type: 'file' }, body: 'hi' },
      { header: { name: 'link', size: 0, type: 'symlink', linkname: '/etc/passwd' } },
      { header: { name: 'dir/', size: 0, type: 'directory' } },
    ])
    const extracted = await run(extract, { from: await store('links.tar', tar) })
    expect(Object.keys(extracted.files as object)).toEqual(['real.txt'])
    expect(context.logs).toContainEqual({
      level: 'warn',
      message: 'skipped "link": a symlink, not a file',
    })
  })
})
