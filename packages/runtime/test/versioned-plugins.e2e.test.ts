// Issue 5, end to end: a real Kite registry on loopback, packages published with the real npm
// CLI, runtimes installing them from the registry by themselves (events + catalog), running
// several versions of one plugin side by side in worker threads, and a second runtime process.
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { gunzipSync, gzipSync } from 'node:zlib'
import { createRegistry, type Registry } from '@kite/registry'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer, type KiteServer } from '../src/index.js'
import {
  createUser,
  GREETING_V1,
  GREETING_V2,
  labBundle,
  npmPublish,
  REPO_DIR,
  stagePlugin,
  writeAndPublish,
  writeNpmrc,
} from './plugin-publishing.js'

const GREETING = '@acme/kite-plugin-greeting'
const LAB = '@acme/kite-plugin-lab'
const RUNTIME_DIST = join(REPO_DIR, 'packages/runtime/dist/index.js')

let work: string
let registry: Registry
let userconfig: string
let main: KiteServer
/** The runtime for bad installs: manual sync, so nothing installs behind the test's back. */
let manual: KiteServer
let second: { child: ChildProcess; url: string } | undefined

interface ExecutionJson {
  id: string
  state: { current: string }
  plugins: { type: string; version: string; decidedBy: string }[]
  taskRunList: {
    taskId: string
    pluginVersion?: string
    state: { current: string }
    outputs?: Record<string, unknown>
    attempts: { error?: string }[]
  }[]
  error?: string
}

async function api<T = Record<string, unknown>>(
  base: string,
  path: string,
  init: RequestInit & { json?: unknown; yaml?: string } = {},
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string>) }
  let body = init.body
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(init.json)
  }
  if (init.yaml !== undefined) {
    headers['content-type'] = 'application/x-yaml'
    body = init.yaml
  }
  const response = await fetch(`${base}/api/v1${path}`, { ...init, headers, body })
  return { status: response.status, body: (await response.json()) as T }
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await probe().catch(() => undefined)
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function installed(base: string, name: string): Promise<string[]> {
  const { body } = await api<{ results: { name: string; versions: { version: string }[] }[] }>(
    base,
    '/plugins',
  )
  return body.results.find((item) => item.name === name)?.versions.map((item) => item.version) ?? []
}

const waitInstalled = (base: string, name: string, version: string) =>
  waitFor(`${name}@${version} on ${base}`, async () =>
    (await installed(base, name)).includes(version),
  )

function flow(id: string, namespace: string, task: string): string {
  return `id: ${id}\nnamespace: ${namespace}\ntasks:\n${task
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n')}\n`
}

async function run(base: string, namespace: string, id: string): Promise<ExecutionJson> {
  const { status, body } = await api<ExecutionJson>(
    base,
    `/executions/${namespace}/${id}?wait=true`,
    {
      method: 'POST',
      json: {},
    },
  )
  expect(status, JSON.stringify(body)).toBe(200)
  return body
}

async function publishLab(version: string): Promise<void> {
  await writeAndPublish(
    join(work, `lab-${version}`),
    { name: LAB, version, bundle: labBundle(version) },
    registry.url,
    userconfig,
  )
}

/** Publishes a build of the greeting plugin and waits until `main` has installed it. */
async function publishGreeting(build: string, version: string): Promise<void> {
  await npmPublish(
    await stagePlugin(build, join(work, `greeting-${version}`)),
    registry.url,
    userconfig,
  )
  await waitInstalled(main.url, GREETING, version)
}

beforeAll(async () => {
  if (!existsSync(RUNTIME_DIST) || !existsSync(join(GREETING_V2, 'dist/index.js'))) {
    throw new Error(
      'build first: npx turbo run build --filter=@kite/runtime --filter=@acme/kite-plugin-greeting',
    )
  }
  work = await mkdtemp(join(tmpdir(), 'kite-versioned-plugins-'))
  registry = await createRegistry({ port: 0, storage: join(work, 'registry') })
  userconfig = join(work, 'user.npmrc')
  await writeNpmrc(userconfig, registry.url, await createUser(registry.url, 'acme'))
  main = await createServer({
    dataDir: join(work, 'main'),
    port: 0,
    registry: registry.url,
    env: { KITE_SECRET_LAB_TOKEN: 's3cret', PATH: process.env.PATH ?? '' },
    config: { plugins: { security: { includes: [], excludes: ['@acme/kite-plugin-bad-*'] } } },
  })
  manual = await createServer({
    dataDir: join(work, 'manual'),
    port: 0,
    registry: registry.url,
    config: { plugins: { sync: 'manual' } },
  })
}, 120_000)

