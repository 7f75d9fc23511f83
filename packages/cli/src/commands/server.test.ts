import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  REPO_ROOT,
  runKite,
  scratchDir,
  startKite,
  startLocalServer,
  stopAllKites,
} from '../../test/kite.js'

const GREETING = join(REPO_ROOT, 'examples', 'plugins', 'greeting')
const scratch = scratchDir('kite-cli-server-')

afterAll(async () => {
  await stopAllKites()
})

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const { port } = probe.address() as { port: number }
  await new Promise((resolve) => probe.close(resolve))
  return port
}

/** A folder of the scratch dir holding one flow file; its path. */
async function flowsFolder(folder: string, file: string, yaml: string): Promise<string> {
  const flows = join(scratch.path, folder)
  await mkdir(flows, { recursive: true })
  await writeFile(join(flows, file), yaml)
  return flows
}

describe('kite server local', { timeout: 120_000 }, () => {
  it('serves the API with local plugins and flows, and stops cleanly on SIGTERM', async () => {
    const flows = await flowsFolder(
      'flows',
      'hello.yaml',
      'id: hello\nnamespace: demo\ntasks:\n  - id: greet\n    type: acme.greeting.Hello\n    name: CLI\n',
    )
    const server = await startLocalServer(
      join(scratch.path, 'data'),
      ['--plugin', GREETING, '--flows', flows, '--registry', 'http://127.0.0.1:4873'],
      { cwd: scratch.path },
    )
    const { url } = server
    const { out } = server.output()
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
    const flows = await flowsFolder(
      'bad-flows',
      'bad.yaml',
      'id: bad\nnamespace: demo\ntasks:\n  - id: a\n    type: acme.greeting.Nope\n',
    )
    await writeFile(join(flows, 'garbage.yaml'), 'id: [unclosed\n')
    const server = await runKite(
      ['server', 'local', '--port', '0', '--data', join(scratch.path, 'data2'), '--flows', flows],
      { cwd: scratch.path },
    )
    expect(server.code).toBe(2)
    expect(server.err).toContain(`the flows of ${flows} are invalid: 2 problems\n`)
    expect(server.err).toContain(
      'bad.yaml: tasks[0] (line 5): task "a": unknown type "acme.greeting.Nope"',
    )
    // A problem of the whole file (its YAML) names the file alone, not `file: ` and an empty path.
    expect(server.err).toMatch(/\n {2}bad-flows\/garbage\.yaml \(line \d+\): invalid YAML: /)
  })

  it('refuses a cluster role without a PostgreSQL store, or with garbage for one, clearly', async () => {
    for (const role of ['api', 'executor', 'worker', 'scheduler']) {
      const refused = await runKite(
        ['server', role, '--data', join(scratch.path, `role-${role}`)],
        {
          cwd: scratch.path,
        },
      )
      expect(refused.code).not.toBe(0)
      expect(refused.err).toContain(
        `the ${role} role needs a PostgreSQL store shared by every node`,
      )
      expect(refused.err).not.toContain('    at ')
    }
    const garbage = await runKite(['server', 'worker', '--store', 'sqlite:///tmp/x.db'], {
      cwd: scratch.path,
    })
    expect(garbage.code).not.toBe(0)
    expect(garbage.err).toContain('expected a postgres:// URL')
    // `standalone` is `local`.
    const help = await runKite(['server', 'standalone', '--help'], { cwd: scratch.path })
    expect(help.out).toContain('Usage: kite server local|standalone')
  })

  it('fails early when its port is in use: says which and how to choose another, creates nothing', async () => {
    const busy = createServer().listen(0, '127.0.0.1')
    await once(busy, 'listening')
    const { port } = busy.address() as { port: number }
    const data = join(scratch.path, 'busy', 'data')
    try {
      const refused = await runKite(['server', 'local', '--port', String(port), '--data', data], {
        cwd: scratch.path,
      })
      expect(refused.code).toBe(1)
      expect(refused.err).toContain(`port ${port} is in use on 127.0.0.1`)
      expect(refused.err).toContain('--port')
      expect(`${refused.out}${refused.err}`).not.toContain('no users yet')
      expect(existsSync(join(scratch.path, 'busy'))).toBe(false)
    } finally {
      await new Promise((resolve) => busy.close(resolve))
    }
  })

  it('listens on KITE_PORT, where every other command finds it with KITE_PORT alone', async () => {
    const port = String(await freePort())
    const env = { KITE_PORT: port }
    const server = startKite(
      ['server', 'local', '--data', join(scratch.path, 'data3'), '--plugin', GREETING],
      /Press Ctrl-C to stop/,
      { cwd: scratch.path, env },
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
