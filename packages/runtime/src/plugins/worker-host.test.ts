import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixturePlugins } from '../../test/fixtures/plugins.js'
import { GREETING_V1, GREETING_V2 } from '../../test/plugin-publishing.js'
import { createInProcessHost } from './in-process-host.js'
import { createPluginCatalog, type MutablePluginCatalog } from './plugin-catalog.js'
import type { HostRunContext, RunServices } from './plugin-host.js'
import type { PluginPin } from './plugin-resolver.js'
import { loadPluginDirectory } from './plugin-sources.js'
import { createWorkerHost, type WorkerHost } from './worker-host.js'

const GREETING = '@acme/kite-plugin-greeting'
let dir: string
let catalog: MutablePluginCatalog
let host: WorkerHost

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kite-worker-host-'))
  catalog = createPluginCatalog(fixturePlugins())
  catalog.add(await loadPluginDirectory(GREETING_V1, { verify: false }))
  catalog.add(await loadPluginDirectory(GREETING_V2, { verify: false }))
  host = createWorkerHost({
    catalog,
    idleMs: 300,
    fallback: createInProcessHost({ catalog }),
  })
})
afterAll(async () => {
  await host?.close()
  await rm(dir, { recursive: true, force: true })
})

const pin = (version: string, type = 'acme.greeting.Hello'): PluginPin => ({
  type,
  kind: 'task',
  package: GREETING,
  version,
  decidedBy: 'task',
})

function context(logs: string[] = []): HostRunContext {
  const services = new Proxy({} as RunServices, {
    get: (_, method: string) =>
      method === 'log'
        ? async (level: string, message: string) => {
            logs.push(`${level}: ${message}`)
          }
        : async () => {
            throw new Error(`${method} is not used here`)
          },
  })
  return {
    execution: { id: 'e1', namespace: 'acme', flowId: 'f', startDate: new Date().toISOString() },
    task: { id: 'hi', type: 'acme.greeting.Hello', version: '1.0.0' },
    workingDir: join(dir, 'work'),
    pluginConfig: {},
    services,
  } as HostRunContext
}

describe('createWorkerHost', () => {
  it('runs two versions side by side, each in its own workers, logs crossing the boundary', async () => {
    const logs: string[] = []
    const signal = new AbortController().signal
    const [v1, v2] = await Promise.all([
      host.runTask({
        pin: pin('1.0.0'),
        properties: { name: 'Ada' },
        context: context(logs),
        signal,
      }),
      host.runTask({
        pin: pin('2.0.0'),
        properties: { who: 'Bob' },
        context: context(logs),
        signal,
      }),
    ])
    expect(v1).toEqual({ message: 'Hello, Ada!' })
    expect(v2).toEqual({ message: 'Hello, Bob!' })
    await expect.poll(() => logs.sort()).toEqual(['info: Hello, Ada!', 'info: Hello, Bob!'])
    expect(host.stats()).toMatchObject({ [`${GREETING}@1.0.0`]: 1, [`${GREETING}@2.0.0`]: 1 })
  })

  it("validates properties against the version's schema inside the worker", async () => {
    const run = host.runTask({
      pin: pin('2.0.0'),
      properties: { who: 42 },
      context: context(),
      signal: new AbortController().signal,
    })
    await expect(run).rejects.toThrow(/who/)
  })

  it('a kill terminates the worker, and the next call gets a fresh one', async () => {
    const controller = new AbortController()
    controller.abort()
    await expect(
      host.runTask({
        pin: pin('1.0.0'),
        properties: {},
        context: context(),
        signal: controller.signal,
      }),
    ).rejects.toMatchObject({ code: 'TASK_KILLED' })
    const again = await host.runTask({
      pin: pin('1.0.0'),
      properties: {},
      context: context(),
      signal: new AbortController().signal,
    })
    expect(again).toEqual({ message: 'Hello, world!' })
  })

  it('ends idle workers, and release ends a version at once', async () => {
    await expect.poll(() => host.stats()[`${GREETING}@2.0.0`] ?? 0, { timeout: 3000 }).toBe(0)
    await host.warm(GREETING, '2.0.0')
    expect(host.stats()[`${GREETING}@2.0.0`]).toBe(1)
    await host.release(GREETING, '2.0.0')
    expect(host.stats()[`${GREETING}@2.0.0`]).toBeUndefined()
  })

  it('tests conditions and polls triggers in the worker, trigger state through the services', async () => {
    const signal = new AbortController().signal
    const matches = await host.testCondition({
      pin: { ...pin('1.0.0', 'acme.greeting.NameMatches'), kind: 'condition' },
      properties: { name: 'Ada', pattern: 'a.*', ignoreCase: true },
      context: context(),
      signal,
    })
    expect(matches).toBe(true)
    const state = new Map<string, unknown>()
    const base = context()
    const services = new Proxy(base.services, {
      get: (target, method: string) =>
        method === 'stateGet'
          ? async (key: string) => state.get(key)
          : method === 'stateSet'
            ? async (key: string, value: unknown) => void state.set(key, value)
            : Reflect.get(target, method),
    })
    const poll = () =>
      host.pollTrigger({
        pin: { ...pin('1.0.0', 'acme.greeting.Visitors'), kind: 'trigger' },
        properties: { names: ['Ada', 'Bob'] },
        context: { ...base, services },
        signal,
      })
    expect((await poll()).map((event) => event.name)).toEqual(['Ada', 'Bob'])
    expect(await poll()).toEqual([])
  })

  it('runs in-process definitions through its fallback host', async () => {
    const plugin = catalog.list().find((item) => item.code.kind === 'definition')
    expect(plugin).toBeDefined()
    const type = plugin?.manifest.tasks[0]?.type ?? ''
    await expect(
      host.runTask({
        pin: {
          type,
          kind: 'task',
          package: plugin?.name ?? '',
          version: plugin?.version ?? '',
          decidedBy: 'task',
        },
        properties: { message: 'in this thread' },
        context: context(),
        signal: new AbortController().signal,
      }),
    ).resolves.toBeDefined()
  })
})
