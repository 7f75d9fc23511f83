// The plugin store applies the registry's tarball rules at install (defence in depth) and
// installs a version only if its manifest is the one the registry's catalog recorded.
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { definePlugin, defineTask, type PluginPermissions, z } from '@kite/sdk'
import { createManifest } from '@kite/sdk/host'
import { hashManifest } from '@kite/sdk/tarball'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type Files,
  HOSTILE_CASES,
  packFiles,
  regroup,
} from '../../../sdk/test/fixtures/hostile-tarballs.js'
import { useTempDir } from '../../../sdk/test/scratch.js'
import { silentLogger } from '../executor/engine.js'
import { createPluginCatalog } from './plugin-catalog.js'
import { createPluginStore, type PluginStoreOptions, unpackPlugin } from './plugin-store.js'

const NAME = '@acme/kite-plugin-confuse'
const VERSION = '1.0.0'

function pluginFiles(group = 'acme.confuse', permissions?: PluginPermissions): Files {
  const pkg = {
    name: NAME,
    version: VERSION,
    type: 'module',
    kite: { manifest: 'dist/kite-plugin.json' },
  }
  const plugin = definePlugin({
    group,
    title: 'Confuse',
    tasks: [
      defineTask({
        name: 'Pay',
        properties: z.object({ amount: z.number() }),
        run: () => {},
      }),
    ],
    ...(permissions ? { permissions } : {}),
  })
  const manifest = createManifest(plugin, pkg, { entry: 'dist/index.js', sdkRange: '^0.1.0' })
  return {
    'package.json': JSON.stringify(pkg),
    'dist/index.js': 'export default {}\n',
    'dist/kite-plugin.json': JSON.stringify(manifest, null, 2),
  }
}

const tempDir = useTempDir('kite-plugin-store-')

describe('unpackPlugin: the registry rules, at install', () => {
  it('writes a valid plugin and returns the hash of the manifest bytes it wrote', async () => {
    const files = pluginFiles()
    const dir = join(tempDir(), 'valid')
    const { manifestHash } = await unpackPlugin(await packFiles(files), dir, {
      name: NAME,
      version: VERSION,
    })
    expect(manifestHash).toBe(hashManifest(await readFile(join(dir, 'dist/kite-plugin.json'))))
    expect(await readFile(join(dir, 'dist/kite-plugin.json'), 'utf8')).toBe(
      files['dist/kite-plugin.json'],
    )
    expect((await readdir(dir)).sort()).toEqual(['dist', 'package.json'])
  })

  it.each(HOSTILE_CASES.map((hostile) => [hostile.name, hostile] as const))(
    'refuses %s placed straight into the install path; nothing written',
    async (_name, hostile) => {
      const dir = join(tempDir(), `hostile-${hostile.name.replace(/\W+/g, '-')}`)
      const tarball = await hostile.build(pluginFiles())
      const error = await unpackPlugin(tarball, dir, { name: NAME, version: VERSION }).catch(
        (caught: Error) => caught,
      )
      expect(error).toMatchObject({ code: 'PLUGIN_INVALID' })
      expect((error as Error).message).toContain(`plugin ${NAME}@${VERSION}: `)
      expect((error as Error).message).toContain(hostile.reason)
      expect(existsSync(dir)).toBe(false)
    },
  )

  it('honours configured limits', async () => {
    const error = await unpackPlugin(await packFiles(pluginFiles()), join(tempDir(), 'limited'), {
      name: NAME,
      version: VERSION,
      limits: { maxTypes: 1, maxStringLength: 10 },
    }).catch((caught: Error) => caught)
    expect((error as Error).message).toContain('(maxStringLength)')
  })

  it('refuses a tarball of another package or one that is not a plugin', async () => {
    const files = pluginFiles()
    await expect(
      unpackPlugin(await packFiles(files), join(tempDir(), 'other'), {
        name: NAME,
        version: '2.0.0',
      }),
    ).rejects.toThrow(`the tarball's package.json is ${NAME}@1.0.0`)
    await expect(
      unpackPlugin(
        await packFiles({ 'package.json': JSON.stringify({ name: NAME, version: VERSION }) }),
        join(tempDir(), 'plain'),
        { name: NAME, version: VERSION },
      ),
    ).rejects.toThrow('it is not a Kite plugin')
  })
})

