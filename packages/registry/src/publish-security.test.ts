// Hostile publishes (issue 12): tarballs that break SPEC 5's rules, manifest confusion, limits,
// and squatting of scopes and names — each refused with a reason, nothing stored, no event.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { hashManifest } from '@kite/sdk/tarball'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HOSTILE_CASES, packFiles, regroup } from '../../sdk/test/fixtures/hostile-tarballs.js'
import { simplePlugin } from '../test/fixtures/plugins.js'
import {
  createUser,
  getJson,
  listStoredFiles,
  npm,
  type PluginPackageOptions,
  pluginFiles,
  publishBody,
  rawPublish,
  readStreamUntil,
  startTestRegistry,
  type TestRegistry,
  writeNpmrc,
} from '../test/helpers.js'
import type { PluginDetails, SearchResult } from './catalog-types.js'
import { checkNewName } from './publish-checks.js'

const API = '/-/kite/api/v1'

let t: TestRegistry
let url: string
let alice: string
let mallory: string
let kitebot: string

beforeAll(async () => {
  t = await startTestRegistry({
    scopeOwners: { '@kite': ['kitebot'] },
    limits: { maxUnpackedBytes: 16 * 1024 * 1024 },
  })
  url = t.registry.url
  alice = await createUser(url, 'alice')
  mallory = await createUser(url, 'mallory')
  kitebot = await createUser(url, 'kitebot')
})

afterAll(async () => {
  await t?.close()
})

async function snapshot() {
  const stats = await getJson<{ plugins: number; versions: number; lastEventId: number }>(
    `${url}${API}`,
  )
  return { files: await listStoredFiles(t.storage), stats: stats.body }
}

function files(name: string, group: string, more: Partial<PluginPackageOptions> = {}) {
  return pluginFiles({ name, version: '1.0.0', plugin: simplePlugin(group), ...more })
}

async function publishTarball(name: string, tarball: Buffer, token = alice) {
  const pkg = { name, version: '1.0.0', kite: { manifest: 'dist/kite-plugin.json' } }
  return rawPublish(url, token, publishBody(name, '1.0.0', tarball, pkg), name)
}

