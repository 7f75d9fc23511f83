import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { PluginDefinition } from '@kite/sdk'
import { createManifest } from '@kite/sdk/host'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { pokemonV1, pokemonV2, simplePlugin } from '../test/fixtures/plugins.js'
import { makeTempDir } from '../test/helpers.js'
import { Catalog, openCatalog } from './catalog.js'
import type { VersionRecord } from './catalog-types.js'

let dir: string
let catalog: Catalog

beforeEach(async () => {
  dir = await makeTempDir('catalog')
  catalog = new Catalog({ path: join(dir, 'catalog.db') })
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
    catalog.addVersion(record(POKEMON, '1.0.0', pokemonV1()), { latest: '1.0.0' })
    catalog.addVersion(record('@kite/plugin-http', '1.0.0', simplePlugin('kite.http', 'HTTP')), {})
    const names = (query: string) => catalog.search(query).results.map((hit) => hit.name)
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
    expect(catalog.search('').total).toBe(2)
  })

  it('ranks a name or group hit above a description hit, and pages results', () => {
    for (let index = 0; index < 25; index++) {
      catalog.addVersion(record(`@many/p${index}`, '1.0.0', simplePlugin(`many.p${index}`)), {})
    }
    catalog.addVersion(record('@other/http-tools', '1.0.0', simplePlugin('other.http')), {})
    const mentions = simplePlugin('mention.only', 'Mentions')
    const manifest = record('@z/mentions', '1.0.0', mentions)
    manifest.manifest.description = 'Talks to http servers.'
    catalog.addVersion(manifest, {})
    expect(catalog.search('http').results.map((hit) => hit.name)).toEqual([
      '@other/http-tools',
      '@z/mentions',
    ])
    const page1 = catalog.search('many', 1, 10)
    const page3 = catalog.search('many', 3, 10)
    expect(page1).toMatchObject({ total: 25, page: 1, size: 10 })
    expect(page1.results).toHaveLength(10)
    expect(page3.results).toHaveLength(5)
  })

  it('describes plugins, versions and types, newest first, following dist-tags', () => {
    catalog.addVersion(record(POKEMON, '1.0.0', pokemonV1()), { latest: '1.0.0' })
    catalog.addVersion(record(POKEMON, '2.0.0', pokemonV2(), '2026-02-01T00:00:00.000Z'), {
      latest: '1.0.0',
      next: '2.0.0',
    })
    const plugin = catalog.plugin(POKEMON)
    expect(plugin).toMatchObject({ latest: '1.0.0', distTags: { latest: '1.0.0', next: '2.0.0' } })
    expect(plugin?.versions.map((version) => version.version)).toEqual(['2.0.0', '1.0.0'])
    expect(catalog.resolveVersion(POKEMON, 'next')).toBe('2.0.0')
    expect(catalog.resolveVersion(POKEMON, 'latest')).toBe('1.0.0')
    expect(catalog.resolveVersion(POKEMON, '3.0.0')).toBeUndefined()
    expect(catalog.type('acme.pokemon.IsLegendary')).toMatchObject({
      name: POKEMON,
      kind: 'condition',
      latest: '1.0.0',
      versions: [{ version: '1.0.0' }],
    })
    expect(catalog.type('acme.pokemon.Fetch')?.versions.map((version) => version.version)).toEqual([
      '2.0.0',
      '1.0.0',
    ])
    catalog.setDistTags(POKEMON, { latest: '2.0.0' })
    expect(catalog.plugin(POKEMON)?.latest).toBe('2.0.0')
  })

  it('knows which package owns a group, including nested groups, and frees it with the last version', () => {
    catalog.addVersion(record(POKEMON, '1.0.0', pokemonV1()), {})
    expect(catalog.conflictingGroup('acme.pokemon', '@other/x')).toEqual({
      group: 'acme.pokemon',
      name: POKEMON,
    })
    expect(catalog.conflictingGroup('acme.pokemon.cards', '@other/x')).toEqual({
      group: 'acme.pokemon',
      name: POKEMON,
    })
    expect(catalog.conflictingGroup('acme', '@other/x')).toEqual({
      group: 'acme.pokemon',
      name: POKEMON,
    })
    expect(catalog.conflictingGroup('acme.pokemo', '@other/x')).toBeUndefined()
    expect(catalog.conflictingGroup('acme.pokemon', POKEMON)).toBeUndefined()
    catalog.addVersion(record('@deep/x', '1.0.0', simplePlugin('deep.nested.group')), {})
    expect(catalog.conflictingGroup('deep.nested', '@other/x')).toEqual({
      group: 'deep.nested.group',
      name: '@deep/x',
    })
    expect(catalog.typeOwner('acme.pokemon.Fetch', '@other/x')).toBe(POKEMON)
    catalog.removeVersion(POKEMON, '1.0.0', {})
    expect(catalog.plugin(POKEMON)).toBeUndefined()
    expect(catalog.conflictingGroup('acme.pokemon', '@other/x')).toBeUndefined()
    expect(catalog.search('pokemon').total).toBe(0)
  })

  it('logs events with increasing ids that survive reopening', () => {
    const published = catalog.addVersion(record(POKEMON, '1.0.0', pokemonV1()), {})
    const deprecated = catalog.setDeprecated(POKEMON, '1.0.0', 'old')
    const lifted = catalog.setDeprecated(POKEMON, '1.0.0', null)
    const unpublished = catalog.removeVersion(POKEMON, '1.0.0', {})
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
    catalog = new Catalog({ path: join(dir, 'catalog.db') })
    expect(catalog.created).toBe(false)
    expect(catalog.lastEventId()).toBe(4)
    expect(catalog.eventsAfter(2).map((event) => event.id)).toEqual([3, 4])
    catalog.raiseEventIdFloor(1000)
    expect(catalog.addVersion(record(POKEMON, '1.0.1', pokemonV1()), {}).id).toBe(1001)
  })

  it('forgives typos, says what matched and ranks an exact type above a description', () => {
    catalog.addVersion(record(POKEMON, '1.0.0', pokemonV1()), { latest: '1.0.0' })
    const slack = simplePlugin('kite.chat', 'Chat')
    const manifest = record('@kite/plugin-chat', '1.0.0', slack)
    const [task] = manifest.manifest.tasks
    if (!task) throw new Error('the fixture has a task')
    manifest.manifest.tasks = [
      { ...task, name: 'SlackIncomingWebhook', type: 'kite.chat.SlackIncomingWebhook' },
    ]
    catalog.addVersion(manifest, {})
    const mentions = record('@z/mentions', '1.0.0', simplePlugin('z.mentions', 'Mentions'))
    mentions.manifest.description = 'Forwards pokemon sightings to a webhook.'
    catalog.addVersion(mentions, {})

    const typo = catalog.search('slak')
    expect(typo.results.map((hit) => hit.name)).toEqual(['@kite/plugin-chat'])
    expect(typo.results[0]?.matches[0]).toEqual({
      field: 'type',
      query: 'slak',
      term: 'slack',
      how: 'fuzzy',
      value: 'kite.chat.SlackIncomingWebhook',
    })
    expect(catalog.search('pokmon').results.map((hit) => hit.name)).toEqual([
      POKEMON,
      '@z/mentions',
    ])
    expect(catalog.search('SlackIncomingWebhook').results[0]?.matches[0]).toMatchObject({
      field: 'type',
      how: 'exact',
    })
    const prefix = catalog.search('legen').results[0]?.matches[0]
    expect(prefix).toMatchObject({ field: 'type', how: 'prefix', term: 'legendary' })

    // "webhook": a type id of the chat plugin, a word in the description of @z/mentions.
    const ranked = catalog.search('webhook').results
    expect(ranked.map((hit) => hit.name)).toEqual(['@kite/plugin-chat', '@z/mentions'])
    expect(ranked[1]?.matches.map((match) => match.field)).toEqual(['description'])
  })

  it('filters by kind, group and keyword, from parameters or inline', () => {
    catalog.addVersion(record(POKEMON, '1.0.0', pokemonV1()), {})
    catalog.addVersion(record('@kite/plugin-http', '1.0.0', simplePlugin('kite.http', 'HTTP')), {})
    catalog.addVersion(record('@kite/plugin-deep', '1.0.0', simplePlugin('kite.deep.x')), {})
    const names = (query: string, filters = {}) =>
      catalog.search(query, 1, 20, filters).results.map((hit) => hit.name)
    expect(names('', { kind: 'condition' })).toEqual([POKEMON])
    expect(names('kind:condition')).toEqual([POKEMON])
    expect(names('', { group: 'kite' }).sort()).toEqual(['@kite/plugin-deep', '@kite/plugin-http'])
    expect(names('group:kite.http')).toEqual(['@kite/plugin-http'])
    expect(names('', { keyword: 'POKEDEX' })).toEqual([])
    expect(names('', { keyword: 'pokedex' })).toEqual([POKEMON])
    expect(names('echo keyword:kite-plugin group:kite.deep')).toEqual(['@kite/plugin-deep'])
    const bad = catalog.search('kind:banana echo')
    expect(bad.problems).toEqual(['kind must be one of task, trigger, condition (got "banana")'])
    expect(bad.total).toBe(2)
  })

  it('keeps search in step with publishes and unpublishes', () => {
    expect(catalog.search('pokemon').total).toBe(0)
    catalog.addVersion(record(POKEMON, '1.0.0', pokemonV1()), {})
    expect(catalog.search('pokemon').total).toBe(1)
    catalog.addVersion(record(POKEMON, '2.0.0', pokemonV2()), {})
    // A type only 1.0.0 has is still found (by its old id), but the kind filter follows latest.
    expect(catalog.search('IsLegendary').total).toBe(1)
    catalog.removeVersion(POKEMON, '2.0.0', {})
    catalog.removeVersion(POKEMON, '1.0.0', {})
    expect(catalog.search('pokemon').total).toBe(0)
  })
})

describe('openCatalog', () => {
  it('moves an unreadable catalog aside and starts a fresh one', async () => {
    const { writeFile, readdir } = await import('node:fs/promises')
    const path = join(dir, 'broken.db')
    await writeFile(
      path,
      'this is not a database, just text that is long enough to matter '.repeat(80),
    )
    const warnings: string[] = []
    const logger = {
      trace() {},
      debug() {},
      info() {},
      warn: (m: string) => warnings.push(m),
      error() {},
    }
    const fresh = openCatalog(path, logger)
    try {
      expect(fresh.created).toBe(true)
      expect(fresh.stats()).toEqual({ plugins: 0, versions: 0, types: 0 })
      expect(warnings[0]).toMatch(
        /is unreadable \(SQLITE_NOTADB\); moved it to .*broken\.db\.corrupt-\d+ and rebuilding/,
      )
      expect((await readdir(dir)).some((file) => file.startsWith('broken.db.corrupt-'))).toBe(true)
    } finally {
      fresh.close()
    }
  })
})
