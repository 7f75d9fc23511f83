import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { PluginDefinition } from '@kite/sdk'
import { createManifest } from '@kite/sdk/host'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { pokemonV1, pokemonV1_1, pokemonV2, simplePlugin } from '../test/fixtures/plugins.js'
import { makeTempDir, recordingLogger } from '../test/helpers.js'
import { Catalog, openCatalog } from './catalog.js'
import { CATALOG_MIGRATIONS } from './catalog-schema.js'
import type { VersionRecord } from './catalog-types.js'

let dir: string
let catalog: Catalog

beforeEach(async () => {
  dir = await makeTempDir('catalog')
  catalog = await Catalog.open({ path: join(dir, 'catalog.db') })
})
afterEach(async () => {
  catalog.close()
  await rm(dir, { recursive: true, force: true })
})

function record(
  name: string,
  version: string,
  plugin: PluginDefinition,
  published = '2026-01-01T00:00:00.000Z',
): VersionRecord {
  const keywords = name === POKEMON ? ['kite-plugin', 'pokedex'] : ['kite-plugin']
  return {
    name,
    version,
    manifest: createManifest(
      plugin,
      { name, version, keywords },
      {
        entry: 'dist/index.js',
        sdkRange: '^0.1.0',
      },
    ),
    manifestHash: `sha256-${name}@${version}`,
    published,
    integrity: `sha512-${name}-${version}`,
    tarballPath: `/${name}/-/${name.split('/').pop()}-${version}.tgz`,
    deprecated: null,
  }
}

const POKEMON = '@acme/kite-plugin-pokemon'

