import { execFile } from 'node:child_process'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { gunzipSync, gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { makeTempDir, packTarball, writeFiles } from '../test/helpers.js'
import { readPackageTarball } from './tarball.js'

const run = promisify(execFile)

describe('readPackageTarball', () => {
  it('reads what npm pack writes, long paths included', async () => {
    const dir = await makeTempDir('pack')
    try {
      const deep = `dist/${'very-long-directory-name/'.repeat(5)}file.js`
      await writeFiles(dir, {
        'package.json': JSON.stringify({ name: 'packed', version: '1.2.3', files: ['dist'] }),
        'dist/index.js': 'export default 1\n',
        [deep]: '// deep\n',
      })
      const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], {
        cwd: dir,
      })
      const [{ filename }] = JSON.parse(stdout) as [{ filename: string }]
      const files = readPackageTarball(await readFile(join(dir, filename)), 'packed@1.2.3')
      expect([...files.keys()].sort()).toEqual(['dist/index.js', deep, 'package.json'].sort())
      expect(files.get('dist/index.js')?.toString()).toBe('export default 1\n')
      expect(JSON.parse(files.get('package.json')?.toString() ?? '{}')).toMatchObject({
        version: '1.2.3',
      })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('refuses data that is not gzip', () => {
    expect(() => readPackageTarball(Buffer.from('plain text'), 'x@1.0.0')).toThrow(
      /^the tarball of x@1\.0\.0 is corrupt: it is not valid gzip data/,
    )
  })

  it('refuses a damaged header, a truncated file and an empty archive', () => {
    const tar = gunzipSync(
      packTarball({ 'package.json': '{"name":"x"}', 'index.js': 'x'.repeat(2000) }),
    )
    const damaged = Buffer.from(tar)
    damaged[10] = 0x41
    expect(() => readPackageTarball(gzipSync(damaged), 'x@1.0.0')).toThrow(
      'the tarball of x@1.0.0 is corrupt: a tar header at byte 0 is damaged',
    )
    expect(() => readPackageTarball(gzipSync(tar.subarray(0, 1800)), 'x@1.0.0')).toThrow(
      'the tarball of x@1.0.0 is corrupt: it ends in the middle of a file',
    )
    expect(() => readPackageTarball(gzipSync(Buffer.alloc(1024)), 'x@1.0.0')).toThrow(
      'the tarball of x@1.0.0 is corrupt: it holds no files',
    )
  })
})
