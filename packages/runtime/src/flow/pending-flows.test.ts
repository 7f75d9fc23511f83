import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { definePlugin, defineTask, z } from '@kite/sdk'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isRuntimeError } from '../errors.js'
import { definePluginVersion } from '../plugins/plugin-sources.js'
import { createRuntime, type Runtime } from '../runtime.js'
import { waitsForPlugins, watchPendingFlows } from './pending-flows.js'

let dir: string
let runtime: Runtime
const lines: string[] = []
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kite-pending-flows-'))
  lines.length = 0
  const note = (level: string) => (message: string) => lines.push(`${level}: ${message}`)
  runtime = await createRuntime({
    dataDir: dir,
    scheduler: false,
    logger: { debug: note('debug'), info: note('info'), warn: note('warn'), error: note('error') },
  })
})
afterEach(async () => {
  await runtime.close()
  await rm(dir, { recursive: true, force: true })
})

const flow = (id: string, value: unknown) =>
  `id: ${id}\nnamespace: acme.later\ntasks:\n  - id: echo\n    type: acme.later.Echo\n    value: ${JSON.stringify(value)}\n`

const later = definePluginVersion({
  name: '@acme/kite-plugin-later',
  version: '1.0.0',
  plugin: definePlugin({
    group: 'acme.later',
    title: 'Later',
    tasks: [
      defineTask({
        name: 'Echo',
        properties: z.object({ value: z.string() }),
        outputs: z.object({ value: z.string() }),
        run: (props) => ({ value: props.value }),
      }),
    ],
  }),
})

async function saveError(source: string): Promise<unknown> {
  return runtime.engine.saveFlow(source).then(
    () => undefined,
    (error: unknown) => error,
  )
}

describe('flows waiting for their plugins', () => {
  it('tells a missing plugin from any other problem', async () => {
    const missing = await saveError(flow('a', 'hi'))
    expect(waitsForPlugins(missing)).toBe(true)
    expect(waitsForPlugins(await saveError('id: b\nnamespace: acme.later\ntasks: 42\n'))).toBe(
      false,
    )
    expect(waitsForPlugins(await saveError('::: not yaml'))).toBe(false)
    expect(waitsForPlugins(new Error('plain'))).toBe(false)
  })

  it('saves each once its plugin is installed, and reports and drops one that still fails', async () => {
    const pending = [flow('good', 'hi'), flow('bad', 42)].map((source, index) => {
      return { name: `${index ? 'bad' : 'good'}.yaml`, source, issues: [] }
    })
    for (const item of pending) {
      const error = await saveError(item.source)
      expect(isRuntimeError(error) && waitsForPlugins(error)).toBe(true)
    }
    const watcher = watchPendingFlows({
      engine: runtime.engine,
      catalog: runtime.catalog,
      logger: {
        debug: () => {},
        info: (message) => lines.push(`info: ${message}`),
        warn: (message) => lines.push(`warn: ${message}`),
        error: (message) => lines.push(`error: ${message}`),
      },
      flows: pending,
      intervalMs: 20,
    })
    expect(watcher.names()).toEqual(['good.yaml', 'bad.yaml'])
    await new Promise((resolve) => setTimeout(resolve, 100))
    // Nothing changed in the catalog: nothing saved yet.
    expect(watcher.names()).toHaveLength(2)
    runtime.catalog.add(later)
    await watcher.done
    expect(watcher.names()).toEqual([])
    expect((await runtime.store.getFlow('acme.later', 'good'))?.revision).toBe(1)
    expect(await runtime.store.getFlow('acme.later', 'bad')).toBeUndefined()
    expect(lines.filter((line) => line.startsWith('error:'))).toEqual([
      expect.stringMatching(/^error: flow file bad\.yaml cannot be saved: .*value/),
    ])
    expect(lines).toContainEqual(
      expect.stringMatching(/info: flow acme\.later\/good saved from good\.yaml/),
    )
  })
})