describe('Catalog', () => {
  it('indexes versions and finds them by name, group, type, title, description and keyword', () => {
    catalog.versions.addVersion(record(POKEMON, '1.0.0', pokemonV1()), { latest: '1.0.0' })
    catalog.versions.addVersion(
      record('@kite/plugin-http', '1.0.0', simplePlugin('kite.http', 'HTTP')),
      {},
    )
    const names = (query: string) => catalog.finder.search(query).results.map((hit) => hit.name)
    expect(names('pokemon')).toEqual([POKEMON])
    expect(names('acme.pokemon')).toEqual([POKEMON])
    expect(names('IsLegendary')).toEqual([POKEMON])
    expect(names('legend')).toEqual([POKEMON])
    expect(names('Pokédex')).toEqual([POKEMON])
    expect(names('pokedex')).toEqual([POKEMON])
    expect(names('kite-plugin')).toHaveLength(2)
    expect(names('wild appears')).toEqual([POKEMON])
    expect(names('kite.http')).toEqual(['@kite/plugin-http'])
    expect(names('echo')).toEqual(['@kite/plugin-http'])
    expect(names('"; DROP TABLE plugins; --')).toEqual([])
    expect(catalog.finder.search('').total).toBe(2)
  })

  it('ranks a name or group hit above a description hit, and pages results', () => {
    for (let index = 0; index < 25; index++) {
      catalog.versions.addVersion(
        record(`@many/p${index}`, '1.0.0', simplePlugin(`many.p${index}`)),
        {},
      )
    }
    catalog.versions.addVersion(
      record('@other/http-tools', '1.0.0', simplePlugin('other.http')),
      {},
    )
    const mentions = simplePlugin('mention.only', 'Mentions')
    const manifest = record('@z/mentions', '1.0.0', mentions)
    manifest.manifest.description = 'Talks to http servers.'
    catalog.versions.addVersion(manifest, {})
    expect(catalog.finder.search('http').results.map((hit) => hit.name)).toEqual([
      '@other/http-tools',
      '@z/mentions',
    ])
    const page1 = catalog.finder.search('many', 1, 10)
    const page3 = catalog.finder.search('many', 3, 10)
    expect(page1).toMatchObject({ total: 25, page: 1, size: 10 })
    expect(page1.results).toHaveLength(10)
    expect(page3.results).toHaveLength(5)
  })

  it('describes plugins, versions and types, newest first, following dist-tags', () => {
    catalog.versions.addVersion(record(POKEMON, '1.0.0', pokemonV1()), { latest: '1.0.0' })
    catalog.versions.addVersion(record(POKEMON, '2.0.0', pokemonV2(), '2026-02-01T00:00:00.000Z'), {
      latest: '1.0.0',
      next: '2.0.0',
    })
    const plugin = catalog.versions.plugin(POKEMON)
    expect(plugin).toMatchObject({ latest: '1.0.0', distTags: { latest: '1.0.0', next: '2.0.0' } })
    expect(plugin?.versions.map((version) => version.version)).toEqual(['2.0.0', '1.0.0'])
    expect(catalog.versions.resolveVersion(POKEMON, 'next')).toBe('2.0.0')
    expect(catalog.versions.resolveVersion(POKEMON, 'latest')).toBe('1.0.0')
    expect(catalog.versions.resolveVersion(POKEMON, '3.0.0')).toBeUndefined()
    expect(catalog.versions.type('acme.pokemon.IsLegendary')).toMatchObject({
      name: POKEMON,
      kind: 'condition',
      latest: '1.0.0',
      versions: [{ version: '1.0.0' }],
    })
    expect(
      catalog.versions.type('acme.pokemon.Fetch')?.versions.map((version) => version.version),
    ).toEqual(['2.0.0', '1.0.0'])
    catalog.versions.setDistTags(POKEMON, { latest: '2.0.0' })
    expect(catalog.versions.plugin(POKEMON)?.latest).toBe('2.0.0')
  })

  it('knows which package owns a group, including nested groups, and frees it with the last version', () => {
    catalog.versions.addVersion(record(POKEMON, '1.0.0', pokemonV1()), {})
    expect(catalog.versions.conflictingGroup('acme.pokemon', '@other/x')).toEqual({
      group: 'acme.pokemon',
      name: POKEMON,
    })
    expect(catalog.versions.conflictingGroup('acme.pokemon.cards', '@other/x')).toEqual({
      group: 'acme.pokemon',
      name: POKEMON,
    })
    expect(catalog.versions.conflictingGroup('acme', '@other/x')).toEqual({
      group: 'acme.pokemon',
      name: POKEMON,
    })
    expect(catalog.versions.conflictingGroup('acme.pokemo', '@other/x')).toBeUndefined()
    expect(catalog.versions.conflictingGroup('acme.pokemon', POKEMON)).toBeUndefined()
    catalog.versions.addVersion(record('@deep/x', '1.0.0', simplePlugin('deep.nested.group')), {})
    expect(catalog.versions.conflictingGroup('deep.nested', '@other/x')).toEqual({
      group: 'deep.nested.group',
      name: '@deep/x',
    })
    expect(catalog.versions.typeOwner('acme.pokemon.Fetch', '@other/x')).toBe(POKEMON)
    catalog.versions.removeVersion(POKEMON, '1.0.0', {})
    expect(catalog.versions.plugin(POKEMON)).toBeUndefined()
    expect(catalog.versions.conflictingGroup('acme.pokemon', '@other/x')).toBeUndefined()
    expect(catalog.finder.search('pokemon').total).toBe(0)
  })

  it('logs events with increasing ids that survive reopening', async () => {
    const published = catalog.versions.addVersion(record(POKEMON, '1.0.0', pokemonV1()), {})
    const deprecated = catalog.versions.setDeprecated(POKEMON, '1.0.0', 'old')
    const lifted = catalog.versions.setDeprecated(POKEMON, '1.0.0', null)
    const unpublished = catalog.versions.removeVersion(POKEMON, '1.0.0', {})
    expect(
      [published, deprecated, lifted, unpublished].map((event) => [event.id, event.event]),
    ).toEqual([
      [1, 'published'],
      [2, 'deprecated'],
      [3, 'deprecated'],
      [4, 'unpublished'],
    ])
    expect(deprecated.deprecated).toBe('old')
    expect(lifted.deprecated).toBe(false)
    catalog.close()
    catalog = await Catalog.open({ path: join(dir, 'catalog.db') })
    expect(catalog.created).toBe(false)
    expect(catalog.events.lastEventId()).toBe(4)
    expect(catalog.events.eventsAfter(2).map((event) => event.id)).toEqual([3, 4])
    catalog.events.raiseEventIdFloor(1000)
    expect(catalog.versions.addVersion(record(POKEMON, '1.0.1', pokemonV1()), {}).id).toBe(1001)
  })

  it('forgives typos, says what matched and ranks an exact type above a description', () => {
    catalog.versions.addVersion(record(POKEMON, '1.0.0', pokemonV1()), { latest: '1.0.0' })
    const slack = simplePlugin('kite.chat', 'Chat')
    const manifest = record('@kite/plugin-chat', '1.0.0', slack)
    const [task] = manifest.manifest.tasks
    if (!task) throw new Error('the fixture has a task')
    manifest.manifest.tasks = [
      { ...task, name: 'SlackIncomingWebhook', type: 'kite.chat.SlackIncomingWebhook' },
    ]
    catalog.versions.addVersion(manifest, {})
    const mentions = record('@z/mentions', '1.0.0', simplePlugin('z.mentions', 'Mentions'))
    mentions.manifest.description = 'Forwards pokemon sightings to a webhook.'
    catalog.versions.addVersion(mentions, {})

    const typo = catalog.finder.search('slak')
    expect(typo.results.map((hit) => hit.name)).toEqual(['@kite/plugin-chat'])
    expect(typo.results[0]?.matches[0]).toEqual({
      field: 'type',
      query: 'slak',
      term: 'slack',
      how: 'fuzzy',
      value: 'kite.chat.SlackIncomingWebhook',
    })
    expect(catalog.finder.search('pokmon').results.map((hit) => hit.name)).toEqual([
      POKEMON,
      '@z/mentions',
    ])
    expect(catalog.finder.search('SlackIncomingWebhook').results[0]?.matches[0]).toMatchObject({
      field: 'type',
      how: 'exact',
    })
    const prefix = catalog.finder.search('legen').results[0]?.matches[0]
    expect(prefix).toMatchObject({ field: 'type', how: 'prefix', term: 'legendary' })

    // "webhook": a type id of the chat plugin, a word in the description of @z/mentions.
    const ranked = catalog.finder.search('webhook').results
    expect(ranked.map((hit) => hit.name)).toEqual(['@kite/plugin-chat', '@z/mentions'])
    expect(ranked[1]?.matches.map((match) => match.field)).toEqual(['description'])
  })

  it('filters by kind, group and keyword, from parameters or inline', () => {
    catalog.versions.addVersion(record(POKEMON, '1.0.0', pokemonV1()), {})
    catalog.versions.addVersion(
      record('@kite/plugin-http', '1.0.0', simplePlugin('kite.http', 'HTTP')),
      {},
    )
    catalog.versions.addVersion(
      record('@kite/plugin-deep', '1.0.0', simplePlugin('kite.deep.x')),
      {},
    )
    const names = (query: string, filters = {}) =>
      catalog.finder.search(query, 1, 20, filters).results.map((hit) => hit.name)
    expect(names('', { kind: 'condition' })).toEqual([POKEMON])
    expect(names('kind:condition')).toEqual([POKEMON])
    expect(names('', { group: 'kite' }).sort()).toEqual(['@kite/plugin-deep', '@kite/plugin-http'])
    expect(names('group:kite.http')).toEqual(['@kite/plugin-http'])
    expect(names('', { keyword: 'POKEDEX' })).toEqual([])
    expect(names('', { keyword: 'pokedex' })).toEqual([POKEMON])
    expect(names('echo keyword:kite-plugin group:kite.deep')).toEqual(['@kite/plugin-deep'])
    const bad = catalog.finder.search('kind:banana echo')
    expect(bad.problems).toEqual(['kind must be one of task, trigger, condition (got "banana")'])
    expect(bad.total).toBe(2)
  })

  it('keeps search in step with publishes and unpublishes', () => {
    expect(catalog.finder.search('pokemon').total).toBe(0)
    catalog.versions.addVersion(record(POKEMON, '1.0.0', pokemonV1()), {})
    expect(catalog.finder.search('pokemon').total).toBe(1)
    catalog.versions.addVersion(record(POKEMON, '2.0.0', pokemonV2()), {})
    // A type only 1.0.0 has is still found (by its old id), but the kind filter follows latest.
    expect(catalog.finder.search('IsLegendary').total).toBe(1)
    catalog.versions.removeVersion(POKEMON, '2.0.0', {})
    catalog.versions.removeVersion(POKEMON, '1.0.0', {})
    expect(catalog.finder.search('pokemon').total).toBe(0)
  })
})

