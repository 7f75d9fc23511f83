#!/usr/bin/env node
// `npm start`, the main job: build what is needed, start a registry and a runtime on loopback,
// publish the first-party packages and both versions of the example plugin (skipping what the
// registry already has), load examples/flows, run the version-pinning examples, serve the docs and
// print the URLs. Runs until Ctrl-C. State lives under .kite/ so a second start reuses it.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { createServer as createHttpServer } from 'node:http'
import { extname, join, normalize, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { resolvePorts } from './ports.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const state = resolve(process.env.KITE_STATE_DIR ?? join(root, '.kite'))
const ports = resolvePorts()
const started = Date.now()
const running = []

async function step(title, work) {
  const begin = Date.now()
  process.stdout.write(`▶ ${title}\n`)
  const result = await work()
  process.stdout.write(`✓ ${title} (${((Date.now() - begin) / 1000).toFixed(1)} s)\n`)
  return result
}

function run(command, args, { onLine, ...options } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], ...options })
    let output = ''
    let partial = ''
    child.stdout.on('data', (chunk) => {
      output += chunk
      if (!onLine) return
      const lines = (partial + chunk).split('\n')
      partial = lines.pop() ?? ''
      for (const line of lines) onLine(line)
    })
    child.stderr.on('data', (chunk) => {
      output += chunk
    })
    child.on('close', (code) =>
      code === 0
        ? resolvePromise(output)
        : reject(new Error(`${command} ${args.join(' ')} failed (${code}):\n${output.trim()}`)),
    )
  })
}

async function portFree(port) {
  return new Promise((resolvePromise) => {
    const probe = createHttpServer()
    probe.once('error', () => resolvePromise(false))
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolvePromise(true)))
  })
}

async function checkPorts() {
  for (const [name, port] of Object.entries(ports)) {
    if (!(await portFree(port))) {
      const variable = {
        registry: 'KITE_REGISTRY_PORT',
        runtime: 'KITE_PORT',
        docs: 'KITE_DOCS_PORT',
      }[name]
      throw new Error(`port ${port} (${name}) is in use: stop what uses it or set ${variable}`)
    }
  }
}

/**
 * The first-party publisher account, kept in .kite/publisher.json. The registry's config names it
 * the owner of `@kite` (SPEC 5), so no other account can take a first-party name.
 */
async function publisherAccount() {
  const file = join(state, 'publisher.json')
  const account = existsSync(file)
    ? JSON.parse(await readFile(file, 'utf8'))
    : { name: 'kite-publisher', password: randomBytes(12).toString('hex') }
  await writeFile(file, JSON.stringify(account, null, 2))
  return account
}

/** Logs the publisher in (creating the account the first time); its token goes into .kite/npmrc. */
async function publisherNpmrc(registryUrl, account) {
  // Creates the account, or logs in to it when it exists: verdaccio answers both with a token.
  const response = await fetch(`${registryUrl}/-/user/org.couchdb.user:${account.name}`, {
    method: 'PUT',
    headers: {
      'content-type': 'application/json',
      // With the account's own credentials verdaccio logs an existing account in (npm login).
      authorization: `Basic ${Buffer.from(`${account.name}:${account.password}`).toString('base64')}`,
    },
    body: JSON.stringify({ ...account, email: 'publisher@kite.local' }),
  })
  const body = await response.json()
  if (!response.ok || !body.token) {
    throw new Error(`cannot log in as ${account.name}: ${body.error ?? response.status}`)
  }
  const npmrc = join(state, 'npmrc')
  const host = new URL(registryUrl).host
  await writeFile(npmrc, `registry=${registryUrl}/\n//${host}/:_authToken=${body.token}\n`)
  return npmrc
}

/** Every publishable package of the repo, plus the example plugin's 2.0.0 (not a workspace). */
async function publishablePackages() {
  const dirs = []
  for (const parent of ['packages', 'packages/plugins', 'examples/plugins']) {
    for (const entry of await readdir(join(root, parent), { withFileTypes: true })) {
      if (entry.isDirectory() && existsSync(join(root, parent, entry.name, 'package.json'))) {
        dirs.push(join(root, parent, entry.name))
      }
    }
  }
  dirs.push(join(root, 'examples/plugins/greeting/v2'))
  const packages = []
  for (const dir of dirs) {
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'))
    if (!pkg.private) packages.push({ dir, name: pkg.name, version: pkg.version })
  }
  return packages
}

