import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixturePlugins } from '../../test/fixtures/plugins.js'
import { createServer, type KiteServer } from '../api/server.js'
import { type FlowUpgrade, lineDiff } from './upgrade.js'

interface Answer {
  message: string
  flows: FlowUpgrade[]
}

const root = resolve(import.meta.dirname, '../../../..')
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

let dataDir: string
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
  dataDir = await mkdtemp(join(tmpdir(), 'kite-upgrade-'))
  server = await createServer({
    dataDir,
    port: 0,
    pluginDirs: [
      join(root, 'packages/plugins/core'),
      join(root, 'examples/plugins/greeting'),
      join(root, 'examples/plugins/greeting/v2'),
    ],
    plugins: fixturePlugins(),
    scheduler: false,
  })
  for (const name of EXAMPLES) {
    const source = await readFile(join(root, 'examples/flows', `${name}.yml`), 'utf8')
    await server.runtime.engine.saveFlow(source)
  }
  await server.runtime.engine.saveFlow(DEFAULTS_NAME)
}, 60_000)
afterAll(async () => {
  await server?.close()
  await rm(dataDir, { recursive: true, force: true })
})

describe('POST /plugins/upgrade', { timeout: 60_000 }, () => {
  it('reports, as a dry run, which example flows move and which cannot', async () => {
    const { status, body } = await upgrade({ plugin: GREETING, to: '2.0.0' })
    expect(status).toBe(200)
    const byId: Record<string, FlowUpgrade> = Object.fromEntries(
      body.flows.map((flow) => [flow.id, flow]),
    )
    expect(Object.keys(byId).sort()).toEqual([...EXAMPLES, 'defaults-name'].sort())
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
    // A dry run saves nothing.
    expect((await server.runtime.store.listFlows()).every((flow) => flow.revision === 1)).toBe(true)
  })

  it('applies: saves the flows that are not blocked, pinned to the target version', async () => {
    const { body } = await upgrade({ plugin: GREETING, to: '2.0.0', apply: true })
    const saved = body.flows.filter((flow: { revision?: number }) => flow.revision !== undefined)
    expect(saved.map((flow: { id: string }) => flow.id).sort()).toEqual(
      ['pin-exact', 'pin-flow-defaults', 'pin-oldest', 'pin-range'].sort(),
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
    expect(
      again.body.flows.filter((flow: { status: string }) => flow.status !== 'unchanged'),
    ).toEqual([expect.objectContaining({ id: 'defaults-name', status: 'blocked' })])
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

describe('lineDiff', () => {
  it('marks removed and added lines and keeps the rest', () => {
    expect(lineDiff('a\nb\nc\n', 'a\nx\nc\n')).toBe('  a\n- b\n+ x\n  c')
    expect(lineDiff('a\n', 'a\n')).toBe('  a')
  })
})
