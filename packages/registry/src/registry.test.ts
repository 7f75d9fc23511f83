import { createHash } from 'node:crypto'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pokemonV1, pokemonV1_1, pokemonV2, simplePlugin } from '../test/fixtures/plugins.js'
import {
  createUser,
  getJson,
  listStoredFiles,
  type NpmResult,
  npm,
  openEventStream,
  packTarball,
  pluginFiles,
  publishBody,
  publishPlugin,
  rawPublish,
  readStreamUntil,
  startTestRegistry,
  type TestRegistry,
  writeFiles,
  writeNpmrc,
  writePluginPackage,
} from '../test/helpers.js'
import type { PluginDetails, SearchResult, TypeDetails } from './catalog-types.js'
import type { ManifestDiff } from './schema-diff.js'

const PKG = '@acme/kite-plugin-pokemon'
const API = '/-/kite/api/v1'

let t: TestRegistry
let url: string
let cache: string
let aliceRc: string
let bobRc: string
let aliceToken: string
let bobToken: string

function sha512(data: Buffer): string {
  return `sha512-${createHash('sha512').update(data).digest('base64')}`
}

function run(args: string[], cwd: string, userconfig: string, prompts?: Array<[RegExp, string]>) {
  return npm(args, { cwd, userconfig, registry: url, cache, prompts })
}

async function publishWithNpm(dir: string, userconfig = aliceRc): Promise<NpmResult> {
  return run(['publish'], dir, userconfig)
}

async function plugin(name = PKG) {
  return getJson<
    PluginDetails & {
      versions: Array<{ version: string; deprecated: string | null; tarball: string }>
    }
  >(`${url}${API}/plugins/${name}`)
}

beforeAll(async () => {
  t = await startTestRegistry({ heartbeatMs: 250 })
  url = t.registry.url
  cache = join(t.dir, 'npm-cache')
  aliceRc = join(t.dir, 'alice.npmrc')
  await writeFile(aliceRc, '')
})

afterAll(async () => {
  await t?.close()
})

describe('accounts', () => {
  it('creates an account with npm adduser, and one through the user endpoint', async () => {
    const added = await run(['adduser', '--auth-type=legacy'], t.dir, aliceRc, [
      [/Username:/, 'alice'],
      [/Password:/, 'correct-horse-9'],
      [/Email/, 'alice@example.com'],
    ])
    expect(added.code, added.stderr).toBe(0)
    const npmrc = await readFile(aliceRc, 'utf8')
    expect(npmrc).toContain(`${url.replace('http:', '')}/:_authToken=`)
    aliceToken = (npmrc.match(/_authToken=(\S+)/) as RegExpMatchArray)[1] as string
    const whoami = await run(['whoami'], t.dir, aliceRc)
    expect(whoami.stdout.trim()).toBe('alice')

    bobToken = await createUser(url, 'bob')
    bobRc = await writeNpmrc(join(t.dir, 'bob.npmrc'), url, bobToken)
    expect((await run(['whoami'], t.dir, bobRc)).stdout.trim()).toBe('bob')
  })
})