afterAll(async () => {
  if (second) {
    second.child.kill('SIGTERM')
    await new Promise((resolve) => second?.child.once('exit', resolve))
  }
  await main?.close()
  await manual?.close()
  await registry?.close()
  if (work) await rm(work, { recursive: true, force: true })
})

describe('versioned plugins, end to end', { timeout: 120_000 }, () => {
  it('installs greeting 1.0.0 when it is published', async () => {
    await publishGreeting(GREETING_V1, '1.0.0')
    expect(await installed(manual.url, GREETING)).toEqual([])
  })

  it('saves flows pinning 1.0.0, LATEST, OLDEST, ^1 and a namespace default', async () => {
    const put = await api(main.url, '/namespaces/acme.pinned/plugin-defaults', {
      method: 'PUT',
      json: { pluginDefaults: [{ type: 'acme.greeting', values: { version: '1.0.0' } }] },
    })
    expect(put.status).toBe(200)
    const specs: [string, string, string][] = [
      ['exact', 'acme.pins', 'version: "1.0.0"\n  '],
      ['latest', 'acme.pins', 'version: LATEST\n  '],
      ['oldest', 'acme.pins', 'version: oldest\n  '],
      ['range', 'acme.pins', 'version: "^1"\n  '],
      ['by-namespace', 'acme.pinned.team', ''],
    ]
    for (const [id, namespace, version] of specs) {
      const saved = await api<{ plugins: { version: string; decidedBy: string }[] }>(
        main.url,
        '/flows',
        {
          method: 'POST',
          yaml: flow(
            id,
            namespace,
            `- id: hi\n  type: acme.greeting.Hello\n  ${version}greeting: Hi`,
          ),
        },
      )
      expect(saved.status, JSON.stringify(saved.body)).toBe(200)
      expect(saved.body.plugins[0]?.version).toBe('1.0.0')
      if (id === 'by-namespace') expect(saved.body.plugins[0]?.decidedBy).toBe('namespace')
    }
  })

  it('publishes 2.0.0: without a restart LATEST runs 2.0.0, the pinned flows 1.0.0, side by side', async () => {
    await publishGreeting(GREETING_V2, '2.0.0')
    const ids = ['exact', 'latest', 'oldest', 'range']
    const runs = await Promise.all([
      ...ids.map((id) => run(main.url, 'acme.pins', id)),
      run(main.url, 'acme.pinned.team', 'by-namespace'),
    ])
    const versions = runs.map((execution) => {
      expect(execution.state.current, JSON.stringify(execution)).toBe('SUCCESS')
      return execution.taskRunList[0]?.pluginVersion
    })
    expect(versions).toEqual(['1.0.0', '2.0.0', '1.0.0', '1.0.0', '1.0.0'])
    expect(runs[1]?.plugins[0]).toMatchObject({ version: '2.0.0', decidedBy: 'task' })
    // Both versions loaded at once, each in worker threads of its own.
    const stats = (main.runtime.host as unknown as { stats(): Record<string, number> }).stats()
    expect(stats[`${GREETING}@1.0.0`]).toBeGreaterThan(0)
    expect(stats[`${GREETING}@2.0.0`]).toBeGreaterThan(0)
  })

  it('refuses a LATEST flow using the renamed property, naming it', async () => {
    const saved = await api<{ message: string; errors: { message: string }[] }>(
      main.url,
      '/flows',
      {
        method: 'POST',
        yaml: flow(
          'old-name',
          'acme.pins',
          '- id: hi\n  type: acme.greeting.Hello\n  version: LATEST\n  name: Ada',
        ),
      },
    )
    expect(saved.status).toBe(422)
    expect(JSON.stringify(saved.body)).toMatch(/"name"|name/)
    expect(saved.body.message).toContain('2.0.0')
  })

  it('refuses a type absent from the pinned version (Goodbye pinned to 1.0.0)', async () => {
    const saved = await api<{ message: string }>(main.url, '/flows', {
      method: 'POST',
      yaml: flow(
        'bye',
        'acme.pins',
        '- id: bye\n  type: acme.greeting.Goodbye\n  version: "1.0.0"',
      ),
    })
    expect(saved.status).toBe(422)
    expect(saved.body.message).toContain('Goodbye')
    expect(saved.body.message).toContain('1.0.0')
  })

  it('refuses to uninstall 1.0.0 while flows resolve to it, listing them', async () => {
    const refused = await api<{ flows: string[] }>(main.url, '/plugins/uninstall', {
      method: 'DELETE',
      json: { plugins: [`${GREETING}@1.0.0`] },
    })
    expect(refused.status).toBe(409)
    expect(refused.body.flows).toEqual(
      expect.arrayContaining([
        'acme.pins/exact',
        'acme.pins/oldest',
        'acme.pinned.team/by-namespace',
      ]),
    )
    expect(await installed(main.url, GREETING)).toEqual(['1.0.0', '2.0.0'])
  })

  it('resolves specs against the registry', async () => {
    const { body } = await api<{ results: { versions: string[]; resolved: string | null }[] }>(
      main.url,
      '/plugins/resolve',
      {
        method: 'POST',
        json: { plugins: [`${GREETING}@^1`, `${GREETING}@LATEST`, `${GREETING}@9.9.9`] },
      },
    )
    expect(body.results.map((item) => item.resolved)).toEqual(['1.0.0', '2.0.0', null])
    expect(body.results[0]?.versions).toEqual(['1.0.0', '2.0.0'])
  })

  it('a second runtime process on the registry sees 2.0.0 too; NONE rejects an unpinned flow', async () => {
    const script = join(work, 'second.mjs')
    await writeFile(
      script,
      `import { createServer } from ${JSON.stringify(pathToFileURL(RUNTIME_DIST).href)}
const server = await createServer({ dataDir: process.argv[2], port: 0, registry: process.argv[3], config: { plugins: { defaultVersion: 'NONE' } } })
process.stdout.write(JSON.stringify({ url: server.url }) + '\\n')
process.on('SIGTERM', () => server.close().then(() => process.exit(0)))
`,
    )
    const child = spawn(process.execPath, [script, join(work, 'second'), registry.url], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH, KITE_ADMIN_TOKEN: 'admin-secret' },
    })
    const url = await new Promise<string>((resolve, reject) => {
      let out = ''
      child.stdout?.on('data', (chunk) => {
        out += chunk
        if (out.includes('\n'))
          resolve((JSON.parse(out.split('\n')[0] ?? '') as { url: string }).url)
      })
      child.once('exit', (code) => reject(new Error(`the second runtime exited (${code})`)))
    })
    second = { child, url }
    await waitFor('both versions on the second runtime', async () =>
      (await installed(url, GREETING)).join() === '1.0.0,2.0.0' ? true : undefined,
    )
    const unpinned = await api<{ message: string }>(url, '/flows', {
      method: 'POST',
      yaml: flow('unpinned', 'acme.pins', '- id: hi\n  type: acme.greeting.Hello'),
    })
    expect(unpinned.status).toBe(422)
    expect(unpinned.body.message).toMatch(/NONE/)
    const pinned = await api(url, '/flows', {
      method: 'POST',
      yaml: flow(
        'pinned',
        'acme.pins',
        '- id: hi\n  type: acme.greeting.Hello\n  version: "2.0.0"\n  who: Ada',
      ),
    })
    expect(pinned.status).toBe(200)
    // Admin routes need the token there.
    const denied = await api(url, '/plugins/install', {
      method: 'POST',
      json: { plugins: [GREETING] },
    })
    expect(denied.status).toBe(401)
    const allowed = await api<{ results: { installed: boolean }[] }>(url, '/plugins/install', {
      method: 'POST',
      json: { plugins: [`${GREETING}@2.0.0`] },
      headers: { authorization: 'Bearer admin-secret' },
    })
    expect(allowed.status).toBe(200)
    expect(allowed.body.results[0]?.installed).toBe(false)
  })

  it('keeps the versions an execution recorded when a newer one is installed while it runs', async () => {
    await publishLab('1.0.0')
    await waitInstalled(main.url, LAB, '1.0.0')
    // The first task waits for a file the test writes once 1.1.0 is installed: in the data dir's
    // work folder, the one place outside its own directory a sandboxed plugin may read.
    const gate = join(work, 'main', 'work', 'gate')
    const saved = await api(main.url, '/flows', {
      method: 'POST',
      yaml: flow(
        'slow',
        'acme.lab',
        `- id: first\n  type: acme.lab.WaitFile\n  path: ${gate}\n- id: second\n  type: acme.lab.Sleep\n  ms: 10`,
      ),
    })
    expect(saved.status).toBe(200)
    const started = await api<ExecutionJson>(main.url, '/executions/acme.lab/slow', {
      method: 'POST',
      json: {},
    })
    await publishLab('1.1.0')
    await waitInstalled(main.url, LAB, '1.1.0')
    const during = await api<ExecutionJson>(main.url, `/executions/${started.body.id}`)
    expect(during.body.state.current).toBe('RUNNING')
    await writeFile(gate, 'go')
    const ended = await waitFor('the slow execution', async () => {
      const { body } = await api<ExecutionJson>(main.url, `/executions/${started.body.id}`)
      return body.state.current === 'SUCCESS' ? body : undefined
    })
    expect(ended.taskRunList.map((taskRun) => taskRun.pluginVersion)).toEqual(['1.0.0', '1.0.0'])
    expect(ended.taskRunList.map((taskRun) => taskRun.outputs?.value)).toEqual(['1.0.0', '1.0.0'])
    const next = await run(main.url, 'acme.lab', 'slow')
    expect(next.taskRunList.map((taskRun) => taskRun.pluginVersion)).toEqual(['1.1.0', '1.1.0'])
  })
})

