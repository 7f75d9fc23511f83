import { describe, expect, it } from 'vitest'
import plugin from '../test/fixtures/pokemon-plugin.js'
import { exampleId, exampleYaml, renderPluginMarkdown, renderTypeMarkdown } from './docs.js'
import { createManifest } from './manifest.js'

const manifest = createManifest(
  plugin,
  { name: '@acme/kite-plugin-pokemon', version: '1.2.0' },
  { entry: 'dist/index.js', sdkRange: '^0.1.0' },
)

describe('renderTypeMarkdown', () => {
  it('renders the task page (snapshot)', async () => {
    await expect(renderTypeMarkdown(manifest, 'acme.pokemon.Fetch')).toMatchFileSnapshot(
      '../test/__snapshots__/acme.pokemon.Fetch.md',
    )
  })

  it('has a properties table with type, default, required and dynamic columns', () => {
    const page = renderTypeMarkdown(manifest, 'acme.pokemon.Fetch')
    expect(page).toContain('| Name | Type | Default | Required | Dynamic | Description |')
    expect(page).toContain(
      '| `pokemon` | `string` | `"pikachu"` | no | yes | Name of the Pokémon. |',
    )
    expect(page).toMatch(/\| `raw` \| `string` \| {2}\| no \| no \|/)
    expect(page).toContain('`array<"height" | "weight">`'.replaceAll('|', '\\|'))
  })

  it('shows a trigger event and its interval', () => {
    const page = renderTypeMarkdown(manifest, 'acme.pokemon.Appeared')
    expect(page).toContain('## Event (`trigger.*`)')
    expect(page).toContain('Polls every `PT1M`')
  })

  it('refuses a type the manifest does not have', () => {
    expect(() => renderTypeMarkdown(manifest, 'acme.pokemon.Nope')).toThrow(
      '@acme/kite-plugin-pokemon@1.2.0 has no type "acme.pokemon.Nope"',
    )
  })
})

describe('renderPluginMarkdown', () => {
  it('lists every type with its kind', () => {
    const page = renderPluginMarkdown(manifest)
    expect(page).toContain('# Pokémon')
    expect(page).toContain('| `acme.pokemon.Fetch` | task | Fetch a Pokémon |')
    expect(page).toContain('| `acme.pokemon.Appeared` | trigger | A Pokémon appeared |')
    expect(page).toContain('| `acme.pokemon.IsLegendary` | condition | IsLegendary |')
  })
})

describe('exampleYaml', () => {
  const entry = { name: 'pokemon.Fetch', type: 'acme.pokemon.Fetch' }

  it('completes a partial example with an id from the name and the type', () => {
    expect(exampleId(entry)).toBe('fetch')
    expect(exampleYaml({ code: 'pokemon: gengar\n\n' }, entry, 'task')).toBe(
      'id: fetch\ntype: acme.pokemon.Fetch\npokemon: gengar',
    )
  })

  it('gives a condition no id, and shows a full example as written', () => {
    expect(exampleYaml({ code: 'hour: 9' }, entry, 'condition')).toBe(
      'type: acme.pokemon.Fetch\nhour: 9',
    )
    expect(exampleYaml({ code: 'id: mine\ntype: x.y.Z\n', full: true }, entry, 'task')).toBe(
      'id: mine\ntype: x.y.Z',
    )
  })
})