describe('publishing plugins', () => {
  it('publishes with npm and has it indexed, with its event, when npm returns', async () => {
    const stream = await openEventStream(url)
    const dir = await writePluginPackage(join(t.dir, 'work/pokemon-1.0.0'), {
      name: PKG,
      version: '1.0.0',
      plugin: pokemonV1(),
    })
    const published = await publishWithNpm(dir)
    expect(published.code, published.stderr).toBe(0)
    // Indexed before the response: no waiting needed.
    const { body } = await plugin()
    expect(body.versions.map((version) => version.version)).toEqual(['1.0.0'])
    expect(body).toMatchObject({ group: 'acme.pokemon', latest: '1.0.0', maintainers: ['alice'] })
    const [event] = await stream.waitFor(1)
    stream.close()
    expect(event).toMatchObject({
      event: 'published',
      data: {
        name: PKG,
        version: '1.0.0',
        tarball: `${url}/${PKG}/-/kite-plugin-pokemon-1.0.0.tgz`,
      },
    })
    const view = await run(['view', `${PKG}@1.0.0`, 'dist.integrity'], t.dir, aliceRc)
    expect(view.stdout.trim()).toBe(event?.data.integrity)
    const tarball = Buffer.from(await (await fetch(String(event?.data.tarball))).arrayBuffer())
    expect(sha512(tarball)).toBe(event?.data.integrity)
  })

  it('serves the manifest, rendered docs and type lookups', async () => {
    const version = await getJson<{
      latest: boolean
      manifest: { tasks: Array<{ type: string }> }
      docs: { plugin: string; types: Record<string, string> }
    }>(`${url}${API}/plugins/${PKG}/1.0.0`)
    expect(version.status).toBe(200)
    expect(version.body.latest).toBe(true)
    expect(version.body.manifest.tasks[0]?.type).toBe('acme.pokemon.Fetch')
    expect(version.body.docs.plugin).toContain('| `acme.pokemon.Sighting` | trigger |')
    expect(version.body.docs.types['acme.pokemon.Fetch']).toContain('# Fetch a Pokémon')
    expect(version.body.docs.types['acme.pokemon.Fetch']).toContain(
      '| `pokemon` | `string` | `"pikachu"` |',
    )

    const markdown = await fetch(`${url}${API}/plugins/${PKG}/latest/docs/acme.pokemon.Fetch`)
    expect(markdown.headers.get('content-type')).toContain('text/markdown')
    expect(await markdown.text()).toContain('## Outputs')

    const type = await getJson<TypeDetails>(`${url}${API}/types/acme.pokemon.Sighting`)
    expect(type.body).toMatchObject({
      type: 'acme.pokemon.Sighting',
      kind: 'trigger',
      name: PKG,
      latest: '1.0.0',
    })
    const missing = await getJson<{ error: string }>(`${url}${API}/types/acme.pokemon.Nope`)
    expect(missing).toEqual({
      status: 404,
      body: { error: 'no plugin provides the type "acme.pokemon.Nope"' },
    })
  })

  it('installs the published plugin with npm', async () => {
    const consumer = join(t.dir, 'work/consumer')
    await writeFiles(consumer, {
      'package.json': '{"name":"consumer","version":"1.0.0","private":true}',
    })
    const installed = await run(
      ['install', `${PKG}@1.0.0`, '--legacy-peer-deps'],
      consumer,
      aliceRc,
    )
    expect(installed.code, installed.stderr).toBe(0)
    const manifest = JSON.parse(
      await readFile(join(consumer, 'node_modules', PKG, 'dist/kite-plugin.json'), 'utf8'),
    )
    expect(manifest).toMatchObject({ name: PKG, version: '1.0.0', group: 'acme.pokemon' })
  })

  it('publishes newer versions and diffs any two of them', async () => {
    for (const [version, definition] of [
      ['1.1.0', pokemonV1_1()],
      ['2.0.0', pokemonV2()],
    ] as const) {
      const dir = await writePluginPackage(join(t.dir, `work/pokemon-${version}`), {
        name: PKG,
        version,
        plugin: definition,
      })
      const result = await publishWithNpm(dir)
      expect(result.code, result.stderr).toBe(0)
    }
    const compatible = await getJson<ManifestDiff>(`${url}${API}/plugins/${PKG}/diff/1.0.0/1.1.0`)
    expect(compatible.body.breaking).toBe(false)
    expect(new Set(compatible.body.changes.map((change) => change.kind))).toEqual(
      new Set(['type-added', 'property-added', 'enum-value-added', 'output-added']),
    )
    const major = await getJson<ManifestDiff>(`${url}${API}/plugins/${PKG}/diff/1.0.0/2.0.0`)
    expect(major.body.breaking).toBe(true)
    const breakingKinds = new Set(
      major.body.changes.filter((change) => change.breaking).map((change) => change.kind),
    )
    for (const kind of [
      'type-removed',
      'property-required',
      'property-narrowed',
      'enum-value-removed',
      'output-removed',
      'default-changed',
    ]) {
      expect(breakingKinds, kind).toContain(kind)
    }
    const removed = await getJson<ManifestDiff>(`${url}${API}/plugins/${PKG}/diff/1.1.0/2.0.0`)
    expect(removed.body.changes).toContainEqual(
      expect.objectContaining({
        kind: 'property-removed',
        path: 'properties.language',
        breaking: true,
      }),
    )
    const { body } = await plugin()
    expect(body.latest).toBe('2.0.0')
    expect(body.versions.map((version) => version.version)).toEqual(['2.0.0', '1.1.0', '1.0.0'])
  })

  it('searches names, groups, types, titles, descriptions and keywords', async () => {
    const search = async (q: string) =>
      (await getJson<SearchResult>(`${url}${API}/plugins?q=${encodeURIComponent(q)}`)).body
    for (const q of [
      'pokemon',
      'acme.pokemon',
      'Sighting',
      'acme.pokemon.Fetch',
      'pokédex',
      'kite-plugin',
      'sight',
    ]) {
      const result = await search(q)
      expect(
        result.results.map((hit) => hit.name),
        q,
      ).toEqual([PKG])
    }
    expect((await search('digimon')).total).toBe(0)
    const all = await search('')
    expect(all.total).toBe(1)
    const typo = await search('pokmon')
    expect(typo.results[0]?.matches[0]).toMatchObject({ how: 'fuzzy', term: 'pokemon' })
  })

  it('filters search by kind, group and keyword, and answers 400 to garbage filters', async () => {
    const get = (query: string) => fetch(`${url}${API}/plugins?${query}`)
    const names = async (query: string) =>
      ((await (await get(query)).json()) as SearchResult).results.map((hit) => hit.name)
    // The latest version (2.0.0) has a task and a trigger; only 1.x had a condition.
    expect(await names('kind=trigger')).toEqual([PKG])
    expect(await names('kind=condition&q=pokemon')).toEqual([])
    expect(await names('group=acme')).toEqual([PKG])
    expect(await names('group=acme.pokemo')).toEqual([])
    expect(await names('keyword=Kite-Plugin&q=sight')).toEqual([PKG])
    expect(await names('keyword=kite&q=sight')).toEqual([])
    for (const [query, message] of [
      ['kind=banana', 'kind must be one of task, trigger, condition'],
      ['kind=task&kind=trigger', 'give the kind filter once'],
      ['group=..%2F..', 'group must be a dotted group'],
      [`group=${'a'.repeat(300)}`, 'group must be a dotted group'],
      [`keyword=${'k'.repeat(101)}`, 'keyword must be 1 to 100 printable characters'],
      ['keyword=%00%01', 'keyword must be 1 to 100 printable characters'],
    ] as const) {
      const response = await get(query)
      expect(response.status, query).toBe(400)
      expect(((await response.json()) as { error: string }).error, query).toContain(message)
    }
    const page = await fetch(`${url}/-/kite/?kind=nope`)
    expect(page.status).toBe(400)
    expect(await page.text()).toContain('kind must be one of')
    // Garbage paging and a huge query are answered, not refused, and the server stays up.
    const odd = await get(`page=-3&size=abc&q=${encodeURIComponent('%$#@!'.repeat(500))}`)
    expect(odd.status).toBe(200)
    expect(((await odd.json()) as SearchResult).page).toBe(1)
    expect((await get('q=pokemon')).status).toBe(200)
  })
})

