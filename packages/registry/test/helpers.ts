import { type ChildProcess, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Logger, PluginDefinition } from '@kite/sdk'
import { createManifest } from '@kite/sdk/host'
import { packFiles } from '../../sdk/test/fixtures/hostile-tarballs.js'
import { createRegistry, type Registry, type RegistryOptions } from '../src/registry.js'

export async function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `kite-registry-${prefix}-`))
}

export interface TestRegistry {
  registry: Registry
  dir: string
  storage: string
  restart(options?: Partial<RegistryOptions>): Promise<Registry>
  close(): Promise<void>
}

/** A registry on a random loopback port with its own temp storage; `close` removes it all. */
export async function startTestRegistry(
  options: Partial<RegistryOptions> = {},
): Promise<TestRegistry> {
  const dir = await makeTempDir('it')
  const storage = join(dir, 'storage')
  const base = { port: 0, host: '127.0.0.1', storage, ...options }
  const handle: TestRegistry = {
    registry: await createRegistry(base),
    dir,
    storage,
    async restart(more = {}) {
      await handle.registry.close()
      handle.registry = await createRegistry({ ...base, ...more })
      return handle.registry
    },
    async close() {
      await handle.registry.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
  return handle
}

// --- plugin packages --------------------------------------------------------------------------

export interface PluginPackageOptions {
  name: string
  version: string
  plugin: PluginDefinition
  /** Changes the manifest before it is written (for bad input). */
  mutateManifest?(manifest: Record<string, unknown>): void
  /** Writes this text as the manifest instead (for invalid JSON). */
  manifestText?: string
  /** Merged into package.json. */
  packageJson?: Record<string, unknown>
  /** More files in the package (or replacements, e.g. a README.md), by path. */
  extraFiles?: Record<string, string>
  sdkRange?: string
}

/** The files of a plugin package as `kite-plugin build` leaves them, without running esbuild. */
export function pluginFiles(options: PluginPackageOptions): Record<string, string> {
  const pkg = {
    name: options.name,
    version: options.version,
    description: `${options.plugin.title} plugin`,
    type: 'module',
    license: 'MIT',
    keywords: ['kite-plugin'],
    exports: { '.': './dist/index.js' },
    files: ['dist'],
    kite: { manifest: 'dist/kite-plugin.json' },
    peerDependencies: { '@kite/sdk': options.sdkRange ?? '^0.1.0' },
    ...options.packageJson,
  }
  const manifest = createManifest(options.plugin, pkg, {
    entry: 'dist/index.js',
    sdkRange: options.sdkRange ?? '^0.1.0',
  }) as unknown as Record<string, unknown>
  options.mutateManifest?.(manifest)
  return {
    'package.json': `${JSON.stringify(pkg, null, 2)}\n`,
    'README.md': `# ${options.name}\n`,
    'dist/index.js': `// ${options.name}@${options.version}\nexport default {}\n`,
    'dist/kite-plugin.json': options.manifestText ?? `${JSON.stringify(manifest, null, 2)}\n`,
    ...options.extraFiles,
  }
}

export async function writePluginPackage(
  dir: string,
  options: PluginPackageOptions,
): Promise<string> {
  await writeFiles(dir, pluginFiles(options))
  return dir
}

export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const target = join(dir, path)
    await mkdir(join(target, '..'), { recursive: true })
    await writeFile(target, content)
  }
}

// --- tarballs and raw publishes -------------------------------------------------------------

/** A gzipped tar with every file under `package/`, as `npm pack` makes it (modern-tar). */
export const packTarball = packFiles

/** The JSON body npm sends to `PUT /<name>` to publish one version. */
export function publishBody(
  name: string,
  version: string,
  tarball: Buffer,
  extra: Record<string, unknown> = {},
) {
  const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`
  const shasum = createHash('sha1').update(tarball).digest('hex')
  const file = `${name}-${version}.tgz`
  return {
    _id: name,
    name,
    'dist-tags': { latest: version },
    versions: {
      [version]: {
        name,
        version,
        ...extra,
        _id: `${name}@${version}`,
        dist: { integrity, shasum, tarball: `http://localhost/${name}/-/${file}` },
      },
    },
    _attachments: {
      [file]: {
        content_type: 'application/octet-stream',
        data: tarball.toString('base64'),
        length: tarball.length,
      },
    },
  }
}

