import { afterEach, describe, expect, it } from 'vitest'
import { fixturesPlugin, versionedPlugins } from '../../test/fixtures/plugins.js'
import { createTestRuntime, type TestRuntime } from '../../test/fixtures/test-runtime.js'
import { definePluginVersion } from '../plugins/plugin-sources.js'

let t: TestRuntime | undefined
afterEach(async () => {
  await t?.close()
  t = undefined
})

const fixtures = () =>
  definePluginVersion({
    name: '@test/kite-plugin-fixtures',
    version: '1.0.0',
    plugin: fixturesPlugin,
  })

describe('plugin versions in executions', () => {
  it('resolves each task by task > flow > namespace > instance > defaultVersion and records the set', async () => {
    t = await createTestRuntime({
      config: {
        plugins: {
          defaultVersion: 'OLDEST',
          defaults: [{ type: 'test.versioned', values: { version: '~1.2' } }],
        },
        namespaces: {
          'test.ns': {
            pluginDefaults: [
              { type: 'test.versioned.Hello', values: { version: '2.0.0', name: 'ns' } },
            ],
          },
        },
      },
    })
    const execution = await t.run(`
id: levels
namespace: test.ns.team
pluginDefaults:
  - type: test.versioned.Extra
    values:
      version: "^1"
tasks:
  - id: pinned
    type: test.versioned.Hello
    version: "1.0.0"
  - id: by-namespace
    type: test.versioned.Hello
  - id: by-flow
    type: test.versioned.Extra
  - id: by-default
    type: test.fixtures.Echo
    value: 1
`)
    expect(execution.state.current).toBe('SUCCESS')
    const pick = (taskId: string) =>
      execution.plugins.find((plugin) => plugin.taskIds.includes(taskId))
    expect(pick('pinned')).toMatchObject({ version: '1.0.0', decidedBy: 'task' })
    expect(pick('by-namespace')).toMatchObject({ version: '2.0.0', decidedBy: 'namespace' })
    expect(pick('by-flow')).toMatchObject({ version: '1.2.0', decidedBy: 'flow' })
    expect(pick('by-default')).toMatchObject({ version: '1.0.0', decidedBy: 'defaultVersion' })
    expect(t.taskRun(execution, 'pinned').outputs).toEqual({
      message: 'Hello, ns!',
      version: '1.0.0',
    })
    expect(t.taskRun(execution, 'by-namespace').outputs).toEqual({
      message: 'Hello, ns!',
      version: '2.0.0',
    })
  })

  it('keeps the recorded versions even when a newer one is installed mid-run', async () => {
    const [v1, v12, v2] = versionedPlugins()
    t = await createTestRuntime({ plugins: [fixtures(), v1!, v12!] })
    const source = `
id: pinned-run
namespace: test.engine
tasks:
  - id: slow
    type: test.fixtures.Slow
    ms: 200
  - id: hello
    type: test.versioned.Hello
    name: Ada
`
    await t.runtime.engine.saveFlow(source)
    const started = await t.runtime.engine.start({ namespace: 'test.engine', flowId: 'pinned-run' })
    expect(started.plugins.find((plugin) => plugin.type === 'test.versioned.Hello')?.version).toBe(
      '1.2.0',
    )
    t.runtime.catalog.add(v2!)
    const done = await t.runtime.engine.waitFor(started.id)
    expect(t.taskRun(done, 'hello').outputs).toEqual({ message: 'Hello, Ada!', version: '1.2.0' })
    expect(t.taskRun(done, 'hello').pluginVersion).toBe('1.2.0')
    const next = await t.run(source)
    expect(t.taskRun(next, 'hello').pluginVersion).toBe('2.0.0')
  })

  it('strict mode refuses tasks without a version, except the core group', async () => {
    t = await createTestRuntime({ config: { plugins: { defaultVersion: 'NONE' } } })
    const saving = t.runtime.engine.saveFlow(`
id: strict
namespace: test.engine
tasks:
  - id: core
    type: kite.core.log.Log
    message: fine
  - id: loose
    type: test.fixtures.Echo
    value: 1
`)
    await expect(saving).rejects.toMatchObject({
      code: 'FLOW_INVALID',
      issues: [
        expect.objectContaining({
          taskId: 'loose',
          message: expect.stringContaining('plugins.defaultVersion is NONE (strict mode)'),
        }),
      ],
    })
  })
})