/**
 * A loopback registry speaking just enough npm protocol for pacote (packument + tarball) and
 * just enough catalog API for the store (the recorded manifest hash) — so it can serve a
 * tarball whose manifest differs from the one its catalog vouches for.
 */
async function startRegistry(serve: { tarball: Buffer; catalogHash?: string }) {
  const integrity = `sha512-${createHash('sha512').update(serve.tarball).digest('base64')}`
  /** Every URL asked for, in order. */
  const requests: string[] = []
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/'
    requests.push(url)
    const send = (status: number, body: unknown, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type })
      res.end(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body))
    }
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    if (url === '/@acme%2fkite-plugin-confuse' || url === '/@acme%2Fkite-plugin-confuse') {
      return send(200, {
        name: NAME,
        'dist-tags': { latest: VERSION },
        versions: {
          [VERSION]: {
            name: NAME,
            version: VERSION,
            dist: { tarball: `${origin}/confuse-1.0.0.tgz`, integrity },
          },
        },
      })
    }
    if (url === '/confuse-1.0.0.tgz') return send(200, serve.tarball, 'application/octet-stream')
    if (url === '/-/kite/api/v1/plugins/@acme%2fkite-plugin-confuse') {
      if (!serve.catalogHash) return send(404, { error: 'no plugin' })
      return send(200, {
        name: NAME,
        versions: [{ version: VERSION, manifestHash: serve.catalogHash }],
      })
    }
    send(404, { error: `nothing at ${url}` })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