export async function rawPublish(
  url: string,
  token: string | undefined,
  body: unknown,
  name: string,
) {
  const response = await fetch(`${url}/${name.replace('/', '%2f')}`, {
    method: 'PUT',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  })
  return {
    status: response.status,
    body: (await response.json()) as { error?: string; code?: string },
  }
}

/** Publishes a plugin version over HTTP exactly as npm would (no npm process: fast). */
export async function publishPlugin(url: string, token: string, options: PluginPackageOptions) {
  const files = pluginFiles(options)
  const pkg = JSON.parse(files['package.json'] as string) as Record<string, unknown>
  const result = await rawPublish(
    url,
    token,
    publishBody(options.name, options.version, await packTarball(files), pkg),
    options.name,
  )
  if (result.status !== 201) {
    throw new Error(
      `publishing ${options.name}@${options.version} failed: ${result.status} ${result.body.error}`,
    )
  }
}

// --- accounts and npm -------------------------------------------------------------------------

export async function createUser(
  url: string,
  name: string,
  password = 'correct-horse-9',
): Promise<string> {
  const response = await fetch(`${url}/-/user/org.couchdb.user:${encodeURIComponent(name)}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password, email: `${name}@example.com` }),
  })
  const body = (await response.json()) as { token?: string; error?: string }
  if (!body.token) throw new Error(`cannot create ${name}: ${response.status} ${body.error}`)
  return body.token
}

export async function writeNpmrc(path: string, url: string, token?: string): Promise<string> {
  const host = url.replace(/^https?:/, '')
  await writeFile(path, token ? `${host}/:_authToken=${token}\n` : '')
  return path
}

export interface NpmResult {
  code: number
  stdout: string
  stderr: string
}

export interface NpmOptions {
  cwd: string
  userconfig: string
  registry: string
  cache: string
  /** Answers to interactive prompts, matched by the prompt's text. */
  prompts?: Array<[RegExp, string]>
  timeoutMs?: number
}

/** Runs the real npm CLI against the test registry with its own npmrc and cache. */
export function npm(args: string[], options: NpmOptions): Promise<NpmResult> {
  return runCli(
    'npm',
    [
      ...args,
      '--registry',
      `${options.registry}/`,
      '--userconfig',
      options.userconfig,
      '--cache',
      options.cache,
      '--no-audit',
      '--no-fund',
      '--no-update-notifier',
    ],
    options,
  )
}

export interface CliOptions {
  cwd: string
  /** Set on top of this process's environment (which loses its npm_* variables). */
  env?: NodeJS.ProcessEnv
  /** Answers to interactive prompts, matched by the prompt's text. */
  prompts?: Array<[RegExp, string]>
  timeoutMs?: number
}

/** Runs a command-line tool (npm, or a package manager's bin through node) and collects its output. */
export function runCli(command: string, args: string[], options: CliOptions): Promise<NpmResult> {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.toLowerCase().startsWith('npm_')) env[key] = value
  }
  Object.assign(env, options.env)
  const child: ChildProcess = spawn(command, args, {
    cwd: options.cwd,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  const pending = [...(options.prompts ?? [])]
  const answer = () => {
    const next = pending[0]
    if (next?.[0].test(stdout + stderr)) {
      pending.shift()
      child.stdin?.write(`${next[1]}\n`)
      stdout += '\n'
    }
  }
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
    answer()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
    answer()
  })
  if (pending.length === 0) child.stdin?.end()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${command} ${args.join(' ')} timed out\n${stdout}\n${stderr}`))
    }, options.timeoutMs ?? 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code: code ?? 1, stdout, stderr })
    })
  })
}

// --- events -----------------------------------------------------------------------------------

export interface ReceivedEvent {
  id: number
  event: string
  data: Record<string, unknown>
}

