import type { PluginPermissions } from '@kite/sdk'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../config.js'
import { checkPermissions, expandPath, grantedPermissions } from './sandbox-permissions.js'

const check = (
  asked: PluginPermissions | undefined,
  grants: Record<string, PluginPermissions>,
  configurations: { type: string; values: Record<string, unknown> }[] = [],
) =>
  checkPermissions({
    name: '@kite/plugin-fs',
    version: '1.0.0',
    group: 'kite.fs',
    asked,
    grants,
    configurations,
  })

describe('plugins.permissions', () => {
  it('grants a plugin that asks for nothing, whatever the grants', () => {
    expect(check(undefined, {})).toEqual({ childProcess: false, fsRead: [], fsWrite: [], env: [] })
  })

  it('unions every matching name and pattern', () => {
    expect(
      grantedPermissions('@kite/plugin-fs', {
        '@kite/*': { env: ['HOME'] },
        '@kite/plugin-fs': { fsRead: ['/a'] },
        '@acme/*': { childProcess: true },
      }),
    ).toEqual({ childProcess: false, fsRead: ['/a'], fsWrite: [], env: ['HOME'] })
  })

  it('expands config: paths from the configurations of the plugin’s group and types', () => {
    const configurations = [
      { type: 'kite.fs', values: { allowedRoots: ['/data/in', 'relative', 7] } },
      { type: 'kite.fs.Read', values: { allowedRoots: '/data/out' } },
      { type: 'kite.fsx', values: { allowedRoots: ['/elsewhere'] } },
    ]
    expect(expandPath('config:allowedRoots', 'kite.fs', configurations)).toEqual([
      '/data/in',
      '/data/out',
    ])
    // Granted as written, or by a granted directory above every expanded one.
    for (const grant of [{ fsRead: ['config:allowedRoots'] }, { fsRead: ['/data'] }]) {
      expect(
        check({ fsRead: ['config:allowedRoots'] }, { '@kite/plugin-fs': grant }, configurations)
          .fsRead,
      ).toEqual(['/data/in', '/data/out'])
    }
    expect(() =>
      check(
        { fsRead: ['config:allowedRoots'] },
        { '@kite/plugin-fs': { fsRead: ['/data/in'] } },
        configurations,
      ),
    ).toThrow(/does not grant it: fsRead config:allowedRoots/)
  })

  it('refuses a path that only shares a prefix with a granted one', () => {
    expect(() => check({ fsWrite: ['/data-other'] }, { '*': { fsWrite: ['/data'] } })).toThrow(
      /does not grant it: fsWrite \/data-other/,
    )
  })

  it('never grants more than asked, and refuses whenever something asked is not granted', () => {
    const paths = fc.constantFrom('/a', '/a/b', '/b', '/ab')
    const permissions = fc.record(
      {
        childProcess: fc.boolean(),
        fsRead: fc.array(paths, { maxLength: 3 }),
        fsWrite: fc.array(paths, { maxLength: 3 }),
        env: fc.array(fc.constantFrom('HOME', 'LANG', 'PATH'), { maxLength: 3 }),
      },
      { requiredKeys: [] },
    )
    fc.assert(
      fc.property(permissions, permissions, (asked, granted) => {
        let result: ReturnType<typeof check> | undefined
        try {
          result = check(asked, { '@kite/*': granted })
        } catch (error) {
          expect((error as { code?: string }).code).toBe('PLUGIN_PERMISSION')
          return
        }
        expect(result.childProcess).toBe(asked.childProcess ?? false)
        if (asked.childProcess) expect(granted.childProcess).toBe(true)
        for (const name of result.env) expect(granted.env).toContain(name)
        for (const kind of ['fsRead', 'fsWrite'] as const) {
          for (const path of result[kind]) {
            expect(asked[kind]).toContain(path)
            expect(
              (granted[kind] ?? []).some((root) => path === root || path.startsWith(`${root}/`)),
            ).toBe(true)
          }
        }
      }),
    )
  })

  it('is part of kite.yaml, and bad grants get a clear message', () => {
    expect(
      parseConfig({ plugins: { permissions: { '@kite/plugin-scripts': { childProcess: true } } } })
        .plugins.permissions,
    ).toEqual({ '@kite/plugin-scripts': { childProcess: true } })
    expect(() =>
      parseConfig({
        plugins: {
          permissions: { '@kite/*': { fsRead: ['data'], network: true, env: ['KITE_SECRET_X'] } },
        },
      }),
    ).toThrow(
      /plugins\.permissions\["@kite\/\*"\]\.fsRead\[0\]: must be an absolute path[\s\S]*env\[0\]: KITE_\*[\s\S]*unknown key "network"/,
    )
  })
})
