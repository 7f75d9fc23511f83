import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixturePlugins, renamedPlugins } from '../../test/fixtures/plugins.js'
import {
  type GreetingServer,
  REPO_ROOT as root,
  startGreetingServer,
} from '../../test/greeting-server.js'
import type { KiteServer } from '../api/server.js'
import type { FlowUpgrade } from './upgrade.js'

interface Answer {
  message: string
  flows: FlowUpgrade[]
}

const GREETING = '@acme/kite-plugin-greeting'
/** The example flows that use the greeting plugin and resolve without instance configuration. */
const EXAMPLES = ['pin-exact', 'pin-flow-defaults', 'pin-latest', 'pin-oldest', 'pin-range']
/** Sets `name` through pluginDefaults, which no task migration can reach. */
const DEFAULTS_NAME = `id: defaults-name
namespace: kite.examples
pluginDefaults:
  - type: acme.greeting.Hello
    values:
      name: from defaults
tasks:
  - id: hello
    type: acme.greeting.Hello
    version: "^1"
`

/** A condition nested under a trigger, pinned to 1.0.0. */
const CONDITION = `id: condition
namespace: kite.examples
tasks:
  - id: log
    type: kite.core.log.Log
    message: hi
triggers:
  - id: nightly
    type: kite.trigger.Schedule
    cron: "0 0 * * *"
    conditions:
      - type: acme.greeting.NameMatches
        version: "1.0.0"
        name: Ada
        pattern: "A.*"
`
/** Stored before it became invalid: \`who\` does not exist in 1.0.0. */
const BROKEN = `id: broken
namespace: kite.examples
tasks:
  - id: hello
    type: acme.greeting.Hello
    version: "1.0.0"
    who: Ada
`
/** Invalid too, but it does not use the greeting plugin: not the assistant's business. */
const UNRELATED = `id: unrelated
namespace: kite.examples
tasks:
  - id: echo
    type: test.fixtures.Echo
    nope: 1
`
/** The old id of a renamed type, on the version that still has it. */
const RENAMED = `id: renamed
namespace: test.renamed
tasks:
  - id: hi
    type: test.renamed.Greet
    version: "1.0.0"
    who: Ada
`

let started: GreetingServer
let server: KiteServer
const api = (path: string, init: RequestInit = {}) => fetch(`${server.url}/api/v1${path}`, init)
const upgrade = async (body: Record<string, unknown>) => {
  const response = await api('/plugins/upgrade', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: response.status, body: (await response.json()) as Answer }
}

beforeAll(async () => {
  started = await startGreetingServer({
    plugins: [...fixturePlugins(), ...renamedPlugins()],
    scheduler: false,
  })
  server = started.server
  for (const name of EXAMPLES) {
    const source = await readFile(join(root, 'examples/flows', `${name}.yml`), 'utf8')
    await server.runtime.engine.saveFlow(source)
  }
  await server.runtime.engine.saveFlow(DEFAULTS_NAME)
  await server.runtime.engine.saveFlow(CONDITION)
  await server.runtime.engine.saveFlow(RENAMED)
  for (const [id, source] of [
    ['broken', BROKEN],
    ['unrelated', UNRELATED],
  ]) {
    await server.runtime.store.saveFlow({ namespace: 'kite.examples', id: id!, source: source! })
  }
}, 60_000)
afterAll(() => started?.close())

