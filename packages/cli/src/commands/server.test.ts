import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const CLI_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const BIN = join(CLI_ROOT, 'bin', 'kite.js')
const GREETING = join(CLI_ROOT, '..', '..', 'examples', 'plugins', 'greeting')
let dir: string
const children = new Set<ChildProcess>()

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kite-cli-server-'))
})
afterAll(async () => {
  for (const child of children) await stop(child)
  await rm(dir, { recursive: true, force: true })
})

/** Runs the built `kite` binary; resolves once it printed `line` (or it exited). */
function kite(args: string[], until: RegExp) {
  if (!existsSync(join(CLI_ROOT, 'dist', 'bin.js')))
    throw new Error('build @kite/cli first (npm run build)')
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  let out = ''
  let err = ''
  child.stdout?.on('data', (chunk) => {
    out += chunk
  })
  child.stderr?.on('data', (chunk) => {
    err += chunk
  })
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)))
  const ready = new Promise<void>((resolve, reject) => {
    const check = () => {
      if (until.test(out)) resolve()
    }
    child.stdout?.on('data', check)
    exited.then((code) => reject(new Error(`kite exited with ${code}: ${err}`)))
  })
  // A caller that only waits for the exit does not care that it never became ready.
  ready.catch(() => {})
  return { child, ready, exited, output: () => ({ out, err }) }
}

function stop(child: ChildProcess): Promise<void> {
  children.delete(child)
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    process.kill(child.pid!, 'SIGTERM')
  })
}

describe('kite server local', () => {
  it('serves the API with local plugins and flows, and stops cleanly on SIGTERM', async () => {
    const flows = join(dir, 'flows')
    await mkdir(flows, { recursive: true })
    await writeFile(
      join(flows, 'hello.yaml'),
      'id: hello\nnamespace: demo\ntasks:\n  - id: greet\n    type: acme.greeting.Hello\n    name: CLI\n',
    )
    const server = kite(
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
    await stop(server.child)
    expect(await server.exited).toBe(0)
    expect(server.output().out).toContain('stopping the runtime')
  })

  it('refuses invalid flows at start with every problem listed, exit code 2', async () => {
    const flows = join(dir, 'bad-flows')
    await mkdir(flows, { recursive: true })
    await writeFile(
      join(flows, 'bad.yaml'),
      'id: bad\nnamespace: demo\ntasks:\n  - id: a\n    type: acme.greeting.Nope\n',
    )
    const server = kite(
      ['server', 'local', '--port', '0', '--data', join(dir, 'data2'), '--flows', flows],
      /never/,
    )
    const code = await server.exited
    children.delete(server.child)
    expect(code).toBe(2)
    expect(server.output().err).toContain(
      'bad.yaml: tasks[0] (line 5): task "a": unknown type "acme.greeting.Nope"',
    )
  })
})