export interface EventStream {
  events: ReceivedEvent[]
  comments: string[]
  /** Resolves once `count` events have arrived in total. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedEvent[]>
  close(): void
}

/** Opens `/-/kite/api/v1/events` and collects what arrives; resolves once connected. */
export async function openEventStream(url: string, lastEventId?: number): Promise<EventStream> {
  const controller = new AbortController()
  const response = await fetch(`${url}/-/kite/api/v1/events`, {
    headers: lastEventId === undefined ? {} : { 'last-event-id': String(lastEventId) },
    signal: controller.signal,
  })
  if (!response.ok || !response.body) throw new Error(`event stream: ${response.status}`)
  const events: ReceivedEvent[] = []
  const comments: string[] = []
  const waiters: Array<() => void> = []
  const reader = response.body.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  let connected!: () => void
  const ready = new Promise<void>((resolve) => {
    connected = resolve
  })
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buffer += decoder.decode(value, { stream: true })
        let end = buffer.indexOf('\n\n')
        while (end !== -1) {
          const frame = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const fields: Record<string, string> = {}
          for (const line of frame.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim())
            const colon = line.indexOf(':')
            if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1).trimStart()
          }
          if (fields.data !== undefined) {
            events.push({
              id: Number(fields.id),
              event: fields.event ?? 'message',
              data: JSON.parse(fields.data) as Record<string, unknown>,
            })
          }
          connected()
          for (const wake of waiters.splice(0)) wake()
          end = buffer.indexOf('\n\n')
        }
      }
    } catch {
      // aborted
    }
  })()
  await ready
  return {
    events,
    comments,
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs
      while (events.length < count) {
        if (Date.now() > deadline) {
          throw new Error(
            `expected ${count} events, got ${events.length}: ${JSON.stringify(events)}`,
          )
        }
        await new Promise<void>((resolve) => {
          waiters.push(resolve)
          setTimeout(resolve, 100)
        })
      }
      return events.slice(0, count)
    },
    close() {
      controller.abort()
    },
  }
}

/**
 * Reads a raw event stream's text until it includes `marker` (or the stream ends), then cancels
 * it: for the tests that check the stream's exact wire format.
 */
export async function readStreamUntil(response: Response, marker: string): Promise<string> {
  const reader = response.body?.getReader()
  const decoder = new TextDecoder()
  let text = ''
  while (!text.includes(marker)) {
    const chunk = await reader?.read()
    if (!chunk || chunk.done) break
    text += decoder.decode(chunk.value, { stream: true })
  }
  await reader?.cancel()
  return text
}

// --- logs -------------------------------------------------------------------------------------

/** A logger that keeps the warnings and errors it is given (and drops the rest). */
export function recordingLogger(): { logger: Logger; warnings: string[]; errors: string[] } {
  const warnings: string[] = []
  const errors: string[] = []
  const logger: Logger = {
    trace() {},
    debug() {},
    info() {},
    warn: (message: string) => {
      warnings.push(message)
    },
    error: (message: string) => {
      errors.push(message)
    },
  }
  return { logger, warnings, errors }
}

// --- storage ----------------------------------------------------------------------------------

/** Every file under verdaccio's package storage, relative, sorted. */
export async function listStoredFiles(storage: string): Promise<string[]> {
  const root = join(storage, 'packages')
  const out: string[] = []
  const walk = async (dir: string, prefix: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const path = prefix ? `${prefix}/${entry.name}` : entry.name
      if (entry.isDirectory()) await walk(join(dir, entry.name), path)
      else out.push(path)
    }
  }
  await walk(root, '')
  return out.sort()
}

export async function getJson<T = Record<string, unknown>>(
  url: string,
): Promise<{ status: number; body: T }> {
  const response = await fetch(url)
  return { status: response.status, body: (await response.json()) as T }
}

/** Deprecates a version the way `npm deprecate` does: fetch the packument, mark it, PUT it back. */
export async function deprecateVersion(
  url: string,
  token: string,
  name: string,
  version: string,
  message: string,
) {
  const path = `${url}/${name.replace('/', '%2f')}`
  const packument = (await (await fetch(`${path}?write=true`)).json()) as {
    versions: Record<string, Record<string, unknown>>
  }
  const target = packument.versions[version]
  if (!target) throw new Error(`${name}@${version} does not exist`)
  target.deprecated = message
  const response = await fetch(path, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(packument),
  })
  if (response.status !== 201)
    throw new Error(`deprecating ${name}@${version} failed: ${response.status}`)
}
