// Helpers the benchmarks share: quantiles, a throw-away PostgreSQL database, and a real registry
// on loopback that plugins are published to with the real npm CLI.
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, symlink, writeFile } from 'node:fs/promises'
import http from 'node:http'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createRegistry } from '@kite/registry'
import { createManifest } from '@kite/sdk/host'
import pg from 'pg'

/** The q-quantile (0 < q ≤ 1) of the values, nearest rank. */
export const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1))]
}

export const POSTGRES = process.env.KITE_BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432'

/**
 * A fresh `kite_bench_<random>` database on $KITE_BENCH_POSTGRES, or undefined (with a note)
 * when no server answers. `drop()` removes it.
 */
export async function postgresDatabase() {
  const name = `kite_bench_${randomBytes(6).toString('hex')}`
  const admin = async (text) => {
    const client = new pg.Client({ connectionString: `${POSTGRES}/postgres` })
    await client.connect()
    try {
      await client.query(text)
    } finally {
      await client.end()
    }
  }
  try {
    await admin(`CREATE DATABASE ${name}`)
  } catch (error) {
    console.log(`(no PostgreSQL at ${POSTGRES}: ${error.message}; its figures are skipped)`)
    return undefined
  }
  return {
    url: `${POSTGRES}/${name}`,
    drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  }
}

const require = createRequire(import.meta.url)
const sdkDir = dirname(require.resolve('@kite/sdk/package.json'))

/**
 * A real registry (verdaccio) on loopback with an account; `publish` writes a plugin package as
 * `kite-plugin build` would (its `dist/index.js` is `source`) and runs `npm publish`.
 */
export async function startRegistry(work) {
  const registry = await createRegistry({ port: 0, storage: join(work, 'registry') })
  const account = await fetch(`${registry.url}/-/user/org.couchdb.user:bench`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench', password: 'correct-horse-9', email: 'b@example.com' }),
  }).then((response) => response.json())
  const userconfig = join(work, 'user.npmrc')
  await writeFile(
    userconfig,
    `${registry.url.replace(/^https?:/, '')}/:_authToken=${account.token}\n`,
  )
  const publish = async (name, version, source) => {
    const dir = await writePluginPackage(join(work, 'packages'), name, version, source)
    await new Promise((resolve, reject) =>
      execFile(
        'npm',
        ['publish', dir, '--registry', `${registry.url}/`, '--userconfig', userconfig],
        { env: { PATH: process.env.PATH, HOME: process.env.HOME } },
        (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve(stdout)),
      ),
    )
  }
  return { url: registry.url, publish, close: () => registry.close() }
}

/**
 * Writes a plugin package as `kite-plugin build` would (its `dist/index.js` is `source`, its
 * manifest made from it) in a directory of its own below `root`; returns that directory.
 */
export async function writePluginPackage(root, name, version, source) {
  const dir = join(root, `${name.replace(/\W/g, '_')}-${version}`)
  await mkdir(join(dir, 'dist'), { recursive: true })
  await mkdir(join(dir, 'node_modules', '@kite'), { recursive: true })
  await symlink(sdkDir, join(dir, 'node_modules', '@kite', 'sdk'), 'dir')
  await writeFile(join(dir, 'dist', 'index.js'), source)
  const plugin = (await import(pathToFileURL(join(dir, 'dist', 'index.js')).href)).default
  const manifest = createManifest(
    plugin,
    { name, version },
    { entry: 'dist/index.js', sdkRange: '^0.1.0' },
  )
  await writeFile(join(dir, 'dist', 'kite-plugin.json'), JSON.stringify(manifest))
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({
      name,
      version,
      type: 'module',
      keywords: ['kite-plugin'],
      files: ['dist'],
      kite: { manifest: 'dist/kite-plugin.json' },
      peerDependencies: { '@kite/sdk': '^0.1.0' },
    }),
  )
  return dir
}

/** The bundle of a one-task plugin whose `bench.echo.Echo` returns its version. */
export const echoSource = (version) => `import { definePlugin, defineTask, z } from '@kite/sdk'
export default definePlugin({ group: 'bench.echo', title: 'Echo', description: 'Echo ${version}.', tasks: [
  defineTask({ name: 'Echo', title: 'Echo', description: 'Returns its version.', properties: z.object({}), outputs: z.object({ version: z.string() }), run: () => ({ version: '${version}' }) }),
], triggers: [], conditions: [] })
`

/** Plugin services that do nothing: `bench.echo.Echo` uses none. */
const NO_SERVICES = new Proxy({}, { get: () => async () => undefined })

