// Issue 15, pin on demand and errors from the registry's diff: a real Kite registry on loopback
// with greeting 1.0.0 and 2.0.0 published by the real npm CLI, and runtimes that install
// nothing by themselves (manual sync), so every install here is the save's doing.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Registry } from '@kite/registry'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer, type KiteServer } from '../src/index.js'
import { greetingRegistry } from './plugin-publishing.js'

const GREETING = '@acme/kite-plugin-greeting'
let work: string
let registry: Registry
/** Installs on demand. */
let runtime: KiteServer
/** `plugins.security` excludes the greeting plugin. */
let strict: KiteServer

interface Answer {
  message: string
  code?: string
  errors?: { path: string; message: string; line?: number }[]
  warnings?: unknown[]
}

const post = async (server: KiteServer, path: string, yaml: string) => {
  const response = await fetch(`${server.url}/api/v1${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-yaml' },
    body: yaml,
  })
  return { status: response.status, body: (await response.json()) as Answer }
}
const greet = (id: string, version: string, property: string) =>
  `id: ${id}\nnamespace: acme.demand\ntasks:\n  - id: hi\n    type: acme.greeting.Hello\n    version: "${version}"\n    ${property}: Ada\n`
const installed = (server: KiteServer) =>
  server.runtime.catalog.versionsOf(GREETING).map((plugin) => plugin.version)

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kite-flow-registry-'))
  registry = await greetingRegistry(work, 'acme')
  const manual = { plugins: { sync: 'manual' as const } }
  runtime = await createServer({
    dataDir: join(work, 'runtime'),
    port: 0,
    registry: registry.url,
    config: manual,
  })
  strict = await createServer({
    dataDir: join(work, 'strict'),
    port: 0,
    registry: registry.url,
    config: {
      plugins: { ...manual.plugins, security: { includes: [], excludes: [GREETING] } },
    },
  })
}, 180_000)

afterAll(async () => {
  await Promise.all([runtime?.close(), strict?.close()])
  await registry?.close()
  if (work) await rm(work, { recursive: true, force: true })
})

describe('saving a flow with the registry behind', { timeout: 120_000 }, () => {
  it('installs a pinned version the registry has and saves the flow', async () => {
    expect(installed(runtime)).toEqual([])
    const saved = await post(runtime, '/flows', greet('pinned', '1.0.0', 'name'))
    expect(saved.status).toBe(200)
    expect(installed(runtime)).toEqual(['1.0.0'])
    expect(saved.body).toMatchObject({
      plugins: [{ taskId: 'hi', package: GREETING, version: '1.0.0' }],
      warnings: [],
    })
  })

  it('says which versions the registry has when none matches the pin', async () => {
    const refused = await post(runtime, '/flows', greet('nothing', '^3', 'name'))
    expect(refused.status).toBe(422)
    expect(refused.body.errors).toHaveLength(1)
    expect(refused.body.errors?.[0]?.message).toContain(
      `the registry has acme.greeting.Hello in ${GREETING} 1.0.0, 2.0.0: pin one of them`,
    )
    expect(refused.body.message).toContain('the registry has acme.greeting.Hello')
    expect(installed(runtime)).toEqual(['1.0.0'])
  })

  it('tells a property renamed in 2.0.0 from the registry diff, after installing 2.0.0 on demand', async () => {
    const refused = await post(runtime, '/flows/validate', greet('renamed', '2.0.0', 'name'))
    expect(refused.status).toBe(422)
    expect(installed(runtime)).toEqual(['1.0.0', '2.0.0'])
    expect(refused.body.errors).toHaveLength(1)
    const [error] = refused.body.errors ?? []
    expect(error).toMatchObject({ path: 'tasks[0].name', line: 7 })
    expect(error?.message).toContain(
      `"name" was renamed to "who" in 2.0.0 (the registry's diff 1.0.0 → 2.0.0): run \`kite plugins upgrade ${GREETING} --to 2.0.0\` or pin "1.x"`,
    )
    // The same flow written for 2.0.0 is valid.
    expect((await post(runtime, '/flows/validate', greet('renamed', '2.0.0', 'who'))).status).toBe(
      200,
    )
  })

  it('installs nothing that plugins.security refuses, and says so', async () => {
    const refused = await post(strict, '/flows', greet('refused', '1.0.0', 'name'))
    expect(refused.status).toBe(422)
    expect(refused.body.errors?.[0]?.message).toContain(
      `the registry has ${GREETING}@1.0.0, but plugins.security does not allow ${GREETING}`,
    )
    expect(installed(strict)).toEqual([])
  })

  it.each([
    ['not YAML', 'id: [unclosed'],
    ['no tasks', 'id: x\nnamespace: acme.demand\n'],
    ['an unknown type', greet('x', '1.0.0', 'name').replace('Hello', 'Helo')],
    ['a version that is no version', greet('x', 'one', 'name')],
  ])('answers %s with a clear 422 and stays up', async (_what, yaml) => {
    const answer = await post(runtime, '/flows', yaml)
    expect(answer.status).toBe(422)
    expect(answer.body.message).toMatch(/\S/)
    expect((await fetch(`${runtime.url}/api/v1/flows`)).status).toBe(200)
  })
})