describe('bad inputs', { timeout: 60_000 }, () => {
  it('refuses a tampered tarball with an integrity error and installs nothing', async () => {
    await writeAndPublish(
      join(work, 'tamper'),
      {
        name: '@acme/kite-plugin-tamper',
        version: '1.0.0',
        bundle: labBundle('1.0.0').replace("'acme.lab'", "'acme.tamper'"),
      },
      registry.url,
      userconfig,
    )
    const packageDir = join(work, 'registry', 'packages', '@acme', 'kite-plugin-tamper')
    const tarball = (await readdir(packageDir)).find((file) => file.endsWith('.tgz'))
    expect(tarball).toBeDefined()
    const { readFile } = await import('node:fs/promises')
    // A valid gzip of a tar whose bundle changed by one byte: only the integrity can tell.
    const tar = gunzipSync(await readFile(join(packageDir, tarball ?? '')))
    const at = tar.indexOf('acme.tamper')
    tar[at] = 'A'.charCodeAt(0)
    await writeFile(join(packageDir, tarball ?? ''), gzipSync(tar))
    const { status, body } = await api<{ message: string }>(manual.url, '/plugins/install', {
      method: 'POST',
      json: { plugins: ['@acme/kite-plugin-tamper@1.0.0'] },
    })
    expect(status).toBe(422)
    expect(body.message).toMatch(/integrity/)
    expect(await installed(manual.url, '@acme/kite-plugin-tamper')).toEqual([])
    expect(
      existsSync(join(work, 'manual', 'plugins', '@acme', 'kite-plugin-tamper', '1.0.0')),
    ).toBe(false)
  })

  it('refuses a version built for an incompatible @kite/sdk', async () => {
    await npmPublish(
      await stagePlugin(GREETING_V1, join(work, 'greeting-sdk9'), {
        version: '3.0.0',
        sdkRange: '^9.0.0',
      }),
      registry.url,
      userconfig,
    )
    const { status, body } = await api<{ message: string }>(manual.url, '/plugins/install', {
      method: 'POST',
      json: { plugins: [`${GREETING}@3.0.0`] },
    })
    expect(status).toBe(422)
    expect(body.message).toContain('needs @kite/sdk ^9.0.0')
    expect(await installed(manual.url, GREETING)).toEqual([])
  })

  it('refuses a version that does not exist', async () => {
    const { status, body } = await api<{ message: string }>(manual.url, '/plugins/install', {
      method: 'POST',
      json: { plugins: [`${GREETING}@7.0.0`] },
    })
    expect(status).toBe(404)
    expect(body.message).toContain(`${GREETING}@7.0.0 does not exist`)
  })

  it('refuses an excluded plugin at install', async () => {
    const { status, body } = await api<{ message: string }>(main.url, '/plugins/install', {
      method: 'POST',
      json: { plugins: ['@acme/kite-plugin-bad-thing@1.0.0'] },
    })
    expect(status).toBe(422)
    expect(body.message).toContain('plugins.security')
  })

  it('manual sync installs on request and shows the update available', async () => {
    const first = await api(manual.url, '/plugins/install', {
      method: 'POST',
      json: { plugins: [`${GREETING}@1.0.0`] },
    })
    expect(first.status).toBe(200)
    await manual.runtime.plugins.sync?.reconcile()
    const { body } = await api<{
      results: { name: string; updateAvailable: boolean; latestAvailable: string }[]
    }>(manual.url, '/plugins')
    expect(body.results.find((item) => item.name === GREETING)).toMatchObject({
      updateAvailable: true,
      latestAvailable: '3.0.0',
    })
  })

  it('installs one version once when two specs resolving to it arrive together', async () => {
    const answers = await Promise.all(
      [`${LAB}@1.1.0`, `${LAB}@~1.1`].map((spec) =>
        api<{ results: { version: string; installed: boolean }[] }>(
          manual.url,
          '/plugins/install',
          {
            method: 'POST',
            json: { plugins: [spec] },
          },
        ),
      ),
    )
    const results = answers.map((answer) => answer.body.results[0])
    expect(results.map((result) => result?.version)).toEqual(['1.1.0', '1.1.0'])
    expect(results.filter((result) => result?.installed)).toHaveLength(1)
    expect(await installed(manual.url, LAB)).toEqual(['1.1.0'])
    expect(
      existsSync(join(work, 'manual', 'plugins', '@acme', 'kite-plugin-lab', '1.1.0', 'dist')),
    ).toBe(true)
  })

  const misbehaving: [string, string, RegExp][] = [
    ['loop', '- id: t\n  type: acme.lab.Loop\n  timeout: PT1S', /timed out after 1 s/],
    ['throw', '- id: t\n  type: acme.lab.Throw', /it broke on purpose/],
    ['exit', '- id: t\n  type: acme.lab.Exit', /exited with code 3/],
    ['bomb', '- id: t\n  type: acme.lab.Bomb', /out of memory/],
  ]
  for (const [id, task, error] of misbehaving) {
    it(`a task that ${id === 'bomb' ? 'allocates until it dies' : `${id}s`} fails only its run`, async () => {
      expect(
        (await api(main.url, '/flows', { method: 'POST', yaml: flow(id, 'acme.bad', task) }))
          .status,
      ).toBe(200)
      const started = Date.now()
      const execution = api<ExecutionJson>(main.url, `/executions/acme.bad/${id}?wait=true`, {
        method: 'POST',
        json: {},
      })
      // The runtime keeps answering while the plugin misbehaves.
      const health = await api(main.url, '/health')
      expect(health.status).toBe(200)
      const { body } = await execution
      expect(body.state.current).toBe('FAILED')
      expect(body.taskRunList[0]?.attempts[0]?.error).toMatch(error)
      if (id === 'loop') expect(Date.now() - started).toBeLessThan(5000)
      // Nothing else is affected: the same version runs its next task.
      await api(main.url, '/flows', {
        method: 'POST',
        yaml: flow('quick', 'acme.lab', '- id: t\n  type: acme.lab.Sleep'),
      })
      const fine = await run(main.url, 'acme.lab', 'quick')
      expect(fine.state.current).toBe('SUCCESS')
    })
  }

  it('gives plugin code no environment; secrets arrive through ctx.secret', async () => {
    await api(main.url, '/flows', {
      method: 'POST',
      yaml: flow('env', 'acme.lab', '- id: t\n  type: acme.lab.Env'),
    })
    const execution = await run(main.url, 'acme.lab', 'env')
    expect(execution.taskRunList[0]?.outputs?.value).toEqual({ envKeys: 0, secret: 's3cret' })
  })
})

describe('restarts and a lost registry', { timeout: 60_000 }, () => {
  it('a restarted runtime reloads its installed set from the store', async () => {
    const before = await installed(manual.url, GREETING)
    expect(before).toEqual(['1.0.0'])
    await manual.close()
    manual = await createServer({
      dataDir: join(work, 'manual'),
      port: 0,
      registry: registry.url,
      config: { plugins: { sync: 'manual' } },
    })
    expect(await installed(manual.url, GREETING)).toEqual(before)
  })

  it('keeps running installed versions without the registry, and reconnects when it is back', async () => {
    const port = registry.port
    await registry.close()
    const execution = await run(main.url, 'acme.pins', 'exact')
    expect(execution.state.current).toBe('SUCCESS')
    await waitFor('the event stream to drop', async () =>
      main.runtime.plugins.sync?.connected() === false ? true : undefined,
    )
    registry = await createRegistry({ port, storage: join(work, 'registry') })
    await waitFor('the event stream to come back', async () =>
      main.runtime.plugins.sync?.connected() ? true : undefined,
    )
    await publishLab('1.2.0')
    await waitInstalled(main.url, LAB, '1.2.0')
  })
})
