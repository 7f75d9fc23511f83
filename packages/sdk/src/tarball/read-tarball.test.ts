import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { gunzipSync, gzipSync } from 'node:zlib'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  type Files,
  fileEntries,
  gzipBomb,
  HOSTILE_CASES,
  packEntries,
  packFiles,
  regroup,
} from '../../test/fixtures/hostile-tarballs.js'
import { definePlugin, defineTask } from '../define.js'
import { createManifest } from '../manifest.js'
import {
  checkEntryPath,
  DEFAULT_TARBALL_LIMITS,
  hashManifest,
  readPackageContents,
  readPackageTarball,
  resolveTarballLimits,
} from './index.js'

const run = promisify(execFile)
const LABEL = '@acme/kite-plugin-x@1.0.0'

function pluginFiles(): Files {
  const pkg = {
    name: '@acme/kite-plugin-x',
    version: '1.0.0',
    type: 'module',
    kite: { manifest: 'dist/kite-plugin.json' },
  }
  const plugin = definePlugin({
    group: 'acme.x',
    title: 'X',
    description: 'An example plugin.',
    tasks: [
      defineTask({
        name: 'Do',
        title: 'Do it',
        description: 'Does it.',
        properties: z.object({ what: z.string() }),
        outputs: z.object({ done: z.boolean() }),
        run: () => ({ done: true }),
      }),
    ],
  })
  const manifest = createManifest(plugin, pkg, { entry: 'dist/index.js', sdkRange: '^0.1.0' })
  return {
    'package.json': JSON.stringify(pkg),
    'dist/index.js': 'export default {}\n',
    'dist/kite-plugin.json': `${JSON.stringify(manifest, null, 2)}\n`,
  }
}

