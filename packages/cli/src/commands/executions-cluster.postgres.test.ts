import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRuntime, createServer, type KiteServer, type Runtime } from '@kite/runtime'
import { defineTask, z } from '@kite/sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase } from '../../../runtime/test/fixtures/postgres.js'
import { runKite } from '../../test/kite.js'
import { taskPlugin } from '../../test/runtime-server.js'

// `kite executions kill|resume|restart --server` against an api-only node of a cluster: the
// executor node that holds each execution carries the command out.

const wait = defineTask({
  name: 'Wait',
  title: 'Wait',
  description: 'Waits until killed.',
  properties: z.object({}),
  outputs: z.object({}),
  async run(_props, ctx) {
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }))
    return {}
  },
})
const plugins = [taskPlugin('@acme/kite-plugin-wait', 'acme.wait', [wait])]

let database: Awaited<ReturnType<typeof createTestDatabase>>
let apiDir: string
let executorDir: string
let api: KiteServer
let executor: Runtime
beforeAll(async () => {
  database = await createTestDatabase()
  apiDir = await mkdtemp(join(tmpdir(), 'kite-cli-cluster-api-'))
  executorDir = await mkdtemp(join(tmpdir(), 'kite-cli-cluster-executor-'))
  const config = { store: { url: database.url } }
  executor = await createRuntime({
    dataDir: executorDir,
    config,
    roles: ['executor', 'worker'],
    scheduler: false,
    plugins,
    env: {},
  })
  api = await createServer({
    dataDir: apiDir,
    port: 0,
    config,
    roles: ['api'],
    scheduler: false,
    plugins,
    env: {},
  })
})
afterAll(async () => {
  await api?.close()
  await executor?.close()
  await database?.drop()
  for (const dir of [apiDir, executorDir]) if (dir) await rm(dir, { recursive: true, force: true })
})

async function stateOf(id: string, ...wanted: string[]): Promise<string> {
  const deadline = Date.now() + 15_000
  for (;;) {
    const state = (await api.runtime.store.getExecution(id))?.state.current ?? 'gone'
    if (wanted.includes(state) || Date.now() > deadline) return state
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('kite executions kill|resume|restart --server <api node of a cluster> (PostgreSQL)', () => {
  it('kills, resumes and restarts executions another node holds', async () => {
    const { engine } = api.runtime
    await engine.saveFlow(
      'id: waits\nnamespace: cli.cluster\ntasks:\n  - id: wait\n    type: acme.wait.Wait\n',
    )
    await engine.saveFlow(
      'id: asks\nnamespace: cli.cluster\ntasks:\n  - id: ask\n    type: kite.flow.Pause\n    onResume:\n      - id: approved\n        type: BOOLEAN\n',
    )
    const waiting = await engine.start({ namespace: 'cli.cluster', flowId: 'waits' })
    const asking = await engine.start({ namespace: 'cli.cluster', flowId: 'asks' })
    expect(await stateOf(waiting.id, 'RUNNING')).toBe('RUNNING')
    expect(await stateOf(asking.id, 'PAUSED')).toBe('PAUSED')

    const killed = await runKite(['executions', 'kill', waiting.id, '--server', api.url])
    expect(killed.err).toBe('')
    expect(killed.code).toBe(0)
    expect(killed.out).toMatch(new RegExp(`^killing ${waiting.id}: (KILLING|KILLED)\\n$`))
    expect(await stateOf(waiting.id, 'KILLED')).toBe('KILLED')

    const resume = (approved: string) =>
      runKite([
        'executions',
        'resume',
        asking.id,
        '--input',
        `approved=${approved}`,
        '--server',
        api.url,
      ])
    const bad = await resume('maybe')
    expect(bad.code).not.toBe(0)
    expect(bad.err).toContain('input "approved" (BOOLEAN)')
    expect(await stateOf(asking.id, 'PAUSED')).toBe('PAUSED')
    const resumed = await resume('true')
    expect(resumed.err).toBe('')
    expect(resumed.out).toMatch(new RegExp(`^resumed ${asking.id}: (RUNNING|SUCCESS)\\n$`))
    expect(await stateOf(asking.id, 'SUCCESS')).toBe('SUCCESS')

    // The killed one runs again on the executor node (its Wait waits again).
    const restarted = await runKite(['executions', 'restart', waiting.id, '--server', api.url])
    expect(restarted.err).toBe('')
    expect(restarted.out).toBe(`restarted ${waiting.id}: RUNNING\n`)
    const attempts = async () =>
      (await api.runtime.store.getExecution(waiting.id))?.taskRunList[0]?.attempts.map(
        (attempt) => attempt.state.current,
      )
    const deadline = Date.now() + 15_000
    while ((await attempts())?.length !== 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(await attempts()).toEqual(['KILLED', 'RUNNING'])
    expect((await runKite(['executions', 'kill', waiting.id, '--server', api.url])).code).toBe(0)
    expect(await stateOf(waiting.id, 'KILLED')).toBe('KILLED')
  })
})