/** A host request for `bench.echo.Echo` of `@bench/kite-plugin-echo` at `version`. */
export const echoRequest = (version, { workingDir, pluginConfig = {} }) => ({
  pin: {
    type: 'bench.echo.Echo',
    kind: 'task',
    package: '@bench/kite-plugin-echo',
    version,
    decidedBy: 'task',
  },
  properties: {},
  context: {
    execution: {
      id: 'bench',
      namespace: 'bench',
      flowId: 'echo',
      startDate: new Date().toISOString(),
    },
    task: { id: 'echo', type: 'bench.echo.Echo', version },
    workingDir,
    pluginConfig,
    services: NO_SERVICES,
  },
  signal: new AbortController().signal,
})

/** The `tasks:` lines of `count` chained `bench.noop.Noop` tasks, each passing the value on. */
export const noopTasks = (count) => [
  'tasks:',
  ...Array.from({ length: count }, (_, index) =>
    [
      `  - id: t${index}`,
      '    type: bench.noop.Noop',
      `    value: "${index === 0 ? '{{ execution.id }}' : `{{ outputs.t${index - 1}.value }}`}"`,
    ].join('\n'),
  ),
]

/** Keep-alive connections for `post`, as many as the most clients a bench runs. */
const loadAgent = new http.Agent({ keepAlive: true, maxSockets: 256 })

/**
 * POSTs with no body and reads the JSON answer: `{ ok, status, body }`. The load generator of the
 * throughput benches: node:http over kept-alive connections, as autocannon (the tool the peer
 * figures in PERFORMANCE.md were taken with) does. `fetch` costs the client ~0.15–0.2 ms more CPU
 * per request on these machines, which at one client is latency the server never caused.
 */
export function post(url) {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', agent: loadAgent }, (response) => {
      let text = ''
      response.setEncoding('utf8')
      response.on('data', (chunk) => {
        text += chunk
      })
      response.on('end', () => {
        try {
          const status = response.statusCode ?? 0
          resolve({ ok: status >= 200 && status < 300, status, body: JSON.parse(text) })
        } catch (error) {
          reject(
            new Error(
              `${url} answered ${response.statusCode} with no JSON: ${text.slice(0, 200)}`,
              { cause: error },
            ),
          )
        }
      })
      response.on('error', reject)
    })
    request.on('error', reject)
    request.end()
  })
}

/**
 * `clients` loops calling `call` for `durationMs`: calls per second, each call's latency (ms)
 * and what each returned.
 */
export async function runClients(clients, durationMs, call) {
  const latencies = []
  const results = []
  const end = performance.now() + durationMs
  const begin = performance.now()
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const started = performance.now()
        results.push(await call())
        latencies.push(performance.now() - started)
      }
    }),
  )
  return { rate: latencies.length / ((performance.now() - begin) / 1000), latencies, results }
}

/** The trivial plugin the throughput benches publish: `bench.noop.Noop` returns its value. */
export const NOOP_PLUGIN = '@bench/kite-plugin-noop'
export const NOOP_SOURCE = `import { definePlugin, defineTask, z } from '@kite/sdk'
export default definePlugin({ group: 'bench.noop', title: 'Noop', description: 'Does nothing.', tasks: [
  defineTask({ name: 'Noop', title: 'Noop', description: 'Returns its value.', properties: z.object({ value: z.string().default('') }), outputs: z.object({ value: z.string() }), run: (props) => ({ value: props.value }) }),
], triggers: [], conditions: [] })
`

/** A flow `flow<count>` of `count` chained Noop tasks, started by the webhook key `go<count>`. */
export const webhookFlow = (count) =>
  [
    `id: flow${count}`,
    'namespace: bench',
    'triggers:',
    '  - id: hook',
    '    type: kite.trigger.Webhook',
    `    key: go${count}`,
    ...noopTasks(count),
  ].join('\n')

/**
 * A server (the runtime's `createServer`, from whichever build) on `dataDir` with the noop plugin
 * installed from `registry` and the 2- and 42-task webhook flows saved, ready for load.
 * KITE_BENCH_ISOLATION=threads runs the plugin in the runtime process's worker threads
 * (separates the sandbox's IPC from the rest of the path); default: the sandbox.
 */
export async function startNoopServer(createServer, { dataDir, registry, store }) {
  const isolation = process.env.KITE_BENCH_ISOLATION
  const server = await createServer({
    dataDir,
    port: 0,
    registry,
    config: {
      ...(store ? { store: { url: store } } : {}),
      ...(isolation ? { plugins: { isolation } } : {}),
    },
  })
  const deadline = Date.now() + 30_000
  while (!server.runtime.catalog.get(NOOP_PLUGIN, '1.0.0')) {
    if (Date.now() > deadline) throw new Error(`${NOOP_PLUGIN}@1.0.0 was never installed`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  for (const count of [2, 42]) await server.runtime.engine.saveFlow(webhookFlow(count))
  return server
}
