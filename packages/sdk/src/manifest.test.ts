import { describe, expect, it } from 'vitest'
import plugin from '../test/fixtures/pokemon-plugin.js'
import { KiteError } from './errors.js'
import { createManifest, listManifestTypes, PluginManifest, parseManifest } from './manifest.js'

const valid = createManifest(
  plugin,
  { name: '@acme/kite-plugin-pokemon', version: '1.2.0', keywords: ['kite-plugin', 'pokemon'] },
  { entry: 'dist/index.js', sdkRange: '^0.1.0' },
)

describe('createManifest', () => {
  it('describes every type with schemas and examples', () => {
    expect(valid).toMatchObject({
      manifestVersion: 1,
      name: '@acme/kite-plugin-pokemon',
      version: '1.2.0',
      group: 'acme.pokemon',
      sdkRange: '^0.1.0',
      entry: 'dist/index.js',
      keywords: ['kite-plugin', 'pokemon'],
    })
    expect(listManifestTypes(valid).map(({ kind, entry }) => `${kind}:${entry.type}`)).toEqual([
      'task:acme.pokemon.Fetch',
      'trigger:acme.pokemon.Appeared',
      'condition:acme.pokemon.IsLegendary',
    ])
    expect(valid.tasks[0]?.outputs.properties?.height).toMatchObject({ type: 'number' })
    expect(valid.tasks[0]?.examples).toEqual([{ title: 'Fetch Gengar', code: 'pokemon: gengar' }])
    expect(valid.triggers[0]?.interval).toBe('PT1M')
  })

  it('round-trips through JSON and the schema', () => {
    expect(PluginManifest.parse(JSON.parse(JSON.stringify(valid)))).toEqual(valid)
  })
})

describe('parseManifest refuses', () => {
  const cases: Array<[string, (m: Record<string, unknown>) => unknown, RegExp]> = [
    ['an unknown manifestVersion', (m) => ({ ...m, manifestVersion: 2 }), /manifestVersion: .*1/],
    [
      'a bad package name',
      (m) => ({ ...m, name: 'Not A Name' }),
      /name: must be an npm package name/,
    ],
    [
      'a version that is not semver',
      (m) => ({ ...m, version: '1.2' }),
      /version: must be a semver version/,
    ],
    ['a bad group', (m) => ({ ...m, group: 'Acme' }), /group: must be dotted lower-case/],
    [
      'a type outside the group',
      (m) => ({ ...m, tasks: [{ ...valid.tasks[0], type: 'other.group.Fetch' }] }),
      /tasks\.0\.type: type "other.group.Fetch" is outside the group "acme.pokemon"/,
    ],
    [
      'a type declared twice',
      (m) => ({
        ...m,
        conditions: [{ ...valid.conditions[0], name: 'Fetch', type: 'acme.pokemon.Fetch' }],
      }),
      /type "acme.pokemon.Fetch" is declared twice/,
    ],
    [
      'an entry outside the package',
      (m) => ({ ...m, entry: '../evil.js' }),
      /entry: must be a relative path/,
    ],
    [
      'a properties schema that is not an object',
      (m) => ({ ...m, tasks: [{ ...valid.tasks[0], properties: { type: 'string' } }] }),
      /tasks\.0\.properties: must be a JSON Schema of type "object"/,
    ],
    ['a missing sdkRange', ({ sdkRange: _, ...m }) => m, /sdkRange/],
    [
      'a trigger without interval',
      (m) => ({ ...m, triggers: [{ ...valid.triggers[0], interval: undefined }] }),
      /triggers\.0\.interval/,
    ],
    ['an array', () => [], /expected object/],
  ]
  it.each(cases)('%s', (_, mutate, message) => {
    const error = (() => {
      try {
        parseManifest(mutate(structuredClone(valid) as unknown as Record<string, unknown>))
      } catch (caught) {
        return caught as KiteError
      }
      throw new Error('expected a refusal')
    })()
    expect(error).toBeInstanceOf(KiteError)
    expect(error.code).toBe('MANIFEST_INVALID')
    expect(error.message).toMatch(/^invalid plugin manifest:/)
    expect(error.message).toMatch(message)
  })
})
