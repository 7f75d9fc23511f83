import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { useTempDir } from '../../../sdk/test/scratch.js'
import { fixturePlugins } from '../../test/fixtures/plugins.js'
import { createInProcessHost } from './in-process-host.js'
import { createPluginCatalog } from './plugin-catalog.js'
import type { HostRunContext, RunServices } from './plugin-host.js'
import type { PluginPin } from './plugin-resolver.js'

const tempDir = useTempDir('kite-host-')

const host = createInProcessHost({ catalog: createPluginCatalog(fixturePlugins()) })
const pin = (type: string, kind: PluginPin['kind'] = 'task'): PluginPin => ({
  type,
  kind,
  package: '@test/kite-plugin-fixtures',
  version: '1.0.0',
  decidedBy: 'task',
})

function context(logs: string[] = []): HostRunContext {
  const unused = async (): Promise<never> => {
    throw new Error('not used here')
  }
  const services: RunServices = {
    log: async (level, message) => {
      logs.push(`${level}: ${message}`)
    },
    render: async (template) => template,
    secret: unused,
    kvGet: unused,
    kvSet: unused,
    kvDelete: unused,
    kvKeys: unused,
    storagePut: unused,
    storagePutFile: unused,
    storageGet: unused,
    storageGetFile: unused,
    metric: async () => {},
    stateGet: unused,
    stateSet: unused,
  }
  return {
    execution: { id: 'e1', namespace: 'n', flowId: 'f', labels: {} },
    task: { id: 't', type: 'test.fixtures.Slow', version: '1.0.0' },
    workingDir: join(tempDir(), 'work'),
    pluginConfig: {},
    services,
  }
}

describe('the in-process host', () => {
  it('validates properties, runs the task and validates its outputs', async () => {
    const logs: string[] = []
    const outputs = await host.runTask({
      pin: pin('test.fixtures.Slow'),
      properties: { ms: 1 },
      context: context(logs),
      signal: new AbortController().signal,
    })
    expect(outputs).toEqual({ waited: 1 })
    expect(logs).toEqual(['info: sleeping 1 ms'])
    await expect(
      host.runTask({
        pin: pin('test.fixtures.Slow'),
        properties: { ms: 'soon' },
        context: context(),
        signal: new AbortController().signal,
      }),
    ).rejects.toMatchObject({ code: 'PROPERTIES_INVALID' })
  })

  it('times out and aborts ctx.signal', async () => {
    const started = Date.now()
    await expect(
      host.runTask({
        pin: pin('test.fixtures.Stubborn'),
        properties: { ms: 2000 },
        context: context(),
        signal: new AbortController().signal,
        timeoutMs: 50,
      }),
    ).rejects.toMatchObject({ code: 'TASK_TIMEOUT', message: 'task "t": timed out after 50 ms' })
    expect(Date.now() - started).toBeLessThan(1000)
  })

  it('stops waiting when the signal fires', async () => {
    const controller = new AbortController()
    const running = host.runTask({
      pin: pin('test.fixtures.Slow'),
      properties: { ms: 5000 },
      context: context(),
      signal: controller.signal,
    })
    setTimeout(() => controller.abort(), 20)
    await expect(running).rejects.toMatchObject({ code: 'TASK_KILLED' })
  })

  it('polls triggers and tests conditions, refusing the wrong kind', async () => {
    expect(
      await host.pollTrigger({
        pin: pin('test.fixtures.Poll', 'trigger'),
        properties: { source: 'x' },
        context: context(),
        signal: new AbortController().signal,
      }),
    ).toEqual([])
    expect(
      await host.testCondition({
        pin: pin('test.fixtures.Always', 'condition'),
        properties: { value: false },
        context: context(),
        signal: new AbortController().signal,
      }),
    ).toBe(false)
    await expect(
      host.runTask({
        pin: pin('test.fixtures.Always'),
        properties: {},
        context: context(),
        signal: new AbortController().signal,
      }),
    ).rejects.toThrow(/provides no task test.fixtures.Always/)
    await expect(
      host.runTask({
        pin: { ...pin('test.fixtures.Echo'), version: '9.9.9' },
        properties: {},
        context: context(),
        signal: new AbortController().signal,
      }),
    ).rejects.toThrow('@test/kite-plugin-fixtures@9.9.9 is not installed')
  })
})