describe('catalog schema migrations', () => {
  it('upgrades a catalog made before the Migrator in place, keeping its rows', async () => {
    catalog.close()
    const path = join(dir, 'legacy.db')
    // The schema the registry wrote before kysely's Migrator (meta schema "2", FTS5 search).
    const legacy = new Database(path)
    legacy.exec(LEGACY_SCHEMA)
    legacy
      .prepare('INSERT INTO maintainers (name, user, since) VALUES (?, ?, ?)')
      .run(POKEMON, 'alice', '2026-01-01')
    legacy
      .prepare(
        `INSERT INTO versions (name, version, manifest, manifest_hash, published, integrity, tarball_path)
         VALUES (?, '1.0.0', ?, 'sha256-x', '2026-01-01', 'sha512-x', '/p.tgz')`,
      )
      .run(POKEMON, JSON.stringify(record(POKEMON, '1.0.0', pokemonV1()).manifest))
    legacy
      .prepare(
        `INSERT INTO events (type, name, version, integrity, manifest_hash, tarball_path, time)
         VALUES ('published', ?, '1.0.0', 'sha512-x', 'sha256-x', '/p.tgz', '2026-01-01')`,
      )
      .run(POKEMON)
    legacy.close()

    catalog = await Catalog.open({ path })
    expect(catalog.created).toBe(false)
    expect(catalog.owners.maintainersOf(POKEMON)).toEqual(['alice'])
    expect(catalog.versions.version(POKEMON, '1.0.0')?.manifestHash).toBe('sha256-x')
    expect(catalog.versions.version(POKEMON, '1.0.0')?.docs).toBeUndefined()
    expect(catalog.events.lastEventId()).toBe(1)
    // The new column takes new versions' docs; the FTS table is gone.
    catalog.versions.addVersion(
      {
        ...record(POKEMON, '1.1.0', pokemonV1_1()),
        docs: {
          readme: '# hi',
          permissions: { childProcess: true, fsRead: [], fsWrite: [], env: [] },
        },
      },
      {},
    )
    expect(catalog.versions.version(POKEMON, '1.1.0')?.docs?.readme).toBe('# hi')
    catalog.close()
    const check = new Database(path, { readonly: true })
    const tables = check
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .all()
      .map((row) => row.name)
    const applied = check
      .prepare<[], { name: string }>('SELECT name FROM kysely_migration ORDER BY name')
      .all()
      .map((row) => row.name)
    check.close()
    expect(tables).not.toContain('plugin_search')
    expect(applied).toEqual(Object.keys(CATALOG_MIGRATIONS))
    // Opening again runs nothing more and keeps everything.
    catalog = await Catalog.open({ path })
    expect(catalog.created).toBe(false)
    expect(catalog.versions.plugin(POKEMON)?.versions.map((item) => item.version)).toEqual([
      '1.1.0',
      '1.0.0',
    ])
  })
})

