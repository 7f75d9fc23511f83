import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRegistry, type Registry } from '@kite/registry'
import { createRuntime } from '@kite/runtime'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cleanEnv, MONOREPO_DIR, type RunResult, requireBuild, run } from '../test/helpers.js'

// The path a plugin author takes, with real tools only: a Kite registry on loopback holding the
// first-party packages, `npm create kite-plugin@latest` fetched from it, then npm install, test,
// build and publish in the new package, and a runtime running its task pinned to 1.0.0.

const FIRST_PARTY = ['packages/expressions', 'packages/sdk', 'packages/create-plugin']
const TASK_TYPE = 'acme.demo.Hello'
const PACKAGE = '@acme/kite-plugin-demo'

let registry: Registry
let work: string
let userconfig: string
let pluginDir: string
/** Milliseconds per step, for the timing this suite reports. */
const timings: Record<string, number> = {}

beforeAll(async () => {
  requireBuild()
  work = await mkdtemp(join(tmpdir(), 'create-kite-plugin-e2e-'))
  registry = await createRegistry({ port: 0, storage: join(work, 'registry') })
  const token = await createUser(registry.url, 'author')
  // The author's user npmrc: the token npm adduser would have stored, nothing else of this machine's.
  userconfig = join(work, 'user.npmrc')
  const host = registry.url.replace(/^https?:/, '')
  await writeFile(
    userconfig,
    `${host}/:_authToken=${token}\nfund=false\naudit=false\nupdate-notifier=false\n`,
  )
  pluginDir = join(work, 'my-plugin')
})

afterAll(async () => {
  await registry?.close()
  if (work) await rm(work, { recursive: true, force: true })
})