describe('what a tarball may hold, at publish', () => {
  it.each(HOSTILE_CASES.map((hostile) => [hostile.name, hostile] as const))(
    'refuses %s, naming the reason; nothing stored, no event',
    async (_name, hostile) => {
      const name = '@acme/kite-plugin-hostile'
      const tarball = await hostile.build(files(name, 'acme.hostile'))
      const before = await snapshot()
      const refused = await publishTarball(name, tarball)
      expect(refused.status).toBeGreaterThanOrEqual(400)
      expect(refused.status).toBeLessThan(500)
      const reason = hostile.reason.replace('64 MiB', '16 MiB')
      expect(refused.body.error).toContain(reason)
      expect(await snapshot()).toEqual(before)
    },
  )

  it('says what a bomb is, not "not valid gzip data"', async () => {
    const bomb = HOSTILE_CASES.find((hostile) => hostile.name.startsWith('a gzip bomb'))
    const refused = await publishTarball(
      '@acme/kite-plugin-bomb',
      await (bomb?.build({}) ?? Buffer.alloc(0)),
    )
    expect(refused).toMatchObject({ status: 413, body: { code: 'TARBALL_TOO_LARGE' } })
    expect(refused.body.error).toBe(
      'the tarball of @acme/kite-plugin-bomb@1.0.0 expands past the 16 MiB limit on unpacked size (maxUnpackedBytes)',
    )
  })

  it('manifest confusion: npm publish of a crafted tarball fails with the entry named', async () => {
    // The checked manifest says group acme.confuse; an alias entry carries hostile.victim.
    const name = '@acme/kite-plugin-confuse'
    const clean = files(name, 'acme.confuse')
    const confusion = HOSTILE_CASES[0]
    const tgz = join(t.dir, 'confuse-1.0.0.tgz')
    await writeFile(tgz, await (confusion?.build(clean) ?? Buffer.alloc(0)))
    const before = await snapshot()
    const npmrc = await writeNpmrc(join(t.dir, 'alice.npmrc'), url, alice)
    const result = await npm(['publish', tgz], {
      cwd: t.dir,
      userconfig: npmrc,
      registry: url,
      cache: join(t.dir, 'npm-cache'),
    })
    expect(result.code).not.toBe(0)
    expect(result.stderr).toContain('entry "package/./dist/kite-plugin.json" has a "." segment')
    expect(await snapshot()).toEqual(before)
    // The victim's group was never claimed: its rightful owner can still publish it.
    const victim = files('@victim/kite-plugin-pay', 'hostile.victim')
    const ok = await rawPublish(
      url,
      mallory,
      publishBody(
        '@victim/kite-plugin-pay',
        '1.0.0',
        await packFiles(victim),
        JSON.parse(String(victim['package.json'])),
      ),
      '@victim/kite-plugin-pay',
    )
    expect(ok.status).toBe(201)
  })

  it('records the hash of the manifest bytes in the catalog and the events', async () => {
    const name = '@acme/kite-plugin-hashed'
    const clean = files(name, 'acme.hashed')
    const before = await snapshot()
    const response = await fetch(`${url}${API}/events`, {
      headers: { 'last-event-id': String(before.stats.lastEventId) },
    })
    const published = await publishTarball(name, await packFiles(clean))
    expect(published.status).toBe(201)
    const expected = hashManifest(Buffer.from(String(clean['dist/kite-plugin.json'])))
    expect(expected).not.toBe(hashManifest(Buffer.from(regroup(clean, 'acme.other'))))
    const details = await getJson<PluginDetails>(`${url}${API}/plugins/${name}`)
    expect(details.body.versions[0]?.manifestHash).toBe(expected)
    const version = await getJson<{ manifestHash: string }>(`${url}${API}/plugins/${name}/1.0.0`)
    expect(version.body.manifestHash).toBe(expected)
    const text = await readStreamUntil(response, 'event: published')
    expect(text).toContain(`"manifestHash":"${expected}"`)
  })
})

describe('limits are configurable', () => {
  it('refuses past a configured type count and string length, and starts only with sane limits', async () => {
    const strict = await startTestRegistry({ limits: { maxTypes: 2, maxStringLength: 40 } })
    try {
      const token = await createUser(strict.registry.url, 'alice')
      const name = '@acme/kite-plugin-limited'
      const many = files(name, 'acme.limited')
      const refused = await rawPublish(
        strict.registry.url,
        token,
        publishBody(name, '1.0.0', await packFiles(many), JSON.parse(String(many['package.json']))),
        name,
      )
      expect(refused.status).toBe(413)
      expect(refused.body.error).toMatch(
        /past the limit of (2 per plugin \(maxTypes\)|40 \(maxStringLength\))/,
      )
    } finally {
      await strict.close()
    }
    await expect(startTestRegistry({ limits: { maxManifestBytes: 0 } })).rejects.toThrow(
      'the registry options are invalid: tarball limit maxManifestBytes must be a positive whole number',
    )
    await expect(startTestRegistry({ scopeOwners: { kite: ['x'] } })).rejects.toThrow(
      '"kite" is not an npm scope such as @kite',
    )
  })
})

