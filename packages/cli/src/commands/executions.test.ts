import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer, definePluginVersion, type KiteServer } from '@kite/runtime'
import { definePlugin, defineTask, z } from '@kite/sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runKite } from '../../test/kite.js'

const say = defineTask({
  name: 'Say',
  title: 'Say',
  description: 'Logs its message; fails on "boom".',
  properties: z.object({ message: z.string() }),
  outputs: z.object({ said: z.string() }),
  run(props, ctx) {
    ctx.logger.info(`saying ${props.message}`)
    if (props.message === 'boom') throw new Error('it went boom')
    return { said: props.message }
  },
})
const plugin = definePlugin({
  group: 'acme.exec',
  title: 'Executions CLI test',
  description: 'A plugin for the executions CLI test.',
  tasks: [say],
  triggers: [],
  conditions: [],
})

let dir: string
let server: KiteServer
let ok: string
let failed: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kite-cli-executions-'))
  server = await createServer({
    dataDir: dir,
    port: 0,
    plugins: [definePluginVersion({ name: '@acme/kite-plugin-exec', version: '1.0.0', plugin })],
  })
  const { engine } = server.runtime
  for (const [id, message] of [
    ['fine', 'hello'],
    ['broken', 'boom'],
  ]) {
    await engine.saveFlow(
      `id: ${id}\nnamespace: cli.exec\ntasks:\n  - id: say\n    type: acme.exec.Say\n    message: ${message}\n`,
    )
  }
  ok = (await engine.waitFor((await engine.start({ namespace: 'cli.exec', flowId: 'fine' })).id)).id
  failed = (
    await engine.waitFor((await engine.start({ namespace: 'cli.exec', flowId: 'broken' })).id)
  ).id
})
afterAll(async () => {
  await server?.close()
  await rm(dir, { recursive: true, force: true })
})

const kite = (...args: string[]) =>
  runKite(['executions', ...args], { env: { KITE_SERVER: server.url } })

describe('kite executions', { timeout: 120_000 }, () => {
  it('lists executions, newest first, with filters', async () => {
    const all = await kite('list')
    expect(all.code).toBe(0)
    expect(all.out.indexOf(failed)).toBeLessThan(all.out.indexOf(ok))
    expect(all.out).toMatch(/page 1, 2 of 2/)
    const onlyFailed = await kite('list', '--state', 'FAILED', '--json')
    const page = JSON.parse(onlyFailed.out) as { results: { id: string }[] }
    expect(page.results.map((item) => item.id)).toEqual([failed])
    const bad = await kite('list', '--state', 'DONE')
    expect(bad.code).toBe(1)
    expect(bad.err).toContain('unknown state "DONE"')
  })

  it('shows one execution with its task runs, and its logs', async () => {
    const shown = await kite('show', ok)
    expect(shown.code).toBe(0)
    expect(shown.out).toContain(`execution ${ok} of cli.exec/fine`)
    expect(shown.out).toMatch(/say\s+acme\.exec\.Say@1\.0\.0\s+SUCCESS/)
    const logs = await kite('logs', failed)
    expect(logs.out).toMatch(/\[say\] info: saying boom/)
    const missing = await kite('show', 'nope')
    expect(missing.code).toBe(1)
    expect(missing.err).toBe('kite: get execution nope: execution "nope" not found\n')
  })

  it('follows an execution to its end; the exit code says how it ended', async () => {
    const fine = await kite('follow', ok)
    expect(fine.code).toBe(0)
    expect(fine.out).toContain('saying hello')
    expect(fine.out).toMatch(/state: SUCCESS\n$/)
    const broken = await kite('follow', failed)
    expect(broken.code).toBe(1)
    expect(broken.out).toMatch(/state: FAILED\n$/)
  })
})