async function publishAll(registryUrl, npmrc) {
  const packages = await publishablePackages()
  const missing = []
  for (const pkg of packages) {
    const response = await fetch(`${registryUrl}/${pkg.name.replace('/', '%2f')}`)
    const packument = response.ok ? await response.json() : { versions: {} }
    if (!packument.versions?.[pkg.version]) missing.push(pkg)
  }
  // Four packages at a time (npm publish mostly waits on its own start-up), but the versions of
  // one package in order: npm moves the `latest` tag to whatever it publishes last.
  const byName = new Map()
  for (const pkg of missing) byName.set(pkg.name, [...(byName.get(pkg.name) ?? []), pkg])
  const queue = [...byName.values()].map((versions) =>
    versions.sort((a, b) => a.version.localeCompare(b.version, 'en', { numeric: true })),
  )
  const worker = async () => {
    for (let versions = queue.shift(); versions; versions = queue.shift()) {
      for (const pkg of versions) {
        await run('npm', [
          'publish',
          pkg.dir,
          '--registry',
          `${registryUrl}/`,
          '--userconfig',
          npmrc,
          '--ignore-scripts',
        ])
        process.stdout.write(`  published ${pkg.name}@${pkg.version}\n`)
      }
    }
  }
  await Promise.all([worker(), worker(), worker(), worker()])
  return { total: packages.length, published: missing.length }
}

/** This process's admin token for its own calls (KITE_ADMIN_TOKEN when set, else a random one). */
const adminToken = process.env.KITE_ADMIN_TOKEN || randomBytes(32).toString('base64url')
const authorization = { authorization: `Bearer ${adminToken}` }
const PASSWORD_FILE = join(state, 'admin-password')

/**
 * On a runtime without users, adds `admin` with a random password, written to
 * .kite/admin-password (readable by this user only) and printed; says how to log in either way.
 */
async function firstUser(auth, randomPassword) {
  if (await auth.hasUsers()) {
    return existsSync(PASSWORD_FILE)
      ? `admin / ${(await readFile(PASSWORD_FILE, 'utf8')).trim()} (from ${PASSWORD_FILE}, unless changed)`
      : 'one of its users (`kite users list --data .kite/data`)'
  }
  const password = randomPassword()
  await auth.addUser({ name: 'admin', role: 'admin', password })
  await writeFile(PASSWORD_FILE, `${password}\n`, { mode: 0o600 })
  process.stdout.write(`  user admin created; its password is in ${PASSWORD_FILE}\n`)
  return `admin / ${password}`
}

async function waitForPlugins(runtimeUrl, wanted, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const body = await fetch(`${runtimeUrl}/api/v1/plugins`, { headers: authorization }).then(
      (response) => response.json(),
    )
    const installed = new Set(
      (body.results ?? []).flatMap((plugin) =>
        (plugin.versions ?? []).map((version) => `${plugin.name}@${version.version}`),
      ),
    )
    const missing = wanted.filter((spec) => !installed.has(spec))
    if (missing.length === 0) return installed.size
    if (Date.now() > deadline) throw new Error(`the runtime did not install ${missing.join(', ')}`)
    await new Promise((done) => setTimeout(done, 250))
  }
}