describe('names and scopes', () => {
  async function publishAs(token: string, name: string, group: string) {
    const pkgFiles = files(name, group)
    return rawPublish(
      url,
      token,
      publishBody(
        name,
        '1.0.0',
        await packFiles(pkgFiles),
        JSON.parse(String(pkgFiles['package.json'])),
      ),
      name,
    )
  }

  it('lets the configured owners publish in @kite and refuses anyone else (403)', async () => {
    expect((await publishAs(kitebot, '@kite/plugin-owned', 'kite.owned')).status).toBe(201)
    const before = await snapshot()
    const squat = await publishAs(mallory, '@kite/plugin-core-next', 'kite.corenext')
    expect(squat).toMatchObject({ status: 403, body: { code: 'SCOPE_OWNED' } })
    expect(squat.body.error).toBe(
      'mallory may not publish @kite/plugin-core-next: the scope @kite belongs to kitebot (set in the registry config); publish under a scope of your own',
    )
    expect(await snapshot()).toEqual(before)
  })

  it('gives an unconfigured scope to its first publisher', async () => {
    expect((await publishAs(mallory, '@mal/kite-plugin-a', 'mal.a')).status).toBe(201)
    const before = await snapshot()
    const other = await publishAs(alice, '@mal/kite-plugin-b', 'mal.b')
    expect(other).toMatchObject({ status: 403, body: { code: 'SCOPE_OWNED' } })
    expect(other.body.error).toContain('the scope @mal belongs to mallory;')
    expect(await snapshot()).toEqual(before)
    expect((await publishAs(mallory, '@mal/kite-plugin-b', 'mal.b')).status).toBe(201)
    expect((await getJson(`${url}${API}/scopes/@mal`)).body).toEqual({
      scope: '@mal',
      owners: ['mallory'],
      configured: false,
    })
    expect((await getJson(`${url}${API}/scopes/@kite`)).body).toEqual({
      scope: '@kite',
      owners: ['kitebot'],
      configured: true,
    })
    expect((await getJson(`${url}${API}/scopes/not-a-scope`)).status).toBe(404)
  })

  it('refuses upper-case names, also from the scope owner', async () => {
    const before = await snapshot()
    for (const [token, name] of [
      [mallory, '@kite/Plugin-Core'],
      [kitebot, '@kite/Plugin-Core'],
      [alice, 'Kite-Plugin-Shout'],
    ] as const) {
      // A plain package: the SDK would not even build a plugin manifest for such a name.
      const pkg = { name, version: '1.0.0' }
      const tarball = await packFiles({ 'package.json': JSON.stringify(pkg) })
      const refused = await rawPublish(url, token, publishBody(name, '1.0.0', tarball, pkg), name)
      expect(refused.status, name).toBe(400)
      expect(refused.body.code).toBe('NAME_INVALID')
      expect(refused.body.error).toContain(`"${name}" is not a valid name for a new package`)
      expect(refused.body.error).toContain('name can no longer contain capital letters')
    }
    expect(await snapshot()).toEqual(before)
    // And nothing is served under the name.
    expect((await fetch(`${url}/@kite%2fPlugin-Core`)).status).toBe(404)
  })

  it('refuses a look-alike of an existing name by case', () => {
    expect(() => checkNewName('@legacy/foo-bar', ['@legacy/Foo-Bar', 'other'])).toThrow(
      '"@legacy/foo-bar" differs from the existing package @legacy/Foo-Bar only by case',
    )
    expect(() => checkNewName('@legacy/foo-baz', ['@legacy/Foo-Bar'])).not.toThrow()
    expect(() => checkNewName('../evil', [])).toThrow('is not a valid name for a new package')
  })
})

describe('search answers stay small', () => {
  it('carries no manifest and at most 50 type ids per hit', async () => {
    const name = '@acme/kite-plugin-wide'
    const wide = pluginFiles({
      name,
      version: '1.0.0',
      plugin: simplePlugin('acme.wide'),
      mutateManifest(manifest) {
        const [task] = manifest.tasks as Record<string, unknown>[]
        manifest.tasks = Array.from({ length: 400 }, (_, index) => ({
          ...task,
          name: `Task${index}`,
          type: `acme.wide.Task${index}`,
        }))
        manifest.description = 'wide '.repeat(2000)
      },
    })
    const published = await rawPublish(
      url,
      alice,
      publishBody(name, '1.0.0', await packFiles(wide), JSON.parse(String(wide['package.json']))),
      name,
    )
    expect(published.status).toBe(201)
    const response = await fetch(`${url}${API}/plugins?q=wide`)
    const text = await response.text()
    const result = JSON.parse(text) as SearchResult
    const hit = result.results.find((item) => item.name === name)
    expect(hit?.typeCount).toBe(400)
    expect(hit?.types).toHaveLength(50)
    expect(hit?.description.length).toBeLessThanOrEqual(300)
    expect(text).not.toContain('"manifest"')
    expect(text).not.toContain('"properties"')
    expect(text.length).toBeLessThan(8 * 1024)
  })
})
