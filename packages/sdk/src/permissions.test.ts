import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { definePlugin, defineTask } from './define.js'
import { z } from './index.js'
import { createManifest, parseManifest } from './manifest.js'
import { isEmptyPermissions, PluginPermissions } from './permissions.js'

const hello = defineTask({
  name: 'Hello',
  properties: z.object({}),
  async run() {},
})

const pkg = { name: '@acme/kite-plugin-shell', version: '1.0.0' }
const options = { entry: 'dist/index.js', sdkRange: '^0.1.0' }

describe('plugin permissions', () => {
  it('go from definePlugin into the manifest', () => {
    const plugin = definePlugin({
      group: 'acme.shell',
      title: 'Shell',
      tasks: [hello],
      permissions: { childProcess: true, fsRead: ['/srv/in', 'config:roots'], env: ['HOME'] },
    })
    const manifest = createManifest(plugin, pkg, options)
    expect(manifest.permissions).toEqual({
      childProcess: true,
      fsRead: ['/srv/in', 'config:roots'],
      env: ['HOME'],
    })
    expect(parseManifest(JSON.parse(JSON.stringify(manifest))).permissions).toEqual(
      manifest.permissions,
    )
  })

  it('are left out of the manifest when the plugin asks for nothing', () => {
    for (const permissions of [undefined, {}, { childProcess: false, fsRead: [] }]) {
      const plugin = definePlugin({
        group: 'acme.shell',
        title: 'Shell',
        tasks: [hello],
        ...(permissions ? { permissions } : {}),
      })
      expect(plugin.permissions).toBeUndefined()
      expect(createManifest(plugin, pkg, options)).not.toHaveProperty('permissions')
    }
  })

  it('refuses relative paths, unknown keys and the runtime’s own variables, naming them', () => {
    expect(() =>
      definePlugin({
        group: 'acme.shell',
        title: 'Shell',
        tasks: [hello],
        permissions: {
          fsRead: ['data/in'],
          env: ['KITE_SECRET_TOKEN'],
          network: true,
        } as never,
      }),
    ).toThrow(
      /permissions\.fsRead\.0: must be an absolute path[\s\S]*permissions\.env\.0: KITE_\*[\s\S]*network/,
    )
  })

  it('refuses a manifest whose permissions are malformed', () => {
    const manifest = createManifest(
      definePlugin({ group: 'acme.shell', title: 'Shell', tasks: [hello] }),
      pkg,
      options,
    )
    expect(() => parseManifest({ ...manifest, permissions: { childProcess: 'yes' } })).toThrow(
      /permissions\.childProcess/,
    )
  })

  it('parse any JSON value without throwing, and what parses round-trips', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const result = PluginPermissions.safeParse(value)
        if (result.success) {
          expect(PluginPermissions.parse(JSON.parse(JSON.stringify(result.data)))).toEqual(
            result.data,
          )
        }
      }),
    )
    fc.assert(
      fc.property(
        fc.record(
          {
            childProcess: fc.boolean(),
            fsRead: fc.array(fc.stringMatching(/^\/[a-z/]{0,12}$/)),
            env: fc.array(fc.stringMatching(/^[A-JL-Z][A-Z0-9_]{0,8}$/)),
          },
          { requiredKeys: [] },
        ),
        (value) => {
          const parsed = PluginPermissions.parse(value)
          expect(parsed).toEqual(value)
          expect(isEmptyPermissions(parsed)).toBe(
            !value.childProcess && !value.fsRead?.length && !value.env?.length,
          )
        },
      ),
    )
  })
})
