import { once } from 'node:events'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT, runKite, startKite, stopAllKites } from '../../test/kite.js'

const GREETING = join(REPO_ROOT, 'examples', 'plugins', 'greeting')
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kite-cli-server-'))
})
afterAll(async () => {
  await stopAllKites()
  await rm(dir, { recursive: true, force: true })
})

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const { port } = probe.address() as { port: number }
  await new Promise((resolve) => probe.close(resolve))
  return port
}

describe('kite server local', { timeout: 120_000 }, () => {
  it('serves the API with local plugins and flows, and stops cleanly on SIGTERM', async () => {
    const flows = join(dir, 'flows')
    await mkdir(flows, { recursive: true })
    await writeFile(
      join(flows, 'hello.yaml'),
      'id: hello\nnamespace: demo\ntasks:\n  - id: greet\n    type: acme.greeting.Hello\n    name: CLI\n',
    )
    const server = startKite(
      [
        'server',
        'local',
        '--port',
        '0',
        '--data',
        join(dir, 'data'),
        '--plugin',
        GREETING,
        '--flows',
        flows,
        '--registry',
        'http://127.0.0.1:4873',
      ],
      /Press Ctrl-C to stop/,
      { cwd: dir },
    )
    await server.ready
    const { out } = server.output()
    const url = /running at (http:\/\/[\d.:]+)/.exec(out)?.[1]
    expect(url).toBeDefined()
    expect(out).toContain('plugins: @acme/kite-plugin-greeting@1.0.0')
    expect(out).toContain('flows:   1')
    const response = await fetch(`${url}/api/v1/executions/demo/hello?wait=true`, {
      method: 'POST',
    })
    const execution = (await response.json()) as {
      state: { current: string }
      taskRunList: Array<{ outputs: unknown }>
    }
    expect(execution.state.current).toBe('SUCCESS')
    expect(execution.taskRunList[0]?.outputs).toEqual({ message: 'Hello, CLI!' })
    expect(await server.stop()).toBe(0)
    expect(server.output().out).toContain('stopping the runtime')
  })

  it('refuses invalid flows at start with every problem listed, exit code 2', async () => {
    const flows = join(dir, 'bad-flows')
    await mkdir(flows, { recursive: true })
    await writeFile(
      join(flows, 'bad.yaml'),
      'id: bad\nnamespace: demo\ntasks:\n  - id: a\n    type: acme.greeting.Nope\n',
    )
    const server = await runKite(
      ['server', 'local', '--port', '0', '--data', join(dir, 'data2'), '--flows', flows],
      { cwd: dir },
    )
    expect(server.code).toBe(2)
    expect(server.err).toContain(
      'bad.yaml: tasks[0] (line 5): task "a": unknown type "acme.greeting.Nope"',
    )
  })

  it('refuses a cluster role without a PostgreSQL store, or with garbage for one, clearly', async () => {
    for (const role of ['api', 'executor', 'worker', 'scheduler']) {
      const refused = await runKite(['server', role, '--data', join(dir, `role-${role}`)], {
        cwd: dir,
      })
      expect(refused.code).not.toBe(0)
      expect(refused.err).toContain(
        `the ${role} role needs a PostgreSQL store shared by every node`,
      )
      expect(refused.err).not.toContain('    at ')
    }
    const garbage = await runKite(['server', 'worker', '--store', 'sqlite:///tmp/x.db'], {
      cwd: dir,
    })
    expect(garbage.code).not.toBe(0)
    expect(garbage.err).toContain('expected a postgres:// URL')
    // `standalone` is `local`.
    const help = await runKite(['server', 'standalone', '--help'], { cwd: dir })
    expect(help.out).toContain('Usage: kite server local|standalone')
  })

  it('listens on KITE_PORT, where every other command finds it with KITE_PORT alone', async () => {
    const port = String(await freePort())
    const env = { KITE_PORT: port }
    const server = startKite(
      ['server', 'local', '--data', join(dir, 'data3'), '--plugin', GREETING],
      /Press Ctrl-C to stop/,
      { cwd: dir, env },
    )
    await server.ready
    expect(server.output().out).toContain(`running at http://127.0.0.1:${port}`)
    const listed = await runKite(['plugins', 'list'], { env })
    expect(listed.err).toBe('')
    expect(listed.code).toBe(0)
    expect(listed.out).toContain('@acme/kite-plugin-greeting')
    expect(await server.stop()).toBe(0)
  })
})