describe('refused publishes leave no trace', () => {
  async function snapshot() {
    const stats = await getJson<{ plugins: number; versions: number; lastEventId: number }>(
      `${url}${API}`,
    )
    return { files: await listStoredFiles(t.storage), stats: stats.body }
  }

  async function expectRefused(
    result: NpmResult,
    before: Awaited<ReturnType<typeof snapshot>>,
    message: string | RegExp,
  ) {
    expect(result.code).not.toBe(0)
    expect(result.stderr).toMatch(message)
    expect(await snapshot()).toEqual(before)
  }

  async function npmPublishBad(
    name: string,
    options: Partial<Parameters<typeof writePluginPackage>[1]>,
    rc = aliceRc,
  ) {
    const dir = await writePluginPackage(
      join(t.dir, `work/bad-${name.replace(/\W/g, '-')}-${Date.now()}`),
      {
        name,
        version: '1.0.0',
        plugin: simplePlugin('acme.fresh'),
        ...options,
      },
    )
    return publishWithNpm(dir, rc)
  }

  it('refuses a manifest that is not JSON', async () => {
    const before = await snapshot()
    const result = await npmPublishBad('@acme/kite-plugin-broken', {
      manifestText: '{ "manifestVersion": 1, ',
    })
    await expectRefused(
      result,
      before,
      /400 Bad Request - PUT .* - @acme\/kite-plugin-broken@1\.0\.0 is not a valid Kite plugin: dist\/kite-plugin\.json is not valid JSON/,
    )
  })

  it('refuses a manifest that fails the schema', async () => {
    const before = await snapshot()
    const result = await npmPublishBad('@acme/kite-plugin-schema', {
      mutateManifest(manifest) {
        manifest.title = ''
        manifest.manifestVersion = 7
      },
    })
    await expectRefused(result, before, /invalid plugin manifest/)
    expect(result.stderr).toContain('manifestVersion')
  })

  it('refuses a type outside the group', async () => {
    const before = await snapshot()
    const result = await npmPublishBad('@acme/kite-plugin-outside', {
      mutateManifest(manifest) {
        ;(manifest.tasks as Array<{ type: string }>)[0]!.type = 'other.group.Echo'
      },
    })
    await expectRefused(
      result,
      before,
      /type "other\.group\.Echo" is outside the group "acme\.fresh"/,
    )
  })

  it('refuses a group that belongs to another package, or overlaps one', async () => {
    const before = await snapshot()
    const owned = await npmPublishBad(
      '@bob/kite-plugin-pika',
      { plugin: simplePlugin('acme.pokemon') },
      bobRc,
    )
    await expectRefused(
      owned,
      before,
      /409 Conflict - PUT .* - @bob\/kite-plugin-pika@1\.0\.0: the group "acme\.pokemon" belongs to @acme\/kite-plugin-pokemon/,
    )
    const nested = await npmPublishBad(
      '@bob/kite-plugin-pika',
      { plugin: simplePlugin('acme.pokemon.cards') },
      bobRc,
    )
    await expectRefused(
      nested,
      before,
      /overlaps the group "acme\.pokemon" of @acme\/kite-plugin-pokemon/,
    )
  })

  it('refuses an @kite/sdk range that is not a semver range', async () => {
    const before = await snapshot()
    const result = await npmPublishBad('@acme/kite-plugin-range', { sdkRange: 'the newest one' })
    await expectRefused(
      result,
      before,
      /the @kite\/sdk range "the newest one" is not a valid semver range/,
    )
  })

  it('refuses a corrupt tarball', async () => {
    const before = await snapshot()
    const name = '@acme/kite-plugin-corrupt'
    const good = await packTarball(
      pluginFiles({ name, version: '1.0.0', plugin: simplePlugin('acme.corrupt') }),
    )
    const garbage = Buffer.from('this is not a tarball at all')
    const notGzip = await rawPublish(url, aliceToken, publishBody(name, '1.0.0', garbage), name)
    expect(notGzip).toMatchObject({ status: 400, body: { code: 'TARBALL_CORRUPT' } })
    expect(notGzip.body.error).toContain('is corrupt: it is not valid gzip data')
    const { gunzipSync, gzipSync } = await import('node:zlib')
    const truncated = gzipSync(gunzipSync(good).subarray(0, 700))
    const cut = await rawPublish(url, aliceToken, publishBody(name, '1.0.0', truncated), name)
    expect(cut.body.error).toContain('is corrupt: it is not a readable tar archive')
    const body = publishBody(name, '1.0.0', good)
    ;(body.versions['1.0.0'] as { dist: { integrity: string } }).dist.integrity = sha512(garbage)
    const mismatch = await rawPublish(url, aliceToken, body, name)
    expect(mismatch.body.error).toContain('does not match its declared integrity')
    expect(await snapshot()).toEqual(before)
  })

  it('refuses a publish without an account (401)', async () => {
    const before = await snapshot()
    const name = '@acme/kite-plugin-anon'
    const files = pluginFiles({ name, version: '1.0.0', plugin: simplePlugin('acme.anon') })
    const anonymous = await rawPublish(
      url,
      undefined,
      publishBody(name, '1.0.0', await packTarball(files)),
      name,
    )
    expect(anonymous.status).toBe(401)
    const badTokenRc = await writeNpmrc(join(t.dir, 'bad.npmrc'), url, 'not-a-real-token')
    const result = await npmPublishBad(name, { plugin: simplePlugin('acme.anon') }, badTokenRc)
    await expectRefused(result, before, /E401/)
  })

  it("refuses a new version of someone else's package (403)", async () => {
    const before = await snapshot()
    const result = await npmPublishBad(PKG, { version: '3.0.0', plugin: pokemonV2() }, bobRc)
    await expectRefused(
      result,
      before,
      /403 Forbidden - PUT .* - bob is not a maintainer of @acme\/kite-plugin-pokemon; only its maintainers \(alice\) may publish/,
    )
  })

  it('refuses to publish a version again', async () => {
    const before = await snapshot()
    const again = await npmPublishBad(PKG, { version: '1.0.0', plugin: pokemonV1() })
    await expectRefused(
      again,
      before,
      /cannot publish over the previously published versions: 1\.0\.0/,
    )
    // npm checks on its side; the registry refuses too when a client does not.
    const files = pluginFiles({ name: PKG, version: '1.0.0', plugin: pokemonV1() })
    const raw = await rawPublish(
      url,
      aliceToken,
      publishBody(PKG, '1.0.0', await packTarball(files)),
      PKG,
    )
    expect(raw).toEqual({
      status: 409,
      body: {
        code: 'VERSION_EXISTS',
        error: `${PKG}@1.0.0 is already published; versions are immutable, so bump the version and publish again`,
      },
    })
    expect(await snapshot()).toEqual(before)
  })
})

