// `kite server local --flows DIR` on an empty data dir (issue 14): the flows' plugins come from
// the registry after the start, so a flow that only lacks installed plugins is saved once they
// are, instead of the start failing. A real registry on loopback and the real npm CLI.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRegistry, type Registry } from '@kite/registry'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer, type KiteServer } from '../src/index.js'
import { createUser, labBundle, writeAndPublish, writeNpmrc } from './plugin-publishing.js'

const LAB = '@acme/kite-plugin-lab'
let work: string
let registry: Registry
let userconfig: string

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kite-flows-wait-'))
  registry = await createRegistry({ port: 0, storage: join(work, 'registry') })
  userconfig = join(work, 'user.npmrc')
  await writeNpmrc(userconfig, registry.url, await createUser(registry.url, 'flows-wait'))
}, 60_000)

afterAll(async () => {
  await registry?.close()
  await rm(work, { recursive: true, force: true })
})

const SLEEP_FLOW = `id: nap
namespace: acme.wait
tasks:
  - id: nap
    type: acme.lab.Sleep
    version: "^1"
    ms: 5
`

describe('--flows on an empty data dir', () => {
  it('starts, then saves the flows once the registry installs their plugins', async () => {
    const flows = join(work, 'flows')
    await mkdir(flows, { recursive: true })
    await writeFile(join(flows, 'nap.yaml'), SLEEP_FLOW)
    let server: KiteServer | undefined
    try {
      server = await createServer({
        dataDir: join(work, 'data'),
        port: 0,
        registry: registry.url,
        flowsDir: flows,
      })
      expect(server.runtime.pendingFlows()).toEqual([expect.stringMatching(/nap\.yaml$/)])
      expect(await server.runtime.store.getFlow('acme.wait', 'nap')).toBeUndefined()
      const health = await fetch(`${server.url}/api/v1/health`)
      expect(health.status).toBe(200)

      await writeAndPublish(
        join(work, 'lab-1.0.0'),
        { name: LAB, version: '1.0.0', bundle: labBundle('1.0.0') },
        registry.url,
        userconfig,
      )
      await expect
        .poll(() => server?.runtime.pendingFlows().length, { timeout: 30_000, interval: 100 })
        .toBe(0)
      expect((await server.runtime.store.getFlow('acme.wait', 'nap'))?.revision).toBe(1)
      const started = await server.runtime.engine.start({ namespace: 'acme.wait', flowId: 'nap' })
      const ended = await server.runtime.engine.waitFor(started.id)
      expect(ended.state.current).toBe('SUCCESS')
    } finally {
      await server?.close()
    }
  }, 120_000)

  it('still refuses a flow with another problem, naming the file', async () => {
    const flows = join(work, 'flows-bad')
    await mkdir(flows, { recursive: true })
    await writeFile(join(flows, 'nap.yaml'), SLEEP_FLOW.replace('nap', 'nap2'))
    await writeFile(join(flows, 'broken.yaml'), 'id: broken\nnamespace: acme.wait\ntasks: 42\n')
    const failed = createServer({
      dataDir: join(work, 'data-bad'),
      port: 0,
      registry: registry.url,
      flowsDir: flows,
    })
    // Were it to start, it would be stopped here.
    failed.then((server) => server.close()).catch(() => {})
    await expect(failed).rejects.toMatchObject({ code: 'FLOW_INVALID' })
    await expect(failed).rejects.toThrow(/1 problem/)
    const error = (await failed.catch((caught: unknown) => caught)) as {
      issues: { path: string }[]
    }
    expect(error.issues.map((issue) => issue.path).join('\n')).toMatch(/broken\.yaml/)
    expect(error.issues.map((issue) => issue.path).join('\n')).not.toMatch(/nap\.yaml/)
  }, 60_000)
})