/** npm as the author runs it: their user npmrc, and npm's own cache unless one is given. */
async function npm(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const result = await run('npm', args, {
    cwd,
    env: cleanEnv({ npm_config_userconfig: userconfig, ...env }),
    timeout: 240_000,
  })
  expect(result.code, `npm ${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(0)
  return result
}

describe('npm create kite-plugin, end to end', { timeout: 300_000 }, () => {
  it('publishes the first-party packages to the registry with npm', async () => {
    for (const dir of FIRST_PARTY) {
      await npm(['publish', join(MONOREPO_DIR, dir), '--registry', registry.url], work)
    }
    const view = await npm(['view', 'create-kite-plugin', 'dependencies', '--json'], work, {
      npm_config_registry: registry.url,
    })
    // Nothing to install but the scaffolder itself: that is what makes `npm create` fast.
    expect(view.stdout.trim()).toBe('')
  })

  it('scaffolds with npm create, fetching create-kite-plugin from the registry', async () => {
    const created = await npm(
      [
        'create',
        'kite-plugin@latest',
        'my-plugin',
        '--yes',
        '--registry',
        registry.url,
        '--',
      ].concat(['--group', 'acme.demo', '--yes']),
      work,
      // A fresh cache, so npm create installs the create-kite-plugin just published.
      { npm_config_cache: join(work, 'npx-cache') },
    )
    timings.create = created.milliseconds
    expect(created.stdout).toContain(`Created ${PACKAGE}`)
    const registryUrl = `${registry.url}/`
    const pkg = JSON.parse(await readFile(join(pluginDir, 'package.json'), 'utf8'))
    expect(pkg.publishConfig).toEqual({ registry: registryUrl })
    const npmrc = await readFile(join(pluginDir, '.npmrc'), 'utf8')
    expect(npmrc).toContain(`@kite:registry=${registryUrl}\n@acme:registry=${registryUrl}\n`)
  })

  it('installs, with @kite/sdk coming from the Kite registry', async () => {
    // @kite/runtime (a devDependency, for the flow test) is not published to this registry: its
    // own dependencies (hono, pg, better-sqlite3...) come from npmjs, which a test may not reach.
    // It is installed without it, then linked to this monorepo's build, whose dependencies resolve
    // from the monorepo's node_modules: the flow test runs for real, offline.
    const packageFile = join(pluginDir, 'package.json')
    const generated = await readFile(packageFile, 'utf8')
    const pkg = JSON.parse(generated)
    expect(pkg.devDependencies['@kite/runtime']).toMatch(/^\^\d+\.\d+\.\d+/)
    delete pkg.devDependencies['@kite/runtime']
    await writeFile(packageFile, JSON.stringify(pkg, null, 2))
    const installed = await npm(['install'], pluginDir).finally(() =>
      writeFile(packageFile, generated),
    )
    timings.install = installed.milliseconds
    await mkdir(join(pluginDir, 'node_modules', '@kite'), { recursive: true })
    await symlink(
      join(MONOREPO_DIR, 'packages', 'runtime'),
      join(pluginDir, 'node_modules', '@kite', 'runtime'),
      'dir',
    )
    const lock = JSON.parse(await readFile(join(pluginDir, 'package-lock.json'), 'utf8'))
    expect(lock.packages['node_modules/@kite/sdk'].resolved).toMatch(
      new RegExp(`^${registry.url}/@kite/sdk/-/sdk-`),
    )
    expect(lock.packages['node_modules/@kite/expressions'].resolved).toMatch(
      new RegExp(`^${registry.url}/`),
    )
  })

  it('passes its tests', async ({ annotate }) => {
    const tested = await npm(['test'], pluginDir)
    timings.test = tested.milliseconds
    expect(tested.stdout).toMatch(/Tests\s+7 passed \(7\)/)
    // The flow test ran a flow in a runtime against the package's own build.
    expect(tested.stdout).toMatch(/src\/flow\.test\.ts \(1 test\)/)
    const total = timings.create! + timings.install! + timings.test!
    await annotate(
      `npm create → passing npm test: ${seconds(total)} (create ${seconds(timings.create!)}, install ${seconds(timings.install!)}, test ${seconds(timings.test!)})`,
    )
  })

  it('builds and publishes to the Kite registry, which lists its types', async () => {
    await npm(['run', 'build'], pluginDir)
    const published = await npm(['publish'], pluginDir)
    expect(`${published.stdout}${published.stderr}`).toContain(`${PACKAGE}@1.0.0`)
    const response = await fetch(`${registry.url}/-/kite/api/v1/types/${TASK_TYPE}`)
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      name: PACKAGE,
      group: 'acme.demo',
      versions: [expect.objectContaining({ version: '1.0.0' })],
    })
  })

  it('runs in a runtime that installs the published 1.0.0 from the registry, pinned in a flow', async () => {
    // SPEC 6: the runtime follows the registry (catalog reconcile + events) and installs the
    // version into its plugin store by itself.
    const data = join(work, 'runtime-data')
    const runtime = await createRuntime({ dataDir: data, registry: registry.url, env: {} })
    try {
      const deadline = Date.now() + 30_000
      while (!runtime.catalog.versionsOf(PACKAGE).some((plugin) => plugin.version === '1.0.0')) {
        if (Date.now() > deadline) throw new Error(`the runtime never installed ${PACKAGE}@1.0.0`)
        await new Promise((done) => setTimeout(done, 100))
      }
      expect((await readdir(join(data, 'plugins', PACKAGE, '1.0.0', 'dist'))).sort()).toEqual([
        'index.js',
        'kite-plugin.json',
      ])
      await runtime.engine.saveFlow(`
id: hello-demo
namespace: acme.e2e
tasks:
  - id: hello
    type: ${TASK_TYPE}
    version: "1.0.0"
    name: Ada
`)
      const started = await runtime.engine.start({ namespace: 'acme.e2e', flowId: 'hello-demo' })
      const execution = await runtime.engine.waitFor(started.id)
      expect(execution.state.current).toBe('SUCCESS')
      const [taskRun] = execution.taskRunList
      expect(taskRun).toMatchObject({
        taskId: 'hello',
        pluginVersion: '1.0.0',
        outputs: { message: 'Hello, Ada!' },
      })
      expect(execution.plugins).toContainEqual(
        expect.objectContaining({ type: TASK_TYPE, package: PACKAGE, version: '1.0.0' }),
      )
    } finally {
      await runtime.close()
    }
  })
})

async function createUser(url: string, name: string): Promise<string> {
  const response = await fetch(`${url}/-/user/org.couchdb.user:${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password: 'correct-horse-9', email: `${name}@example.com` }),
  })
  const body = (await response.json()) as { token?: string; error?: string }
  if (!body.token)
    throw new Error(`cannot create the account ${name}: ${response.status} ${body.error}`)
  return body.token
}

function seconds(milliseconds: number): string {
  return `${(milliseconds / 1000).toFixed(1)} s`
}