describe('deprecate, dist-tags and unpublish', () => {
  it('records npm dist-tag changes, for maintainers only', async () => {
    const refused = await run(['dist-tag', 'add', `${PKG}@1.0.0`, 'stable'], t.dir, bobRc)
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toContain('bob is not a maintainer of @acme/kite-plugin-pokemon')
    const added = await run(['dist-tag', 'add', `${PKG}@1.0.0`, 'stable'], t.dir, aliceRc)
    expect(added.code, added.stderr).toBe(0)
    const { body } = await plugin()
    expect(body.distTags).toEqual({ latest: '2.0.0', stable: '1.0.0' })
    const stable = await getJson<{ version: string }>(`${url}${API}/plugins/${PKG}/stable`)
    expect(stable.body.version).toBe('1.0.0')
  })

  it('records npm deprecate, for maintainers only', async () => {
    const { body: stats } = await getJson<{ lastEventId: number }>(`${url}${API}`)
    const stream = await openEventStream(url, stats.lastEventId)
    const refused = await run(['deprecate', `${PKG}@1.0.0`, 'nope'], t.dir, bobRc)
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toContain('bob is not a maintainer of @acme/kite-plugin-pokemon')
    const result = await run(
      ['deprecate', `${PKG}@1.0.0`, 'Use 2.x: it fetches by number too'],
      t.dir,
      aliceRc,
    )
    expect(result.code, result.stderr).toBe(0)
    const [event] = await stream.waitFor(1)
    stream.close()
    expect(event).toMatchObject({
      id: stats.lastEventId + 1,
      event: 'deprecated',
      data: { name: PKG, version: '1.0.0', deprecated: 'Use 2.x: it fetches by number too' },
    })
    const { body } = await plugin()
    expect(body.versions.find((version) => version.version === '1.0.0')?.deprecated).toBe(
      'Use 2.x: it fetches by number too',
    )
  })

  it('records npm unpublish of a version, for maintainers only', async () => {
    const { body: stats } = await getJson<{ lastEventId: number }>(`${url}${API}`)
    const stream = await openEventStream(url, stats.lastEventId)
    const refused = await run(['unpublish', `${PKG}@1.1.0`], t.dir, bobRc)
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toContain('bob is not a maintainer of @acme/kite-plugin-pokemon')
    const result = await run(['unpublish', `${PKG}@1.1.0`], t.dir, aliceRc)
    expect(result.code, result.stderr).toBe(0)
    const [event] = await stream.waitFor(1)
    stream.close()
    expect(event).toMatchObject({ event: 'unpublished', data: { name: PKG, version: '1.1.0' } })
    const { body } = await plugin()
    expect(body.versions.map((version) => version.version)).toEqual(['2.0.0', '1.0.0'])
    expect((await getJson(`${url}${API}/types/acme.pokemon.List`)).status).toBe(404)
    expect(await listStoredFiles(t.storage)).not.toContain(
      '@acme/kite-plugin-pokemon/kite-plugin-pokemon-1.1.0.tgz',
    )
  })
})