const LEGACY_SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta (key, value) VALUES ('schema', '2');
CREATE TABLE maintainers (name TEXT NOT NULL, user TEXT NOT NULL, since TEXT NOT NULL, PRIMARY KEY (name, user));
CREATE TABLE plugins (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, grp TEXT NOT NULL, title TEXT NOT NULL,
  description TEXT NOT NULL, keywords TEXT NOT NULL, latest TEXT NOT NULL, latest_types TEXT NOT NULL,
  dist_tags TEXT NOT NULL, version_count INTEGER NOT NULL, updated TEXT NOT NULL, deprecated TEXT);
CREATE TABLE versions (name TEXT NOT NULL, version TEXT NOT NULL, manifest TEXT NOT NULL, manifest_hash TEXT NOT NULL,
  published TEXT NOT NULL, integrity TEXT NOT NULL, tarball_path TEXT NOT NULL, deprecated TEXT, PRIMARY KEY (name, version));
CREATE TABLE types (type TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL, kind TEXT NOT NULL, title TEXT NOT NULL,
  description TEXT NOT NULL, PRIMARY KEY (type, name, version));
CREATE INDEX types_by_package ON types (name, version);
CREATE TABLE groups (grp TEXT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE other_versions (name TEXT NOT NULL, version TEXT NOT NULL, PRIMARY KEY (name, version));
CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL,
  integrity TEXT NOT NULL, manifest_hash TEXT NOT NULL, tarball_path TEXT NOT NULL, time TEXT NOT NULL, deprecated TEXT);
CREATE VIRTUAL TABLE plugin_search USING fts5(name, grp, types, titles, descriptions, keywords,
  tokenize = 'unicode61 remove_diacritics 2');
`

describe('openCatalog', () => {
  it('moves an unreadable catalog aside and starts a fresh one', async () => {
    const { writeFile, readdir } = await import('node:fs/promises')
    const path = join(dir, 'broken.db')
    await writeFile(
      path,
      'this is not a database, just text that is long enough to matter '.repeat(80),
    )
    const { logger, warnings } = recordingLogger()
    const fresh = await openCatalog(path, logger)
    try {
      expect(fresh.created).toBe(true)
      expect(fresh.versions.stats()).toEqual({ plugins: 0, versions: 0, types: 0 })
      expect(warnings[0]).toMatch(
        /is unreadable \(SQLITE_NOTADB\); moved it to .*broken\.db\.corrupt-\d+ and rebuilding/,
      )
      expect((await readdir(dir)).some((file) => file.startsWith('broken.db.corrupt-'))).toBe(true)
    } finally {
      fresh.close()
    }
  })
})
