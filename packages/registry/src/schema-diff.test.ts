import {
  defineCondition,
  definePlugin,
  defineTask,
  type OutputsSchema,
  type PluginDefinition,
  type PropertiesSchema,
  z,
} from '@kite/sdk'
import { createManifest, type PluginManifest } from '@kite/sdk/host'
import { describe, expect, it } from 'vitest'
import { pokemonV1, pokemonV1_1, pokemonV2 } from '../test/fixtures/plugins.js'
import { diffManifests, type SchemaChange } from './schema-diff.js'

function manifestOf(plugin: PluginDefinition, version: string): PluginManifest {
  return createManifest(
    plugin,
    { name: '@acme/kite-plugin-test', version },
    { entry: 'dist/index.js', sdkRange: '^0.1.0' },
  )
}

/** A plugin with one task `acme.test.Do` whose properties/outputs are given. */
function oneTask(
  properties: PropertiesSchema,
  outputs: OutputsSchema = z.object({ ok: z.boolean() }),
) {
  return definePlugin({
    group: 'acme.test',
    title: 'Test',
    tasks: [defineTask({ name: 'Do', properties, outputs, run: () => ({ ok: true }) as never })],
  })
}

function diffTasks(before: PluginDefinition, after: PluginDefinition): SchemaChange[] {
  return diffManifests(manifestOf(before, '1.0.0'), manifestOf(after, '2.0.0')).changes
}

const summary = (changes: SchemaChange[]) =>
  changes.map(({ kind, path, breaking }) => ({ kind, path, breaking }))

describe('diffManifests', () => {
  it('finds nothing between identical versions', () => {
    const diff = diffManifests(manifestOf(pokemonV1(), '1.0.0'), manifestOf(pokemonV1(), '1.0.1'))
    expect(diff).toEqual({
      name: '@acme/kite-plugin-test',
      from: '1.0.0',
      to: '1.0.1',
      breaking: false,
      counts: { breaking: 0, nonBreaking: 0 },
      changes: [],
    })
  })

  it('classes additions and widenings as compatible', () => {
    const diff = diffManifests(manifestOf(pokemonV1(), '1.0.0'), manifestOf(pokemonV1_1(), '1.1.0'))
    expect(diff.breaking).toBe(false)
    expect(summary(diff.changes)).toEqual([
      { kind: 'enum-value-added', path: 'properties.format', breaking: false },
      { kind: 'property-added', path: 'properties.language', breaking: false },
      { kind: 'output-added', path: 'outputs.weight', breaking: false },
      { kind: 'type-added', path: '', breaking: false },
    ])
    expect(diff.changes[0]?.message).toBe('`format` also accepts "xml"')
  })

  it('classes every breaking change of a major version', () => {
    const diff = diffManifests(manifestOf(pokemonV1(), '1.0.0'), manifestOf(pokemonV2(), '2.0.0'))
    expect(diff.breaking).toBe(true)
    expect(summary(diff.changes)).toEqual([
      { kind: 'property-required', path: 'properties.pokemon', breaking: true },
      { kind: 'default-changed', path: 'properties.pokemon', breaking: true },
      { kind: 'enum-value-removed', path: 'properties.format', breaking: true },
      { kind: 'property-narrowed', path: 'properties.retries', breaking: true },
      { kind: 'property-added', path: 'properties.wait', breaking: false },
      { kind: 'output-removed', path: 'outputs.name', breaking: true },
      { kind: 'default-changed', path: 'interval', breaking: true },
      { kind: 'default-changed', path: 'properties.region', breaking: true },
      { kind: 'type-removed', path: '', breaking: true },
    ])
    expect(diff.counts).toEqual({ breaking: 8, nonBreaking: 1 })
    const messages = diff.changes.map((change) => change.message)
    expect(messages).toContain('the default of `pokemon` changed from `"pikachu"` to none')
    expect(messages).toContain('`format` no longer accepts "yaml"')
    expect(messages).toContain('condition acme.pokemon.IsLegendary was removed')
  })

  it('tells narrowing from widening of property types and constraints', () => {
    const changes = diffTasks(
      oneTask(
        z.object({ a: z.string(), b: z.union([z.string(), z.number()]), c: z.string().max(10) }),
      ),
      oneTask(
        z.object({ a: z.union([z.string(), z.number()]), b: z.string(), c: z.string().max(5) }),
      ),
    )
    expect(summary(changes)).toEqual([
      { kind: 'property-widened', path: 'properties.a', breaking: false },
      { kind: 'property-narrowed', path: 'properties.b', breaking: true },
      { kind: 'property-narrowed', path: 'properties.c', breaking: true },
    ])
    expect(changes[2]?.message).toBe('`c`: maxLength changed from 10 to 5')
  })

  it('treats a property that became optional, or a new default for a required one, as compatible', () => {
    const changes = diffTasks(
      oneTask(z.object({ url: z.string() })),
      oneTask(z.object({ url: z.string().default('http://localhost') })),
    )
    expect(summary(changes)).toEqual([
      { kind: 'property-optional', path: 'properties.url', breaking: false },
      { kind: 'default-changed', path: 'properties.url', breaking: false },
    ])
  })

  it('flags a property that stops rendering expressions, and nested removals', () => {
    const changes = diffTasks(
      oneTask(
        z.object({
          body: z.string(),
          headers: z.object({ accept: z.string(), agent: z.string() }),
        }),
      ),
      oneTask(
        z.object({
          body: z.string().meta({ dynamic: false }),
          headers: z.object({ accept: z.string() }),
        }),
      ),
    )
    expect(summary(changes)).toEqual([
      { kind: 'dynamic-changed', path: 'properties.body', breaking: true },
      { kind: 'property-removed', path: 'properties.headers.agent', breaking: true },
    ])
  })

  it('breaks consumers when an output can hold more or may be absent, not when it holds less', () => {
    const changes = diffTasks(
      oneTask(
        z.object({}),
        z.object({ code: z.number(), body: z.union([z.string(), z.null()]), size: z.number() }),
      ),
      oneTask(
        z.object({}),
        z.object({
          code: z.union([z.number(), z.string()]),
          body: z.string(),
          size: z.number().optional(),
        }),
      ),
    )
    expect(summary(changes)).toEqual([
      { kind: 'output-changed', path: 'outputs.code', breaking: true },
      { kind: 'output-changed', path: 'outputs.body', breaking: false },
      { kind: 'output-optional', path: 'outputs.size', breaking: true },
    ])
  })

  it('flags a type that changed kind', () => {
    const asCondition = definePlugin({
      group: 'acme.test',
      title: 'Test',
      conditions: [defineCondition({ name: 'Do', properties: z.object({}), test: () => true })],
    })
    const changes = diffTasks(oneTask(z.object({})), asCondition)
    expect(summary(changes)).toEqual([{ kind: 'kind-changed', path: '', breaking: true }])
  })
})