describe('concurrency, restarts and reconnects', () => {
  it('indexes 20 concurrent npm publishes of different plugins, with 20 events', async () => {
    const { body: stats } = await getJson<{ lastEventId: number }>(`${url}${API}`)
    const stream = await openEventStream(url, stats.lastEventId)
    const names = Array.from({ length: 20 }, (_, index) => `@crowd/kite-plugin-p${index}`)
    const dirs = await Promise.all(
      names.map((name, index) =>
        writePluginPackage(join(t.dir, `work/crowd-${index}`), {
          name,
          version: '1.0.0',
          plugin: simplePlugin(`crowd.p${index}`),
        }),
      ),
    )
    const results = await Promise.all(dirs.map((dir) => publishWithNpm(dir, bobRc)))
    for (const result of results) expect(result.code, result.stderr).toBe(0)
    const events = await stream.waitFor(20, 30_000)
    stream.close()
    expect(new Set(events.map((event) => event.data.name))).toEqual(new Set(names))
    expect(events.map((event) => event.id)).toEqual(
      Array.from({ length: 20 }, (_, index) => stats.lastEventId + 1 + index),
    )
    const search = await getJson<SearchResult>(`${url}${API}/plugins?q=crowd&size=50`)
    expect(search.body.total).toBe(20)
  }, 120_000)

  it('keeps packages, catalog and event ids across a restart', async () => {
    const { body: before } = await getJson<{
      plugins: number
      versions: number
      lastEventId: number
    }>(`${url}${API}`)
    await t.restart()
    url = t.registry.url
    await writeNpmrc(bobRc, url, bobToken)
    await writeNpmrc(aliceRc, url, aliceToken)
    const { body: after } = await getJson<typeof before>(`${url}${API}`)
    expect(after).toMatchObject({
      plugins: before.plugins,
      versions: before.versions,
      lastEventId: before.lastEventId,
    })
    const view = await run(['view', PKG, 'versions', '--json'], t.dir, aliceRc)
    expect(JSON.parse(view.stdout)).toEqual(['1.0.0', '2.0.0'])
    // Replays across the restart, then continues the numbering.
    const replay = await openEventStream(url, before.lastEventId - 3)
    expect((await replay.waitFor(3)).map((event) => event.id)).toEqual([
      before.lastEventId - 2,
      before.lastEventId - 1,
      before.lastEventId,
    ])
    await publishPlugin(url, aliceToken, { name: PKG, version: '2.1.0', plugin: pokemonV2() })
    const [, , , next] = await replay.waitFor(4)
    replay.close()
    expect(next).toMatchObject({ id: before.lastEventId + 1, data: { version: '2.1.0' } })
  })

  it('misses nothing when a client reconnects with Last-Event-ID', async () => {
    const first = await openEventStream(url)
    await publishPlugin(url, bobToken, {
      name: '@late/kite-plugin-a',
      version: '1.0.0',
      plugin: simplePlugin('late.a'),
    })
    const [seen] = await first.waitFor(1)
    first.close()
    // While the client is away:
    await publishPlugin(url, bobToken, {
      name: '@late/kite-plugin-b',
      version: '1.0.0',
      plugin: simplePlugin('late.b'),
    })
    await publishPlugin(url, bobToken, {
      name: '@late/kite-plugin-a',
      version: '1.1.0',
      plugin: simplePlugin('late.a'),
    })
    const deprecate = await run(['deprecate', '@late/kite-plugin-b@1.0.0', 'gone'], t.dir, bobRc)
    expect(deprecate.code, deprecate.stderr).toBe(0)
    const again = await openEventStream(url, seen?.id)
    await publishPlugin(url, bobToken, {
      name: '@late/kite-plugin-c',
      version: '1.0.0',
      plugin: simplePlugin('late.c'),
    })
    const events = await again.waitFor(4)
    again.close()
    expect(events.map((event) => [event.event, event.data.name, event.data.version])).toEqual([
      ['published', '@late/kite-plugin-b', '1.0.0'],
      ['published', '@late/kite-plugin-a', '1.1.0'],
      ['deprecated', '@late/kite-plugin-b', '1.0.0'],
      ['published', '@late/kite-plugin-c', '1.0.0'],
    ])
    expect(events.map((event) => event.id)).toEqual(
      [1, 2, 3, 4].map((step) => (seen?.id ?? 0) + step),
    )
    // Also as a query parameter, for clients that cannot set headers (EventSource).
    const response = await fetch(`${url}${API}/events?lastEventId=${(seen?.id ?? 0) + 3}`)
    const text = await readStreamUntil(response, 'late/kite-plugin-c')
    expect(text).toContain(`id: ${(seen?.id ?? 0) + 4}`)
    expect(text).not.toContain(`id: ${(seen?.id ?? 0) + 3}\n`)
  })

  it('unpublishes a whole package with npm, freeing its name and group', async () => {
    const { body: stats } = await getJson<{ lastEventId: number }>(`${url}${API}`)
    const stream = await openEventStream(url, stats.lastEventId)
    const result = await run(['unpublish', '@late/kite-plugin-a', '--force'], t.dir, bobRc)
    expect(result.code, result.stderr).toBe(0)
    const events = await stream.waitFor(2)
    stream.close()
    expect(events.map((event) => [event.event, event.data.version]).sort()).toEqual([
      ['unpublished', '1.0.0'],
      ['unpublished', '1.1.0'],
    ])
    expect((await plugin('@late/kite-plugin-a')).status).toBe(404)
    expect(await listStoredFiles(t.storage)).not.toContain('@late/kite-plugin-a/package.json')
    await publishPlugin(url, aliceToken, {
      name: '@alice/kite-plugin-a',
      version: '1.0.0',
      plugin: simplePlugin('late.a'),
    })
    expect((await plugin('@alice/kite-plugin-a')).body.group).toBe('late.a')
  })

  it('sends heartbeat comments on an idle stream', async () => {
    const stream = await openEventStream(url)
    const beats = () => stream.comments.filter((comment) => comment === 'heartbeat').length
    const deadline = Date.now() + 5000
    while (beats() < 2 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50))
    stream.close()
    expect(beats()).toBeGreaterThanOrEqual(2)
    expect(stream.events).toEqual([])
  })

  it('rebuilds a lost catalog from storage, keeping maintainers and replaying history', async () => {
    const { body: before } = await getJson<{
      plugins: number
      versions: number
      lastEventId: number
    }>(`${url}${API}`)
    const { body: pokemonBefore } = await plugin()
    await t.registry.close()
    for (const suffix of ['', '-wal', '-shm'])
      await rm(join(t.storage, `catalog.db${suffix}`), { force: true })
    await t.restart()
    url = t.registry.url
    await writeNpmrc(bobRc, url, bobToken)
    const { body: after } = await getJson<typeof before>(`${url}${API}`)
    expect(after.plugins).toBe(before.plugins)
    expect(after.versions).toBe(before.versions)
    expect(after.lastEventId).toBeGreaterThan(before.lastEventId)
    const { body: pokemonAfter } = await plugin()
    expect(
      pokemonAfter.versions.map(({ version, deprecated, integrity }) => ({
        version,
        deprecated,
        integrity,
      })),
    ).toEqual(
      pokemonBefore.versions.map(({ version, deprecated, integrity }) => ({
        version,
        deprecated,
        integrity,
      })),
    )
    expect(pokemonAfter.maintainers).toEqual(['alice'])
    const refused = await npmPublishAs(bobRc, PKG, '9.0.0')
    expect(refused.stderr).toContain('bob is not a maintainer of @acme/kite-plugin-pokemon')
    // A client that held an old id replays the rebuilt history instead of missing it.
    const replay = await openEventStream(url, before.lastEventId)
    const events = await replay.waitFor(after.versions)
    replay.close()
    expect(events.filter((event) => event.event === 'published')).toHaveLength(after.versions)
  })
})

async function npmPublishAs(rc: string, name: string, version: string) {
  const dir = await writePluginPackage(join(t.dir, `work/as-${version}`), {
    name,
    version,
    plugin: pokemonV2(),
  })
  return publishWithNpm(dir, rc)
}
