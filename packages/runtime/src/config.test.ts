import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { useTempDir } from '../../sdk/test/scratch.js'
import { loadConfig, namespaceDefaults, parseConfig } from './config.js'

const tempDir = useTempDir('kite-config-')

describe('the instance configuration', () => {
  it('has defaults and loads kite.yaml', async () => {
    expect(parseConfig({}).plugins).toMatchObject({
      defaultVersion: 'LATEST',
      defaults: [],
      sync: 'all',
    })
    const file = join(tempDir(), 'kite.yaml')
    await writeFile(
      file,
      `plugins:
  defaultVersion: NONE
  defaults:
    - type: kite.http
      values: { timeout: PT5S }
namespaces:
  company:
    pluginDefaults:
      - type: kite
        values: { version: "^1" }
  company.team:
    pluginDefaults:
      - type: kite
        values: { version: "^2" }
`,
    )
    const config = await loadConfig(file)
    expect(config.plugins.defaultVersion).toBe('NONE')
    expect(namespaceDefaults(config, 'company.team.sub').map((level) => level.namespace)).toEqual([
      'company.team',
      'company',
    ])
  })

  it('reports unknown keys and wrong values with their line', async () => {
    const file = join(tempDir(), 'bad.yaml')
    await writeFile(file, 'plugins:\n  defaultVersion: LATEST\n  sink: all\n  sync: sometimes\n')
    await expect(loadConfig(file)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      issues: expect.arrayContaining([
        { path: 'plugins.sink', message: 'unknown key "sink"', line: 3 },
        { path: 'plugins.sync', message: 'expected one of "all"|"manual"', line: 4 },
      ]),
    })
    await expect(loadConfig(join(tempDir(), 'missing.yaml'))).rejects.toThrow(
      /cannot read the configuration/,
    )
  })

  it('reads plugins.limits (the tarball rules at install) and refuses nonsense', async () => {
    const file = join(tempDir(), 'limits.yaml')
    await writeFile(file, 'plugins:\n  limits:\n    maxTypes: 50\n    maxUnpackedBytes: 1048576\n')
    expect((await loadConfig(file)).plugins.limits).toEqual({
      maxTypes: 50,
      maxUnpackedBytes: 1048576,
    })
    expect(parseConfig({}).plugins.limits).toEqual({})
    const bad = join(tempDir(), 'bad-limits.yaml')
    await writeFile(bad, 'plugins:\n  limits:\n    maxTypes: -1\n    maxEntries: 3\n')
    await expect(loadConfig(bad)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      issues: expect.arrayContaining([
        expect.objectContaining({ path: 'plugins.limits.maxTypes', line: 3 }),
        expect.objectContaining({
          path: 'plugins.limits.maxEntries',
          message: 'unknown key "maxEntries"',
        }),
      ]),
    })
  })
})

describe('the plugin thread pool keys', () => {
  it('have defaults, take values from kite.yaml, and refuse garbage with the key and line', async () => {
    expect(parseConfig({}).plugins).toMatchObject({
      maxWorkers: 8,
      callsPerWorker: 64,
      idleTimeout: 'PT5S',
    })
    const file = join(tempDir(), 'pool.yaml')
    await writeFile(file, 'plugins:\n  maxWorkers: 3\n  callsPerWorker: 10\n  idleTimeout: PT1S\n')
    expect((await loadConfig(file)).plugins).toMatchObject({
      maxWorkers: 3,
      callsPerWorker: 10,
      idleTimeout: 'PT1S',
    })
    await writeFile(
      file,
      'plugins:\n  maxWorkers: 0\n  callsPerWorker: many\n  idleTimeout: soon\n',
    )
    const error = await loadConfig(file).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' })
    const issues = (error as { issues: { path: string; line?: number }[] }).issues
    expect(issues.map((issue) => [issue.path, issue.line])).toEqual([
      ['plugins.maxWorkers', 2],
      ['plugins.callsPerWorker', 3],
      ['plugins.idleTimeout', 4],
    ])
    expect(() => parseConfig({ plugins: { maxWorkers: 2.5 } })).toThrow(/maxWorkers/)
  })
})

describe('the store key', () => {
  it('defaults to SQLite, takes a postgres:// URL, and refuses anything else with its line', async () => {
    expect(parseConfig({}).store).toEqual({ maxConnections: 10 })
    expect(parseConfig({ store: { url: 'postgres://kite@db:5432/kite' } }).store).toEqual({
      url: 'postgres://kite@db:5432/kite',
      maxConnections: 10,
    })
    const file = join(tempDir(), 'store.yaml')
    await writeFile(file, 'store:\n  url: mysql://db/kite\n  maxConnections: 0\n  pool: 3\n')
    const error = await loadConfig(file).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' })
    const issues = (error as { issues: { path: string; line?: number; message: string }[] }).issues
    expect(issues.map((issue) => [issue.path, issue.line])).toEqual([
      ['store.url', 2],
      ['store.maxConnections', 3],
      ['store.pool', 4],
    ])
    expect(issues.find((issue) => issue.path === 'store.url')?.message).toContain(
      'expected a postgres:// URL',
    )
  })
})