describe('POST /plugins/upgrade', { timeout: 60_000 }, () => {
  it('reports, as a dry run, which example flows move and which cannot', async () => {
    const { status, body } = await upgrade({ plugin: GREETING, to: '2.0.0' })
    expect(status).toBe(200)
    const byId: Record<string, FlowUpgrade> = Object.fromEntries(
      body.flows.map((flow) => [flow.id, flow]),
    )
    expect(Object.keys(byId).sort()).toEqual(
      [...EXAMPLES, 'defaults-name', 'condition', 'broken'].sort(),
    )
    for (const id of ['pin-exact', 'pin-flow-defaults', 'pin-oldest', 'pin-range']) {
      expect(byId[id]).toMatchObject({
        status: 'migrated',
        tasks: [
          { id: 'hello', from: '1.0.0', status: 'migrated', notes: ['`name` is renamed `who`'] },
        ],
      })
    }
    expect(byId['pin-latest']).toMatchObject({
      status: 'unchanged',
      tasks: [{ id: 'hello', from: '2.0.0', status: 'unchanged' }],
    })
    expect(byId['pin-range']?.diff).toContain('-     version: "^1"')
    expect(byId['pin-range']?.diff).toContain('+     version: "2.0.0"')
    expect(byId['pin-range']?.diff).toContain('-     name: range')
    expect(byId['pin-range']?.diff).toContain('+     who: range')
    expect(byId['defaults-name']).toMatchObject({ status: 'blocked' })
    expect(byId['defaults-name']?.reason).toMatch(/name/)
    // The condition nested under the trigger moves to 2.0.0 (it has no migration to run).
    expect(byId.condition).toMatchObject({
      status: 'migrated',
      tasks: [{ id: 'nightly.conditions[0]', from: '1.0.0', status: 'migrated', notes: [] }],
    })
    expect(byId.condition?.diff).toContain('-         version: "1.0.0"')
    expect(byId.condition?.diff).toContain('+         version: "2.0.0"')
    // A stored flow that does not validate today is reported, with why.
    expect(byId.broken).toMatchObject({ status: 'blocked', tasks: [] })
    expect(byId.broken?.reason).toMatch(/does not validate today.*line 7: .*"who"/)
    // A dry run saves nothing.
    expect((await server.runtime.store.listFlows()).every((flow) => flow.revision === 1)).toBe(true)
  })

  it('applies: saves the flows that are not blocked, pinned to the target version', async () => {
    const { body } = await upgrade({ plugin: GREETING, to: '2.0.0', apply: true })
    const saved = body.flows.filter((flow: { revision?: number }) => flow.revision !== undefined)
    expect(saved.map((flow: { id: string }) => flow.id).sort()).toEqual(
      ['pin-exact', 'pin-flow-defaults', 'pin-oldest', 'pin-range', 'condition'].sort(),
    )
    const condition = await server.runtime.engine.getFlow('kite.examples', 'condition')
    expect(server.runtime.engine.validateSource(condition?.source ?? '').plugins).toContainEqual(
      expect.objectContaining({ type: 'acme.greeting.NameMatches', version: '2.0.0' }),
    )
    const stored = await server.runtime.engine.getFlow('kite.examples', 'pin-range')
    expect(stored?.revision).toBe(2)
    const validated = server.runtime.engine.validateSource(stored?.source ?? '')
    expect(validated.plugins[0]).toMatchObject({ package: GREETING, version: '2.0.0' })
    expect((await server.runtime.engine.getFlow('kite.examples', 'defaults-name'))?.revision).toBe(
      1,
    )
    // Nothing left to move but the blocked one.
    const again = await upgrade({ plugin: GREETING, to: '2.0.0' })
    const moving = again.body.flows.filter((flow) => flow.status !== 'unchanged')
    expect(moving).toHaveLength(2)
    expect(moving).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: 'defaults-name', status: 'blocked' }),
        expect.objectContaining({ id: 'broken', status: 'blocked' }),
      ]),
    )
  })

  it.each([
    [{ plugin: '@acme/nothing', to: '1.0.0' }, 404, /plugin @acme\/nothing is not installed/],
    [
      { plugin: GREETING, to: '9.9.9' },
      404,
      /@9\.9\.9 is not installed \(installed: 1\.0\.0, 2\.0\.0\)/,
    ],
    [{ plugin: GREETING, to: '^2' }, 400, /needs an exact version/],
    [
      { plugin: GREETING, to: '1.0.0' },
      422,
      /older than versions saved flows use.*the assistant only upgrades/,
    ],
    [{ plugin: GREETING }, 400, /to/],
  ])('refuses %o with %i', async (body, status, message) => {
    const answer = await upgrade(body)
    expect(answer.status).toBe(status)
    expect(answer.body.message).toMatch(message)
    expect((await api('/plugins')).status).toBe(200)
  })
})

describe('a renamed type', { timeout: 60_000 }, () => {
  it('is rewritten to its new id by the assistant', async () => {
    const { status, body } = await upgrade({ plugin: '@test/kite-plugin-renamed', to: '2.1.0' })
    expect(status).toBe(200)
    expect(body.flows).toEqual([
      expect.objectContaining({
        id: 'renamed',
        status: 'migrated',
        tasks: [
          expect.objectContaining({
            id: 'hi',
            from: '1.0.0',
            notes: ['`test.renamed.Greet` is renamed `test.renamed.Hello`'],
          }),
        ],
      }),
    ])
    expect(body.flows[0]?.diff).toContain('-     type: test.renamed.Greet')
    expect(body.flows[0]?.diff).toContain('+     type: test.renamed.Hello')
  })

  it('resolves through its alias at save, with a warning placed at the type', async () => {
    const yaml = RENAMED.replace('"1.0.0"', '"^2"').replace('id: renamed', 'id: renamed-later')
    for (const path of ['/flows/validate', '/flows']) {
      const response = await api(path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-yaml' },
        body: yaml,
      })
      expect(response.status).toBe(200)
      const answer = (await response.json()) as {
        plugins: { type: string; version: string }[]
        warnings: { path: string; line: number; column: number; message: string }[]
      }
      expect(answer.plugins).toEqual([
        expect.objectContaining({ type: 'test.renamed.Hello', version: '2.1.0' }),
      ])
      expect(answer.warnings).toEqual([
        expect.objectContaining({
          path: 'tasks[0].type',
          line: 5,
          column: 11,
          message:
            'task "hi": `test.renamed.Greet` is an alias of `test.renamed.Hello` since 2.0.0; rename it',
        }),
      ])
    }
  })
})
