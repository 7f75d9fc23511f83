import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixturePlugins } from '../../test/fixtures/plugins.js'
import { GREETING_V1, GREETING_V2 } from '../../test/plugin-publishing.js'
import { createInProcessHost } from './in-process-host.js'
import { createPluginCatalog, type MutablePluginCatalog } from './plugin-catalog.js'
import type { MigrateRequest, PluginHost } from './plugin-host.js'
import { loadPluginDirectory } from './plugin-sources.js'
import { createWorkerHost, type WorkerHost } from './worker-host.js'

const GREETING = '@acme/kite-plugin-greeting'
let catalog: MutablePluginCatalog
let workers: WorkerHost
let inProcess: PluginHost

beforeAll(async () => {
  catalog = createPluginCatalog(fixturePlugins())
  catalog.add(await loadPluginDirectory(GREETING_V1, { verify: false }))
  catalog.add(await loadPluginDirectory(GREETING_V2, { verify: false }))
  inProcess = createInProcessHost({ catalog })
  workers = createWorkerHost({ catalog, idleMs: 60_000, fallback: inProcess })
})
afterAll(async () => {
  await workers?.close()
  await inProcess?.close()
})

const request = (
  properties: Record<string, unknown>,
  fromVersion = '1.0.0',
  version = '2.0.0',
): MigrateRequest => ({
  pin: { type: 'acme.greeting.Hello', kind: 'task', package: GREETING, version },
  fromVersion,
  properties,
  label: 'flow "acme/f", task "hi"',
})

describe.each([
  ['the worker host', () => workers],
  ['the in-process host', () => inProcess],
])('migrate on %s', (_, host) => {
  it("runs the target version's migrations that apply to the old version", async () => {
    await expect(
      host().migrate(request({ name: '{{ inputs.who }}', greeting: 'Hi' })),
    ).resolves.toEqual({
      properties: { who: '{{ inputs.who }}', greeting: 'Hi' },
      applied: [{ from: '1.x', note: '`name` is renamed `who`' }],
    })
  })

  it('runs none when the old version is outside every range', async () => {
    await expect(host().migrate(request({ who: 'Ada' }, '2.0.0'))).resolves.toEqual({
      properties: { who: 'Ada' },
      applied: [],
    })
  })

  it('reports a migration that throws, naming flow, task and migration', async () => {
    await expect(host().migrate(request({ name: 'a', who: 'b' }))).rejects.toMatchObject({
      code: 'MIGRATION_FAILED',
      message: expect.stringMatching(
        /flow "acme\/f", task "hi": the migration from 1\.x .* failed: both `name` and `who` are set/,
      ),
    })
  })

  it('refuses a version that is not installed', async () => {
    await expect(host().migrate(request({}, '1.0.0', '9.9.9'))).rejects.toThrow(
      /@acme\/kite-plugin-greeting@9\.9\.9 is not installed/,
    )
  })
})

it("runs in the target version's own worker thread", async () => {
  await workers.migrate(request({ name: 'x' }))
  expect(workers.stats()[`${GREETING}@2.0.0`]).toBeGreaterThanOrEqual(1)
  // A failed migration leaves the thread serving the next one.
  await expect(workers.migrate(request({ name: 'a', who: 'b' }))).rejects.toThrow(/both/)
  await expect(workers.migrate(request({ name: 'y' }))).resolves.toMatchObject({
    properties: { who: 'y' },
  })
})