describe('install checks the manifest against the catalog', () => {
  let registry: Awaited<ReturnType<typeof startRegistry>> | undefined

  afterEach(async () => {
    await registry?.close()
    registry = undefined
  })

  async function install(
    tarball: Buffer,
    catalogHash: string | undefined,
    knownHash?: string,
    permissions?: PluginStoreOptions['permissions'],
  ) {
    registry = await startRegistry({ tarball, ...(catalogHash ? { catalogHash } : {}) })
    const dir = await mkdtemp(join(tempDir(), 'store-'))
    const catalog = createPluginCatalog()
    const store = createPluginStore({
      dir,
      registry: registry.url,
      catalog,
      security: { includes: [], excludes: [] },
      logger: silentLogger,
      ...(permissions ? { permissions } : {}),
    })
    const outcome = await store
      .install(NAME, VERSION, knownHash ? { manifestHash: knownHash } : {})
      .then(
        (result) => result,
        (error: Error) => error,
      )
    return { outcome, catalog, target: join(dir, NAME, VERSION), dir }
  }

  it('installs a version whose manifest is the one the catalog recorded', async () => {
    const files = pluginFiles()
    const checked = hashManifest(Buffer.from(String(files['dist/kite-plugin.json'])))
    const { outcome, catalog, target } = await install(await packFiles(files), checked)
    expect(outcome).toMatchObject({ installed: true })
    expect(catalog.get(NAME, VERSION)?.manifest.group).toBe('acme.confuse')
    const record = JSON.parse(await readFile(join(target, '.kite-install.json'), 'utf8'))
    expect(record.manifestHash).toBe(checked)
    // One round trip for the packument: the tarball's fetch does not ask for it again.
    const packuments = registry?.requests.filter((url) => url.startsWith('/@acme%2')) ?? []
    expect(packuments).toHaveLength(1)
    expect(registry?.requests).toContain('/confuse-1.0.0.tgz')
  })

  it('refuses a version that asks for more permissions than plugins.permissions grants, listing both', async () => {
    const files = pluginFiles('acme.confuse', { childProcess: true, fsRead: ['config:roots'] })
    const checked = hashManifest(Buffer.from(String(files['dist/kite-plugin.json'])))
    const grants = {
      grants: { '@acme/*': { fsRead: ['/srv'] } },
      configurations: [{ type: 'acme.confuse', values: { roots: ['/srv/in'] } }],
    }
    const { outcome, catalog, target } = await install(
      await packFiles(files),
      checked,
      undefined,
      grants,
    )
    expect(outcome).toMatchObject({ code: 'PLUGIN_PERMISSION' })
    expect((outcome as Error).message).toBe(
      `plugin ${NAME}@${VERSION} asks for permissions this runtime does not grant it: childProcess. It asks for: childProcess, fsRead config:roots; plugins.permissions grants it: fsRead /srv. Grant them in kite.yaml (plugins.permissions."${NAME}") or use a version that asks for less.`,
    )
    expect(catalog.get(NAME, VERSION)).toBeUndefined()
    expect(existsSync(target)).toBe(false)
    // Granted: the same tarball installs.
    await registry?.close()
    const granted = await install(await packFiles(files), checked, undefined, {
      ...grants,
      grants: { '@acme/*': { fsRead: ['/srv'], childProcess: true } },
    })
    expect(granted.outcome).toMatchObject({ installed: true })
    expect(granted.catalog.get(NAME, VERSION)?.manifest.permissions).toEqual({
      childProcess: true,
      fsRead: ['config:roots'],
    })
  })

  it('manifest confusion: refuses a tarball whose manifest differs from the catalog record', async () => {
    // The registry checked (and recorded) group acme.confuse; the tarball served says hostile.victim.
    const files = pluginFiles()
    const checked = hashManifest(Buffer.from(String(files['dist/kite-plugin.json'])))
    const swapped = { ...files, 'dist/kite-plugin.json': regroup(files, 'hostile.victim') }
    const { outcome, catalog, target, dir } = await install(await packFiles(swapped), checked)
    expect(outcome).toBeInstanceOf(Error)
    expect((outcome as Error).message).toContain(
      `plugin ${NAME}@${VERSION}: its manifest dist/kite-plugin.json (sha256-`,
    )
    expect((outcome as Error).message).toContain(
      `differs from the registry catalog's record (${checked})`,
    )
    expect(catalog.get(NAME, VERSION)).toBeUndefined()
    expect(catalog.ownerOf('hostile.victim.Pay')).toBeUndefined()
    expect(existsSync(target)).toBe(false)
    expect((await readdir(join(dir, NAME))).filter((entry) => !entry.startsWith('.'))).toEqual([])
  })

  it('refuses a hash passed by the event stream that the tarball does not match', async () => {
    const files = pluginFiles()
    const { outcome, catalog } = await install(await packFiles(files), undefined, 'sha256-AAAA')
    expect((outcome as Error).message).toContain(
      "differs from the registry catalog's record (sha256-AAAA)",
    )
    expect(catalog.get(NAME, VERSION)).toBeUndefined()
  })

  it('refuses a version the catalog has no record of', async () => {
    const { outcome, catalog } = await install(await packFiles(pluginFiles()), undefined)
    expect((outcome as Error).message).toContain(
      "the registry's catalog has no record of its manifest",
    )
    expect(catalog.get(NAME, VERSION)).toBeUndefined()
  })

  it('refuses a hostile tarball served by a registry, whatever its catalog says', async () => {
    const files = pluginFiles()
    const checked = hashManifest(Buffer.from(String(files['dist/kite-plugin.json'])))
    const confusion = HOSTILE_CASES[0]
    const { outcome, catalog } = await install(
      await (confusion?.build(files) ?? Buffer.alloc(0)),
      checked,
    )
    expect((outcome as Error).message).toContain(confusion?.reason)
    expect(catalog.get(NAME, VERSION)).toBeUndefined()
  })
})
