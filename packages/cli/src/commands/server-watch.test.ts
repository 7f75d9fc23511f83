import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT, runKite, startLocalServer, stopAllKites } from '../../test/kite.js'

// `kite server local --plugin DIR --watch` against a real child process: the plugin directory is
// rewritten while it runs, the way `npm run dev` (kite-plugin build --watch) rewrites it.

const GREETING = join(REPO_ROOT, 'examples', 'plugins', 'greeting')
// Under the monorepo's node_modules, so the bundle's `@kite/sdk` import resolves as it does for
// a plugin with its own node_modules.
const work = join(REPO_ROOT, 'node_modules', '.cache', `kite-watch-${process.pid}`)
const plugin = join(work, 'greeting')
const manifestFile = join(plugin, 'dist', 'kite-plugin.json')

// biome-ignore lint/suspicious/noExplicitAny: API answers are checked by the assertions below
type Json = any

beforeAll(async () => {
  await mkdir(plugin, { recursive: true })
  await cp(join(GREETING, 'package.json'), join(plugin, 'package.json'))
  await cp(join(GREETING, 'dist'), join(plugin, 'dist'), { recursive: true })
})

afterAll(async () => {
  await stopAllKites()
  await rm(work, { recursive: true, force: true })
})

/** What a build writes: package.json, the bundle, then the manifest, with a version and a suffix. */
async function rebuild(version: string, suffix: string) {
  const pkg = JSON.parse(await readFile(join(GREETING, 'package.json'), 'utf8'))
  await writeFile(join(plugin, 'package.json'), JSON.stringify({ ...pkg, version }, null, 2))
  const bundle = await readFile(join(GREETING, 'dist', 'index.js'), 'utf8')
  const changed = bundle.replace(/(const message = `[^`]*!)`;/, `$1${suffix}\`;`)
  expect(changed).not.toBe(bundle)
  await writeFile(join(plugin, 'dist', 'index.js'), changed)
  const manifest = JSON.parse(await readFile(join(GREETING, 'dist', 'kite-plugin.json'), 'utf8'))
  await writeFile(manifestFile, JSON.stringify({ ...manifest, version }, null, 2))
}

const FLOW = `id: watched
namespace: demo.watch
tasks:
  - id: first
    type: acme.greeting.Hello
    name: A
  - id: wait
    type: kite.flow.Pause
  - id: second
    type: acme.greeting.Hello
    name: B
`

describe('kite server local --watch', { timeout: 120_000 }, () => {
  it('re-imports a rebuilt plugin for new executions; running ones keep their version; a broken build keeps the previous one', async () => {
    const server = await startLocalServer(join(work, 'data'), ['--plugin', plugin, '--watch'], {
      cwd: work,
    })
    const { url } = server
    const api = async (path: string, init: RequestInit = {}) => {
      const response = await fetch(`${url}/api/v1${path}`, init)
      return { status: response.status, body: (await response.json()) as Json }
    }
    const saved = await api('/flows', {
      method: 'POST',
      headers: { 'content-type': 'application/x-yaml' },
      body: FLOW,
    })
    expect(saved.status).toBe(200)
    const start = () => api('/executions/demo.watch/watched?wait=true', { method: 'POST' })
    const waitForLine = async (pattern: RegExp, stream: 'out' | 'err', after: number) => {
      const deadline = Date.now() + 20_000
      while (!pattern.test(server.output()[stream].slice(after))) {
        if (Date.now() > deadline) throw new Error(`no ${pattern} in:\n${server.output()[stream]}`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
    await waitForLine(/watch: watching .*greeting for rebuilds/, 'out', 0)
    const firstMessage = (execution: Json) =>
      execution.taskRunList.find((run: Json) => run.taskId === 'first').outputs.message

    // An execution that starts on 1.0.0 and is paused across the rebuild.
    const running = (await start()).body
    expect(running.state.current).toBe('PAUSED')
    expect(running.plugins[0]).toMatchObject({ version: '1.0.0' })
    expect(firstMessage(running)).toBe('Hello, A!')

    let mark = server.output().out.length
    await rebuild('1.0.1', ' (rebuilt)')
    await waitForLine(/re-imported .* \(build 1\): new executions use it/, 'out', mark)
    expect(server.output().out.slice(mark)).toContain(
      'plugin @acme/kite-plugin-greeting@1.0.1 re-imported',
    )
    const fresh = (await start()).body
    expect(fresh.plugins[0]).toMatchObject({ version: '1.0.1' })
    expect(firstMessage(fresh)).toBe('Hello, A! (rebuilt)')

    // The paused execution resumes on the version it started with.
    expect((await api(`/executions/${running.id}/resume`, { method: 'POST' })).status).toBe(200)
    let resumed: Json
    for (let tries = 0; tries < 200; tries++) {
      resumed = (await api(`/executions/${running.id}`)).body
      if (resumed.state.current === 'SUCCESS') break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(resumed.state.current).toBe('SUCCESS')
    const second = resumed.taskRunList.find((run: Json) => run.taskId === 'second')
    expect(second.pluginVersion).toBe('1.0.0')
    expect(second.outputs.message).toBe('Hello, B!')

    // A garbage manifest: a clear error, and the previous version keeps serving.
    let errMark = server.output().err.length
    await writeFile(manifestFile, '{ "manifestVersion": 1, "name": ')
    await waitForLine(/still serving @acme\/kite-plugin-greeting@1\.0\.1/, 'err', errMark)
    expect(server.output().err.slice(errMark)).toMatch(/error: plugin directory .*greeting/)
    expect(firstMessage((await start()).body)).toBe('Hello, A! (rebuilt)')

    // A bundle that does not match its manifest is refused the same way.
    errMark = server.output().err.length
    const manifest = JSON.parse(await readFile(join(GREETING, 'dist', 'kite-plugin.json'), 'utf8'))
    await writeFile(join(plugin, 'dist', 'index.js'), 'export default 42\n')
    await writeFile(manifestFile, JSON.stringify({ ...manifest, version: '1.0.1' }))
    await waitForLine(/still serving @acme\/kite-plugin-greeting@1\.0\.1/, 'err', errMark)
    expect(server.output().err.slice(errMark)).toContain('definePlugin')
    expect(firstMessage((await start()).body)).toBe('Hello, A! (rebuilt)')

    // The same version rebuilt in place replaces it for what starts next.
    mark = server.output().out.length
    await rebuild('1.0.1', ' (again)')
    await waitForLine(/1\.0\.1 re-imported .* new executions use it/, 'out', mark)
    const again = (await start()).body
    expect(again.plugins[0]).toMatchObject({ version: '1.0.1' })
    expect(firstMessage(again)).toBe('Hello, A! (again)')

    expect(await server.stop()).toBe(0)
  })

  it('refuses --watch without a --plugin directory', async () => {
    const refused = await runKite(['server', 'local', '--port', '0', '--watch'], { cwd: work })
    expect(refused.code).toBe(2)
    expect(refused.err).toContain('--watch re-imports --plugin directories')
  })
})