describe('readPackageTarball', () => {
  it('reads a valid package: files by path, manifest bytes and their hash', async () => {
    const files = pluginFiles()
    const read = await readPackageTarball(await packFiles(files), { label: LABEL })
    expect([...read.keys()].sort()).toEqual(Object.keys(files).sort())
    const contents = readPackageContents(read, { label: LABEL })
    expect(contents.plugin?.manifest.group).toBe('acme.x')
    expect(contents.plugin?.bytes.toString()).toBe(files['dist/kite-plugin.json'])
    expect(contents.plugin?.hash).toBe(
      hashManifest(Buffer.from(String(files['dist/kite-plugin.json']))),
    )
    expect(contents.plugin?.hash).toMatch(/^sha256-[A-Za-z0-9+/]{43}=$/)
  })

  it('reads what npm pack writes, directories and long paths included', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kite-sdk-pack-'))
    try {
      const deep = `dist/${'very-long-directory-name/'.repeat(5)}file.js`
      for (const [path, content] of Object.entries({
        'package.json': JSON.stringify({ name: 'packed', version: '1.2.3', files: ['dist'] }),
        'dist/index.js': 'export default 1\n',
        [deep]: '// deep\n',
      })) {
        await mkdir(join(dir, path, '..'), { recursive: true })
        await writeFile(join(dir, path), content)
      }
      const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], {
        cwd: dir,
      })
      const [{ filename }] = JSON.parse(stdout) as [{ filename: string }]
      const files = await readPackageTarball(await readFile(join(dir, filename)), {
        label: 'packed@1.2.3',
      })
      expect([...files.keys()].sort()).toEqual(['dist/index.js', deep, 'package.json'].sort())
      expect(readPackageContents(files, { label: 'packed@1.2.3' })).toEqual({
        packageJson: { name: 'packed', version: '1.2.3', files: ['dist'] },
      })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('accepts directory entries, repeated directories included', async () => {
    const tarball = await packEntries([
      { header: { name: 'package/', size: 0, type: 'directory' } },
      { header: { name: 'package/dist/', size: 0, type: 'directory' } },
      { header: { name: 'package/dist/', size: 0, type: 'directory' } },
      ...fileEntries(pluginFiles()),
    ])
    const files = await readPackageTarball(tarball, { label: LABEL })
    expect(files.has('dist/index.js')).toBe(true)
    expect(files.has('dist')).toBe(false)
  })

  it.each(HOSTILE_CASES.map((hostile) => [hostile.name, hostile] as const))(
    'refuses %s, naming the reason',
    async (_name, hostile) => {
      const tarball = await hostile.build(pluginFiles())
      const refusal = await readPackageTarball(tarball, { label: LABEL })
        .then((files) => readPackageContents(files, { label: LABEL }))
        .then(
          () => undefined,
          (error: Error & { code?: string }) => error,
        )
      expect(refusal?.message).toContain(hostile.reason)
      expect(refusal).toMatchObject({ kind: 'user' })
      expect(refusal?.code).toMatch(/^(TARBALL|MANIFEST)_/)
    },
  )

  it('names the limit of a bomb in MiB and honours a configured limit', async () => {
    const error = await readPackageTarball(gzipBomb(9), {
      label: LABEL,
      limits: { maxUnpackedBytes: 8 * 1024 * 1024 },
    }).catch((caught: Error) => caught)
    expect(error).toMatchObject({ code: 'TARBALL_TOO_LARGE' })
    expect((error as Error).message).toBe(
      `the tarball of ${LABEL} expands past the 8 MiB limit on unpacked size (maxUnpackedBytes)`,
    )
    expect((error as Error).message).not.toContain('gzip data')
  })

  it('refuses a file used as a directory', async () => {
    const tarball = await packFiles({ ...pluginFiles(), dist: 'a file' })
    await expect(readPackageTarball(tarball, { label: LABEL })).rejects.toThrow(
      'entry "package/dist/index.js" is inside "package/dist", which is a file',
    )
  })

  it('refuses garbage: not gzip, a damaged header, a truncated archive, no files', async () => {
    await expect(readPackageTarball(Buffer.from('plain text'), { label: LABEL })).rejects.toThrow(
      `the tarball of ${LABEL} is corrupt: it is not valid gzip data`,
    )
    const tar = gunzipSync(await packFiles({ 'package.json': '{}', 'index.js': 'x'.repeat(2000) }))
    const damaged = Buffer.from(tar)
    damaged[10] = 0x41
    await expect(readPackageTarball(gzipSync(damaged), { label: LABEL })).rejects.toThrow(
      `the tarball of ${LABEL} is corrupt: it is not a readable tar archive`,
    )
    await expect(
      readPackageTarball(gzipSync(tar.subarray(0, 1800)), { label: LABEL }),
    ).rejects.toThrow(`the tarball of ${LABEL} is corrupt: it is not a readable tar archive`)
    await expect(
      readPackageTarball(gzipSync(Buffer.alloc(1024)), { label: LABEL }),
    ).rejects.toThrow(`the tarball of ${LABEL} is corrupt: it holds no files`)
  })

  it('survives arbitrary bytes with a clear error or a result, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), fc.boolean(), async (bytes, zip) => {
        const input = zip ? gzipSync(bytes) : bytes
        const outcome = await readPackageTarball(input, { label: LABEL }).then(
          (files) => files,
          (error: { code?: string }) => error,
        )
        if (outcome instanceof Map) return
        expect((outcome as { code?: string }).code).toMatch(/^TARBALL_/)
      }),
      { numRuns: 200 },
    )
  })
})

describe('readPackageContents', () => {
  it('refuses a manifest for another package, a missing entry and a path that is not normal', async () => {
    const files = pluginFiles()
    const other = JSON.parse(String(files['dist/kite-plugin.json']))
    other.version = '2.0.0'
    const cases: [Files, string][] = [
      [
        { ...files, 'dist/kite-plugin.json': JSON.stringify(other) },
        'describes @acme/kite-plugin-x@2.0.0, but package.json is @acme/kite-plugin-x@1.0.0',
      ],
      [
        {
          'package.json': files['package.json'] as string,
          'dist/kite-plugin.json': files['dist/kite-plugin.json'] as string,
        },
        'the manifest\'s entry "dist/index.js" is not in the tarball',
      ],
      [
        {
          ...files,
          'package.json': JSON.stringify({
            name: '@acme/kite-plugin-x',
            version: '1.0.0',
            kite: { manifest: 'dist/../dist/kite-plugin.json' },
          }),
        },
        'must be a normal relative path inside the package',
      ],
      [{ ...files, 'dist/kite-plugin.json': '{ nope' }, 'dist/kite-plugin.json is not valid JSON'],
      [
        { ...files, 'dist/kite-plugin.json': '{}' },
        'dist/kite-plugin.json: invalid plugin manifest',
      ],
    ]
    for (const [broken, message] of cases) {
      const read = await readPackageTarball(await packFiles(broken), { label: LABEL })
      expect(() => readPackageContents(read, { label: LABEL })).toThrow(message)
    }
  })

  it('honours configured limits on types and string lengths', async () => {
    const read = await readPackageTarball(await packFiles(pluginFiles()), { label: LABEL })
    expect(() => readPackageContents(read, { label: LABEL, limits: { maxTypes: 0 } })).toThrow(
      TypeError,
    )
    expect(() =>
      readPackageContents(read, { label: LABEL, limits: { maxStringLength: 5 } }),
    ).toThrow('past the limit of 5 (maxStringLength)')
    expect(() =>
      readPackageContents(read, { label: LABEL, limits: { maxManifestBytes: 200 } }),
    ).toThrow('past the 200 bytes limit on a manifest (maxManifestBytes)')
  })

  it('hashes bytes, so a regrouped manifest has another hash', () => {
    const files = pluginFiles()
    const original = hashManifest(Buffer.from(String(files['dist/kite-plugin.json'])))
    expect(hashManifest(Buffer.from(regroup(files, 'hostile.victim')))).not.toBe(original)
  })
})

