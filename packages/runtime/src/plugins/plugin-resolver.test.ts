import { definePlugin, defineTask, z } from '@kite/sdk'
import { describe, expect, it } from 'vitest'
import { fixturePlugins, versionedPlugins } from '../../test/fixtures/plugins.js'
import { parseConfig } from '../config.js'
import { createPluginCatalog } from './plugin-catalog.js'
import { createPluginResolver, type ResolveRequest } from './plugin-resolver.js'
import { definePluginVersion } from './plugin-sources.js'

const request = (overrides: Partial<ResolveRequest>): ResolveRequest => ({
  type: 'test.versioned.Hello',
  kind: 'task',
  label: 'task "hello"',
  namespace: 'company.team',
  flowDefaults: [],
  ...overrides,
})

describe('the plugin catalog', () => {
  it('keeps versions side by side, oldest first, and finds the package owning a type', () => {
    const catalog = createPluginCatalog(versionedPlugins().reverse())
    expect(
      catalog.versionsOf('@test/kite-plugin-versioned').map((plugin) => plugin.version),
    ).toEqual(['1.0.0', '1.2.0', '2.0.0'])
    expect(catalog.ownerOf('test.versioned.Hello')).toEqual({
      name: '@test/kite-plugin-versioned',
      group: 'test.versioned',
    })
    expect(catalog.ownerOf('test.versionedx.Hello')).toBeUndefined()
    const generation = catalog.generation
    expect(catalog.remove('@test/kite-plugin-versioned', '1.0.0')).toBe(true)
    expect(catalog.generation).toBe(generation + 1)
    expect(catalog.remove('@test/kite-plugin-versioned', '1.0.0')).toBe(false)
  })

  it('refuses a group owned by another package and a version installed twice', () => {
    const catalog = createPluginCatalog(versionedPlugins())
    const impostor = definePluginVersion({
      name: '@evil/plugin',
      version: '1.0.0',
      plugin: definePlugin({ group: 'test.versioned', title: 'Evil' }),
    })
    expect(() => catalog.add(impostor)).toThrow(
      'plugin @evil/plugin@1.0.0: the group "test.versioned" already belongs to @test/kite-plugin-versioned; a group belongs to exactly one package',
    )
    expect(() => catalog.add(versionedPlugins()[0]!)).toThrow(/already installed/)
  })
})

describe('the plugin resolver', () => {
  const catalog = createPluginCatalog(fixturePlugins())

  it('resolves to a concrete version with the manifest entry of that version', () => {
    const resolver = createPluginResolver({ catalog })
    const resolved = resolver.resolve(request({ version: '^1' }))
    expect(resolved).toMatchObject({
      type: 'test.versioned.Hello',
      kind: 'task',
      package: '@test/kite-plugin-versioned',
      version: '1.2.0',
      decidedBy: 'task',
      versionSpec: '^1',
    })
    expect(resolved.manifestEntry.properties.required).toBeUndefined()
    expect(resolver.resolve(request({})).manifestEntry.properties.required).toEqual(['name'])
  })

  it('says which versions exist when none matches', () => {
    const resolver = createPluginResolver({ catalog })
    expect(() => resolver.resolve(request({ version: '^3' }))).toThrow(
      'task "hello": version "^3" of test.versioned (@test/kite-plugin-versioned) (from the task) matches none of the installed versions 1.0.0, 1.2.0, 2.0.0',
    )
    expect(() =>
      resolver.resolve(request({ type: 'test.versioned.Extra', version: '1.0.0' })),
    ).toThrow(
      /matches none of the installed versions 1.0.0, 1.2.0, 2.0.0 \(1.0.0 does not provide test.versioned.Extra\)/,
    )
  })

  it('names unknown types and wrong kinds', () => {
    const resolver = createPluginResolver({ catalog })
    expect(() => resolver.resolve(request({ type: 'test.fixtures.Ech0' }))).toThrow(
      'task "hello": unknown type "test.fixtures.Ech0": no installed version of @test/kite-plugin-fixtures provides it (did you mean "test.fixtures.Echo"?)',
    )
    expect(() => resolver.resolve(request({ type: 'acme.nope.Task' }))).toThrow(
      /unknown type "acme.nope.Task": no installed plugin provides it \(installed groups: kite.core, test.fixtures, test.versioned\)/,
    )
    expect(() => resolver.resolve(request({ type: 'test.fixtures.Poll' }))).toThrow(
      'task "hello": test.fixtures.Poll is a trigger, not a task',
    )
  })

  it('uses the instance configuration: defaultVersion, defaults, namespaces and plugin configurations', () => {
    const resolver = createPluginResolver({
      catalog,
      config: parseConfig({
        plugins: {
          defaultVersion: 'OLDEST',
          configurations: [
            { type: 'test', values: { region: 'eu', level: 1 } },
            { type: 'test.fixtures', values: { level: 2 } },
          ],
        },
        namespaces: {
          company: { pluginDefaults: [{ type: 'test.versioned', values: { version: '1.2.0' } }] },
        },
      }),
    })
    expect(resolver.resolve(request({ namespace: 'other' }))).toMatchObject({
      version: '1.0.0',
      decidedBy: 'defaultVersion',
    })
    expect(resolver.resolve(request({}))).toMatchObject({
      version: '1.2.0',
      decidedBy: 'namespace',
    })
    expect(resolver.pluginConfig('test.fixtures.Echo')).toEqual({ region: 'eu', level: 2 })
    expect(resolver.pluginConfig('kite.core.log.Log')).toEqual({})
  })

  it('finds a recorded pin again, and says when it is gone', () => {
    const local = createPluginCatalog(fixturePlugins())
    const resolver = createPluginResolver({ catalog: local })
    const pin = resolver.resolve(request({ version: '1.0.0' }))
    expect(resolver.resolvePinned(pin, 'task "hello"').version).toBe('1.0.0')
    local.remove('@test/kite-plugin-versioned', '1.0.0')
    expect(() => resolver.resolvePinned(pin, 'task "hello"')).toThrow(
      'task "hello": @test/kite-plugin-versioned@1.0.0, recorded for test.versioned.Hello when the execution started, is no longer installed',
    )
  })

  it('resolves types with dotted sub-groups to the owning group', () => {
    const local = createPluginCatalog([
      definePluginVersion({
        name: '@acme/deep',
        version: '1.0.0',
        plugin: definePlugin({
          group: 'acme.deep',
          title: 'Deep',
          tasks: [defineTask({ name: 'sub.Task', properties: z.object({}), run: () => {} })],
        }),
      }),
    ])
    expect(
      createPluginResolver({ catalog: local }).resolve(request({ type: 'acme.deep.sub.Task' }))
        .package,
    ).toBe('@acme/deep')
  })
})

describe('plugins.security in the resolver', () => {
  it('refuses, at save and at execution, a type whose package is excluded', () => {
    const catalog = createPluginCatalog(versionedPlugins())
    const config = parseConfig({
      plugins: { security: { includes: [], excludes: ['@test/kite-plugin-versioned'] } },
    })
    const resolver = createPluginResolver({ catalog, config })
    expect(() => resolver.resolve(request({}))).toThrow(
      'task "hello": test.versioned.Hello comes from @test/kite-plugin-versioned, which plugins.security does not allow',
    )
    const allowed = createPluginResolver({ catalog }).resolve(request({}))
    expect(() => resolver.resolvePinned(allowed, 'task "hello"')).toThrow(/plugins.security/)
  })
})