async function runPinningExamples(runtimeUrl) {
  const files = (await readdir(join(root, 'examples/flows'))).filter((file) =>
    file.startsWith('pin-'),
  )
  const lines = []
  for (const file of files.sort()) {
    const text = await readFile(join(root, 'examples/flows', file), 'utf8')
    const id = /^id:\s*(\S+)/m.exec(text)?.[1]
    const namespace = /^namespace:\s*(\S+)/m.exec(text)?.[1]
    const response = await fetch(`${runtimeUrl}/api/v1/executions/${namespace}/${id}?wait=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authorization },
      body: '{}',
    })
    const execution = await response.json()
    if (!response.ok) throw new Error(`${file}: ${execution.message}`)
    for (const taskRun of execution.taskRunList ?? []) {
      const plugin = execution.plugins?.find((entry) => entry.type === taskRun.type)
      const message = taskRun.outputs?.message ?? ''
      lines.push(
        `  ${id.padEnd(18)} ${taskRun.type}@${taskRun.pluginVersion ?? plugin?.version} ` +
          `(decided by ${plugin?.decidedBy ?? '?'}) → ${execution.state.current} ${JSON.stringify(message)}`,
      )
    }
  }
  return lines
}

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
}

/** Serves the built docs site (VitePress with clean URLs) from a directory. */
async function serveDocs(dir, port) {
  const server = createHttpServer(async (request, response) => {
    let path = decodeURIComponent(new URL(request.url, 'http://x').pathname)
    // Browsers ask for /favicon.ico whatever the page links; the site's icon is an SVG.
    if (path === '/favicon.ico') path = '/favicon.svg'
    const target = normalize(join(dir, path))
    if (!target.startsWith(dir)) return response.writeHead(403).end()
    for (const candidate of [target, `${target}.html`, join(target, 'index.html')]) {
      const info = await stat(candidate).catch(() => undefined)
      if (info?.isFile()) {
        response.writeHead(200, {
          'content-type': CONTENT_TYPES[extname(candidate)] ?? 'application/octet-stream',
        })
        return response.end(await readFile(candidate))
      }
    }
    response
      .writeHead(404, { 'content-type': 'text/html' })
      .end(await readFile(join(dir, '404.html')).catch(() => 'not found'))
  })
  await new Promise((done, fail) => {
    server.once('error', fail)
    server.listen(port, '127.0.0.1', done)
  })
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((done) => server.close(done)) }
}

async function main() {
  await mkdir(state, { recursive: true })
  await checkPorts()
  await step('build (turbo, cached after the first start)', () => {
    // Grouped logs: turbo prints a package's block when its build ends, so its first line is
    // the moment to say that package is done (one line each, not a silent first build).
    const done = new Set()
    const begin = Date.now()
    return run('npx', ['turbo', 'run', 'build', '--output-logs=full', '--log-order=grouped'], {
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', FORCE_COLOR: '0' },
      onLine(line) {
        const name = /^(\S+?):build: /.exec(line)?.[1]
        if (!name || done.has(name)) return
        done.add(name)
        const cached = line.includes('cache hit') ? ', cached' : ''
        process.stdout.write(
          `  built ${name} (${((Date.now() - begin) / 1000).toFixed(1)} s${cached})\n`,
        )
      },
    })
  })
  const { createRegistry } = await import('@kite/registry')
  const { createServer, createAuthService, randomPassword } = await import('@kite/runtime')
  const publisher = await publisherAccount()

  const registry = await step(`registry on port ${ports.registry}`, () =>
    createRegistry({
      port: ports.registry,
      storage: join(state, 'registry'),
      scopeOwners: { '@kite': [publisher.name] },
      docsUrl: `http://127.0.0.1:${ports.docs}/`,
      // The docs site has reference pages for the first-party plugins and the example plugin.
      docsReference: ['@kite/*', '@acme/*'],
    }),
  )
  running.push(registry)
  const npmrc = await step('publisher account', () => publisherNpmrc(registry.url, publisher))
  const { total, published } = await step('publish packages', () => publishAll(registry.url, npmrc))
  process.stdout.write(`  ${published} published, ${total - published} already there\n`)

  const server = await step(`runtime on port ${ports.runtime}`, () =>
    createServer({
      dataDir: join(state, 'data'),
      port: ports.runtime,
      config: join(root, 'examples/kite.yaml'),
      registry: registry.url,
      // This script's own calls below; once a user exists every route needs a token.
      adminToken,
      env: { ...process.env, KITE_ENV_REGISTRY_URL: registry.url },
    }),
  )
  running.push(server)
  const login = await step('first user', () =>
    firstUser(createAuthService({ store: server.runtime.store.auth }), randomPassword),
  )
  const count = await step('runtime installs the plugins from the registry', () =>
    waitForPlugins(server.url, [
      '@kite/plugin-core@1.0.0',
      '@kite/plugin-http@1.0.0',
      '@kite/plugin-transform@1.0.0',
      '@acme/kite-plugin-greeting@1.0.0',
      '@acme/kite-plugin-greeting@2.0.0',
    ]),
  )
  process.stdout.write(`  ${count} plugin versions installed\n`)
  const flows = await step('load examples/flows', () =>
    server.runtime.loadFlows(join(root, 'examples/flows')),
  )
  process.stdout.write(`  ${flows.length} flows saved\n`)
  const lines = await step('run the version-pinning examples', () => runPinningExamples(server.url))
  process.stdout.write(`${lines.join('\n')}\n`)

  const docsDir = resolve(root, 'apps/docs/.vitepress/dist')
  const docs = existsSync(docsDir)
    ? await step(`docs on port ${ports.docs}`, () => serveDocs(docsDir + sep, ports.docs))
    : undefined
  if (docs) running.push(docs)

  process.stdout.write(
    [
      '',
      `Kite is running (ready in ${((Date.now() - started) / 1000).toFixed(1)} s):`,
      `  registry UI   ${registry.url}/-/kite/`,
      `  runtime UI    ${server.url}/ui/`,
      `  runtime API   ${server.url}/api/v1  (OpenAPI: ${server.url}/api/v1/openapi.json)`,
      `  log in        at ${server.url}/ui/ as ${login}`,
      `  docs          ${docs ? docs.url : '(not built: npm run docs:build)'}`,
      `  publish       npm publish --registry ${registry.url}/ --userconfig ${npmrc}`,
      `  webhook       curl -X POST -H 'content-type: application/json' -d '{"name":"Ada"}' ${server.url}/api/v1/executions/webhook/kite.examples/webhook/hello-kite`,
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  )
}

async function stop(code) {
  for (const part of running.reverse()) await part.close().catch(() => {})
  process.exit(code)
}

let stopping = false
function onSignal() {
  // A second Ctrl-C while closing must not kill the process half-way: closing is quick.
  if (stopping) return
  stopping = true
  process.stdout.write('\nstopping…\n')
  void stop(0)
}
process.on('SIGINT', onSignal)
process.on('SIGTERM', onSignal)
main().catch((error) => {
  process.stderr.write(`npm start: ${error.message}\n`)
  void stop(1)
})