describe('resolveTarballLimits', () => {
  it('fills defaults and refuses nonsense', () => {
    expect(resolveTarballLimits({ maxTypes: 10 })).toEqual({
      ...DEFAULT_TARBALL_LIMITS,
      maxTypes: 10,
    })
    expect(() => resolveTarballLimits({ maxUnpackedBytes: -1 })).toThrow(
      'maxUnpackedBytes must be a positive whole number',
    )
    expect(() => resolveTarballLimits({ maxStringLength: 1.5 })).toThrow('maxStringLength')
  })
})

describe('checkEntryPath (properties)', () => {
  const segment = fc
    .stringMatching(/^[A-Za-z0-9_@+-][A-Za-z0-9_.@+-]{0,11}$/)
    .filter((s) => s !== '.' && s !== '..')
  const normalPath = fc
    .array(segment, { minLength: 1, maxLength: 6 })
    .map((parts) => parts.join('/'))

  it('accepts every normal path under package/ and returns it unchanged', () => {
    fc.assert(
      fc.property(normalPath, (path) => {
        expect(checkEntryPath(`package/${path}`, 'file')).toEqual({ ok: true, path })
        expect(checkEntryPath(`package/${path}/`, 'directory')).toEqual({ ok: true, path })
      }),
    )
  })

  it('refuses every path that path normalisation would change', () => {
    const alias = fc
      .tuple(normalPath, normalPath, fc.constantFrom('/./', '/../', '//', '/.//', '/x/../'))
      .map(([a, b, glue]) => `package/${a}${glue}${b}`)
    fc.assert(
      fc.property(alias, (name) => {
        expect(checkEntryPath(name, 'file').ok).toBe(false)
        expect(checkEntryPath(name, 'directory').ok).toBe(false)
      }),
    )
  })

  it('accepts a path only if posix normalisation leaves it as it is', async () => {
    const { posix } = await import('node:path')
    const anyName = fc
      .array(fc.constantFrom('package', 'a', 'B', '.', '..', '', 'x.js', '\\'), { maxLength: 6 })
      .map((parts) => parts.join('/'))
    fc.assert(
      fc.property(anyName, (name) => {
        const checked = checkEntryPath(name, 'file')
        if (checked.ok) {
          expect(posix.normalize(name)).toBe(name)
          expect(name.startsWith('package/')).toBe(true)
          expect(posix.isAbsolute(name)).toBe(false)
          expect(`package/${checked.path}`).toBe(name)
        }
      }),
      { numRuns: 500 },
    )
  })

  it('refuses absolute paths, outside entries and backslashes', () => {
    fc.assert(
      fc.property(normalPath, (path) => {
        expect(checkEntryPath(`/package/${path}`, 'file').ok).toBe(false)
        expect(checkEntryPath(`C:/package/${path}`, 'file').ok).toBe(false)
        expect(checkEntryPath(`package\\${path}`, 'file').ok).toBe(false)
        if (!path.startsWith('package/') && path !== 'package') {
          expect(checkEntryPath(path, 'file')).toEqual({
            ok: false,
            reason: 'is not under package/',
          })
        }
      }),
    )
  })
})
