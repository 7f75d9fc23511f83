import { type ChildProcess, fork } from 'node:child_process'
import { EventEmitter } from 'node:events'
import {
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  symlinkSync,
} from 'node:fs'
import { realpath } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { ResourceLimits } from 'node:worker_threads'
import { RuntimeError } from '../errors.js'
import type { RuntimeLogger } from '../executor/engine.js'
import type { InstalledPlugin } from './plugin-catalog.js'
import { NO_PERMISSIONS, type SandboxPermissions } from './sandbox-permissions.js'
import type { SandboxRequest, SandboxResponse } from './sandbox-protocol.js'
import type { WorkerRequest, WorkerResponse } from './worker-protocol.js'

/**
 * A plugin thread as the worker host drives it: a `Worker` in this process, or a thread inside a
 * sandbox process reached over IPC. Events: `message` (WorkerResponse), `error` (Error), `exit`
 * (code).
 */
export interface ThreadHandle {
  postMessage(message: WorkerRequest): void
  terminate(): Promise<unknown>
  ref(): void
  unref(): void
  on(event: 'message', listener: (message: WorkerResponse) => void): unknown
  on(event: 'error', listener: (error: Error) => void): unknown
  on(event: 'exit', listener: (code: number) => void): unknown
}

export interface SandboxOptions {
  /** The engine's work directory: every call's `workingDir` lies under it; sandboxes write it. */
  workDir: string
  /** What a version may have beyond the sandbox; throws `PLUGIN_PERMISSION` when not granted. */
  permissionsOf(plugin: InstalledPlugin): SandboxPermissions
  /** Where the environment variables a plugin was granted are read (default `process.env`). */
  env?: NodeJS.ProcessEnv
  /** Lines a sandbox process prints outside any call (the runtime's logger). */
  logger?: RuntimeLogger
  /**
   * Keep one sandbox process forked ahead, from `prepare` or the first thread on, for the next
   * version that asks for nothing beyond the sandbox (default true): see `createSandboxPool`.
   */
  spare?: boolean
  /**
   * Where a spare process gets its copy of the version it is given (default `sandbox-slots`
   * beside `workDir`). Must lie outside `workDir`: every sandbox writes there.
   */
  slotsDir?: string
}

/** Where one version's sandbox may read and write, for the host's own services to respect. */
export interface SandboxReach {
  read: readonly string[]
  write: readonly string[]
}

/** The sandbox processes of a worker host, one per plugin version with live threads. */
export interface SandboxPool {
  /** Checks a version's permissions (throws `PLUGIN_PERMISSION`) and returns its reach. */
  reachOf(plugin: InstalledPlugin): SandboxReach
  /** Starts a thread of `plugin` inside its sandbox process (forked on demand). */
  startThread(plugin: InstalledPlugin, resourceLimits: ResourceLimits): ThreadHandle
  /**
   * Forks the spare process now (unless `spare: false`), its thread started with `resourceLimits`,
   * rather than after the first sandboxed answer: the next plain version's first task then waits
   * for no process start. Idle, it keeps nothing alive; once forked, a taken spare is replaced.
   */
  prepare(resourceLimits: ResourceLimits): void
  /** Live sandbox processes, by `name@version`, with their pid. */
  processes(): Record<string, number>
  /** The pid of the spare process forked ahead, if there is one. */
  spare(): number | undefined
  close(): Promise<void>
}

interface Sandbox {
  key: string
  child: ChildProcess
  ready: boolean
  /** Its first thread has loaded the SDK (a spare taken before this is still booting). */
  booted: boolean
  /** Taken while booting: the next spare is forked, with these limits, once this one has booted. */
  replaceWhenBooted?: ResourceLimits
  backlog: SandboxRequest[]
  threads: Map<number, RemoteThread>
  exited: boolean
  /** The last lines it printed: why it died, when it dies by itself. */
  tail: string[]
  /**
   * A spare's directory (its only readable place besides the shared ones) and, once adopted by a
   * version, the version's directory it holds a copy of: `init` entries are mapped into it.
   */
  slot?: { dir: string; cwd: string; from?: string[] }
}

class RemoteThread extends EventEmitter {
  exited = false
  readonly #exit: Promise<void>
  #markExit!: () => void
  constructor(
    readonly id: number,
    readonly sandbox: Sandbox,
    private readonly request: (sandbox: Sandbox, message: SandboxRequest) => void,
  ) {
    super()
    this.#exit = new Promise((done) => {
      this.#markExit = done
    })
  }
  postMessage(message: WorkerRequest): void {
    if (!this.exited) this.request(this.sandbox, { op: 'post', id: this.id, message })
  }
  terminate(): Promise<void> {
    if (!this.exited) this.request(this.sandbox, { op: 'terminate', id: this.id })
    return this.#exit
  }
  // The sandbox process stays referenced while it has threads; a thread has nothing to unref.
  ref(): void {}
  unref(): void {}
  ended(code: number): void {
    if (this.exited) return
    this.exited = true
    this.emit('exit', code)
    this.#markExit()
  }
}

/**
 * Sandbox processes (SPEC 6): one forked Node process per plugin version, started when the
 * version's first thread is, ended when its last thread ends. Each runs under Node's permission
 * model: it reads only its version's directory, the SDK (and the packages the SDK needs), the
 * runtime's worker script and the work directory; writes only the work directory (plus what the
 * version was granted); may start worker threads but no child process unless granted; loads no
 * native addon; sees only the environment variables it was granted; and works in a directory of
 * its own. One process per version rather than per permission set, because a process's read
 * allow-list holds its plugin's directory: shared, one plugin could read another's code.
 */
export function createSandboxPool(options: SandboxOptions): SandboxPool {
  const workDir = resolve(options.workDir)
  const sandboxes = new Map<string, Sandbox>()
  const reaches = new Map<string, { reach: SandboxReach; permissions: SandboxPermissions }>()
  let nextId = 1
  let base: { script: string; read: string[] } | undefined
  const slotsDir = resolve(options.slotsDir ?? join(dirname(workDir), 'sandbox-slots'))
  /** The process forked ahead for the next plain version (see `replenish`). */
  let spare: Sandbox | undefined
  let spareWanted = false
  let spareFailed = false
  let nextSpare = 1
  let closed = false

  const send = (sandbox: Sandbox, request: SandboxRequest) => {
    if (sandbox.exited) return
    const message = sandbox.slot?.from ? intoSlot(request, sandbox.slot) : request
    if (!sandbox.ready) {
      sandbox.backlog.push(message)
      return
    }
    try {
      sandbox.child.send(message)
    } catch {
      // The process is ending: its exit handler fails the threads.
    }
  }

  const keyOf = (plugin: InstalledPlugin) => `${plugin.name}@${plugin.version}`

  const resolveReach = (plugin: InstalledPlugin) => {
    const key = keyOf(plugin)
    let known = reaches.get(key)
    if (!known) {
      const permissions = options.permissionsOf(plugin)
      base ??= baseReach()
      const root = pluginRoot(plugin)
      const read = [
        ...base.read,
        root,
        ...sdkLinks(root),
        workDir,
        ...permissions.fsRead,
        ...permissions.fsWrite,
      ]
      const write = [workDir, ...permissions.fsWrite]
      known = { reach: { read: unique(read), write: unique(write) }, permissions }
      reaches.set(key, known)
    }
    return known
  }

  /** Forks a sandbox process; its first thread starts at once with `resourceLimits`. */
  const fork_ = (
    key: string,
    cwd: string,
    reach: SandboxReach,
    permissions: SandboxPermissions,
    resourceLimits: ResourceLimits,
  ): Sandbox => {
    base ??= baseReach()
    mkdirSync(cwd, { recursive: true })
    const source = options.env ?? process.env
    const env: Record<string, string> = {}
    for (const name of permissions.env) {
      const value = source[name]
      if (value !== undefined) env[name] = value
    }
    const child = fork(base.script, [JSON.stringify(resourceLimits)], {
      execArgv: [
        '--experimental-permission',
        // One flag per path: Node 20.20 mis-parses a comma-separated list of several paths
        // (measured: `--allow-fs-read=/a,/b` grants neither), repeated flags work.
        ...reach.read.map((path) => `--allow-fs-read=${path}`),
        ...reach.write.map((path) => `--allow-fs-write=${path}`),
        '--allow-worker',
        ...(permissions.childProcess ? ['--allow-child-process'] : []),
        // This process's own isolate only relays small messages: a 1 MiB young generation
        // (16 by default) saves ~5 MiB of RSS per version (measured 68 → 63 MiB).
        '--max-semi-space-size=1',
        // The permission model's ExperimentalWarning on every start is noise in the logs.
        '--no-warnings',
      ],
      env,
      cwd,
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    })
    const sandbox: Sandbox = {
      key,
      child,
      ready: false,
      booted: false,
      backlog: [],
      threads: new Map(),
      exited: false,
      tail: [],
    }
    const relay = (stream: NodeJS.ReadableStream | null) => {
      let buffered = ''
      stream?.setEncoding('utf8')
      stream?.on('data', (chunk: string) => {
        buffered += chunk
        const lines = buffered.split('\n')
        buffered = lines.pop() ?? ''
        for (const line of lines) {
          if (!line.trim()) continue
          options.logger?.warn(`plugin ${sandbox.key || 'spare'} (sandbox ${child.pid}): ${line}`)
          sandbox.tail.push(line)
          if (sandbox.tail.length > 5) sandbox.tail.shift()
        }
      })
    }
    relay(child.stdout)
    relay(child.stderr)
    child.on('message', (message: SandboxResponse) => {
      if (message.op === 'ready') {
        sandbox.ready = true
        for (const queued of sandbox.backlog.splice(0)) send(sandbox, queued)
        return
      }
      if (message.op === 'booted') {
        sandbox.booted = true
        const limits = sandbox.replaceWhenBooted
        sandbox.replaceWhenBooted = undefined
        if (limits) replenish(limits)
        return
      }
      const thread = sandbox.threads.get(message.id)
      if (!thread) return
      if (message.op === 'message') {
        // Without `prepare`, the spare is forked once a thread answered, not while one starts
        // (2 cores are few).
        if (!spare) replenish(resourceLimits)
        thread.emit('message', message.message)
      } else if (message.op === 'error') {
        thread.emit('error', Object.assign(new Error(message.error.message), message.error))
      } else {
        sandbox.threads.delete(message.id)
        thread.ended(message.code)
        if (sandbox.threads.size === 0) end(sandbox)
      }
    })
    const lost = (reason: string) => {
      if (sandbox.exited) return
      sandbox.exited = true
      if (sandboxes.get(sandbox.key) === sandbox) sandboxes.delete(sandbox.key)
      if (spare === sandbox) {
        spare = undefined
        // A spare that cannot start would be forked again forever: versions fork at need.
        spareFailed = true
      }
      for (const thread of sandbox.threads.values()) {
        thread.emit('error', new Error(`its sandbox process ${reason}`))
        thread.ended(1)
      }
      sandbox.threads.clear()
    }
    child.on('error', (error) => lost(`failed: ${error.message}`))
    child.on('exit', (code, signal) => {
      removeSlot(sandbox)
      const said = sandbox.tail.length > 0 ? ` (${sandbox.tail.join(' / ')})` : ''
      lost(signal ? `was killed (${signal})${said}` : `exited with code ${code}${said}`)
    })
    return sandbox
  }

  /**
   * A spare process: forked before its version is known, reading only the shared paths and an
   * empty slot directory of its own. Node fixes a process's permissions when it starts, so the
   * version it is given later is copied (hard-linked) into the slot rather than granted.
   */
  const replenish = (resourceLimits: ResourceLimits) => {
    if (!spareWanted || spare || spareFailed || closed) return
    if (nextSpare === 1) removeStaleSlots(slotsDir, workDir)
    const id = `spare-${process.pid}-${nextSpare++}`
    const dir = join(slotsDir, id)
    const cwd = join(workDir, '.sandbox', id)
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    base ??= baseReach()
    const reach = { read: unique([...base.read, dir, workDir]), write: [workDir] }
    const created = fork_('', cwd, reach, NO_PERMISSIONS, resourceLimits)
    created.slot = { dir, cwd }
    // Idle, it keeps nothing alive.
    holdOpen(created, false)
    spare = created
  }

  /** A spare's slot and working directory go with its process (one of each per spare). */
  const removeSlot = (sandbox: Sandbox) => {
    if (!sandbox.slot) return
    rmSync(sandbox.slot.dir, { recursive: true, force: true })
    rmSync(sandbox.slot.cwd, { recursive: true, force: true })
  }

  /** Whether a sandbox's process, channel and pipes keep the runtime's event loop alive. */
  const holdOpen = (sandbox: Sandbox, hold: boolean) => {
    const { child } = sandbox
    const handles = [child, child.channel, child.stdout, child.stderr] as (
      | {
          ref?: () => void
          unref?: () => void
        }
      | null
      | undefined
    )[]
    for (const handle of handles) {
      if (hold) handle?.ref?.()
      else handle?.unref?.()
    }
  }

  /** Gives the spare to `plugin` when it asks for nothing extra and its package is small. */
  const adopt = (
    plugin: InstalledPlugin,
    permissions: SandboxPermissions,
    resourceLimits: ResourceLimits,
  ): Sandbox | undefined => {
    const candidate = spare
    if (!candidate?.slot || candidate.exited || !isPlain(permissions)) return undefined
    const root = pluginRoot(plugin)
    // The bundle finds the SDK through its own node_modules (as the store installs it).
    if (!existsSync(join(root, 'node_modules', '@kite', 'sdk'))) return undefined
    let linked = false
    try {
      linked = linkTree(root, candidate.slot.dir)
    } catch (error) {
      options.logger?.warn(
        `plugin ${keyOf(plugin)}: cannot copy it for the spare sandbox (${(error as Error).message}); forking one for it`,
      )
    }
    if (!linked) {
      // Empty again for the next version; this one gets a process forked for it.
      rmSync(candidate.slot.dir, { recursive: true, force: true })
      mkdirSync(candidate.slot.dir, { recursive: true })
      return undefined
    }
    spare = undefined
    candidate.key = keyOf(plugin)
    const origin = resolve(plugin.origin)
    candidate.slot.from = unique([root, origin])
    holdOpen(candidate, true)
    sandboxes.set(candidate.key, candidate)
    // Replaced at once, so a version installed right after this one finds a spare booting (part
    // of its start already paid) rather than none; after this turn, so the adopted spare's `init`
    // goes out first. A spare taken while still booting is replaced once it has booted: two
    // boots at once would share the CPU its version's first task is waiting for.
    if (candidate.booted) setImmediate(() => replenish(resourceLimits))
    else candidate.replaceWhenBooted = resourceLimits
    return candidate
  }

  const open = (plugin: InstalledPlugin, resourceLimits: ResourceLimits): Sandbox => {
    const key = keyOf(plugin)
    const existing = sandboxes.get(key)
    if (existing && !existing.exited) return existing
    const { reach, permissions } = resolveReach(plugin)
    const adopted = adopt(plugin, permissions, resourceLimits)
    if (adopted) return adopted
    const cwd = join(workDir, '.sandbox', key.replace(/[^\w.@-]+/g, '_'))
    const sandbox = fork_(key, cwd, reach, permissions, resourceLimits)
    sandboxes.set(key, sandbox)
    return sandbox
  }

  /** Ends a sandbox whose last thread ended; a new thread of its version forks a fresh one. */
  const end = (sandbox: Sandbox) => {
    if (sandboxes.get(sandbox.key) === sandbox) sandboxes.delete(sandbox.key)
    sandbox.exited = true
    sandbox.child.kill('SIGKILL')
  }

  return {
    reachOf: (plugin) => resolveReach(plugin).reach,
    startThread(plugin, resourceLimits) {
      const sandbox = open(plugin, resourceLimits)
      const thread = new RemoteThread(nextId++, sandbox, send)
      sandbox.threads.set(thread.id, thread)
      send(sandbox, { op: 'start', id: thread.id, resourceLimits })
      spareWanted = options.spare ?? true
      return thread
    },
    prepare(resourceLimits) {
      spareWanted = options.spare ?? true
      // A spare only saves a version's first call a process start: one that cannot be forked
      // (no sandbox script, no slot dir) is logged, and the first call forks at need.
      try {
        replenish(resourceLimits)
      } catch (error) {
        spareFailed = true
        options.logger?.warn(`plugin sandbox: no spare process forked ahead: ${String(error)}`)
      }
    },
    spare: () => (spare && !spare.exited ? spare.child.pid : undefined),
    processes: () =>
      Object.fromEntries([...sandboxes].map(([key, sandbox]) => [key, sandbox.child.pid ?? 0])),
    async close() {
      closed = true
      const all = [...sandboxes.values(), ...(spare ? [spare] : [])]
      spare = undefined
      await Promise.all(
        all.map(
          (sandbox) =>
            new Promise<void>((done) => {
              if (sandbox.child.exitCode !== null || sandbox.child.signalCode !== null) done()
              else {
                sandbox.child.once('exit', () => done())
                // Held until it has exited: an idle spare is unref'd, and waiting for an unref'd
                // process lets the event loop run dry (the CLI then ends with code 13).
                holdOpen(sandbox, true)
                sandbox.child.kill('SIGKILL')
              }
            }),
        ),
      )
      for (const sandbox of all) removeSlot(sandbox)
    },
  }
}

/**
 * Whether a path the plugin hands a host service (a file to store, a target to download to)
 * lies within its reach: the call's working directory or the directories it was granted. The
 * host reads and writes for the plugin, so it must not go where the plugin itself may not.
 */
export async function withinReach(
  path: string,
  roots: readonly string[],
  mode: 'read' | 'write',
): Promise<boolean> {
  // A symlink on the way must not lead the host elsewhere: compare real paths. A target to write
  // may not exist yet: its nearest existing ancestor is resolved and the rest appended.
  let real = resolve(path)
  for (let dir = real, rest = ''; ; rest = join(basename(dir), rest), dir = dirname(dir)) {
    const found = await realpath(dir).catch(() => undefined)
    if (found !== undefined) {
      real = join(found, rest)
      break
    }
    if (mode === 'read' || dirname(dir) === dir) return false
  }
  for (const root of roots) {
    const realRoot = await realpath(root).catch(() => resolve(root))
    if (real === realRoot || real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep)) {
      return true
    }
  }
  return false
}

/**
 * Slots and working directories of another process's spares (`spare-<pid>-<n>`): a runtime
 * killed with SIGKILL removes nothing, and a data directory has one runtime at a time (its lock).
 */
function removeStaleSlots(slotsDir: string, workDir: string): void {
  for (const parent of [slotsDir, join(workDir, '.sandbox')]) {
    let names: string[] = []
    try {
      names = readdirSync(parent)
    } catch {
      continue
    }
    for (const name of names) {
      const pid = /^spare-(\d+)-\d+$/.exec(name)?.[1]
      if (pid !== undefined && Number(pid) !== process.pid) {
        rmSync(join(parent, name), { recursive: true, force: true })
      }
    }
  }
}

/** Whether a version asks for nothing beyond the sandbox (what a spare process was forked with). */
const isPlain = (permissions: SandboxPermissions) =>
  !permissions.childProcess &&
  permissions.fsRead.length === 0 &&
  permissions.fsWrite.length === 0 &&
  permissions.env.length === 0

/** Entries a spare copies at most: a store-installed bundle has a handful. */
const MAX_SLOT_ENTRIES = 256

/**
 * Mirrors the directory `from` into the empty `to`: files hard-linked (copied across devices),
 * symlinks recreated. False, leaving `to` partly filled, when it holds more than
 * `MAX_SLOT_ENTRIES` entries (a development directory with its node_modules: forked at need).
 */
function linkTree(from: string, to: string): boolean {
  let budget = MAX_SLOT_ENTRIES
  const walk = (source: string, target: string): boolean => {
    for (const entry of readdirSync(source, { withFileTypes: true })) {
      if (--budget < 0) return false
      const path = join(source, entry.name)
      const copy = join(target, entry.name)
      if (entry.isSymbolicLink()) symlinkSync(readlinkSync(path), copy)
      else if (entry.isDirectory()) {
        mkdirSync(copy)
        if (!walk(path, copy)) return false
      } else if (entry.isFile()) {
        try {
          linkSync(path, copy)
        } catch {
          copyFileSync(path, copy)
        }
      }
    }
    return true
  }
  return walk(from, to)
}

/** A request to an adopted spare: the version's entry as the slot's copy of it. */
function intoSlot(request: SandboxRequest, slot: NonNullable<Sandbox['slot']>): SandboxRequest {
  if (request.op !== 'post' || request.message.type !== 'init') return request
  const entry = fileURLToPath(request.message.entry)
  const root = slot.from?.find((dir) => !relative(dir, entry).startsWith('..'))
  if (root === undefined) return request
  const mapped = pathToFileURL(join(slot.dir, relative(root, entry))).href
  return { ...request, message: { ...request.message, entry: mapped } }
}

/** The directory of an installed version (its package root). */
function pluginRoot(plugin: InstalledPlugin): string {
  if (isAbsolute(plugin.origin) && existsSync(plugin.origin)) return realpathSync(plugin.origin)
  if (plugin.code.kind !== 'module') {
    throw new RuntimeError(`${plugin.name}@${plugin.version} has no bundle to run in a sandbox`, {
      code: 'INTERNAL',
      kind: 'internal',
    })
  }
  return dirname(plugin.code.entry)
}

/** `node_modules/@kite/sdk` links on the way up from a plugin's directory, as the loader sees them. */
function sdkLinks(root: string): string[] {
  const links: string[] = []
  for (let dir = root; ; dir = dirname(dir)) {
    const link = join(dir, 'node_modules', '@kite', 'sdk')
    try {
      lstatSync(link)
      links.push(link)
    } catch {
      // None here.
    }
    if (dirname(dir) === dir) return links
  }
}

/**
 * What every sandbox reads: the sandbox and worker scripts (the runtime's `dist/`), the runtime's
 * package.json (the loader reads the package scope), and the SDK with every package it needs.
 */
function baseReach(): { script: string; read: string[] } {
  const script = sandboxScript()
  const dist = dirname(script)
  const read = [dist, join(dirname(dist), 'package.json')]
  // plugin-worker.js imports the SDK (semver, for migrations, is bundled into `dist/`); the SDK
  // imports its dependencies.
  read.push(...packageClosure('@kite/sdk', dist))
  return { script, read: unique(read) }
}

/** A package's directory and those of its dependencies, transitively, as real paths. */
function packageClosure(name: string, from: string): string[] {
  const seen = new Set<string>()
  const visit = (pkg: string, fromDir: string) => {
    const dir = findPackage(pkg, fromDir)
    if (!dir) return
    const real = realpathSync(dir)
    if (seen.has(real)) return
    seen.add(real)
    // The symlinked path too: the loader checks the path it resolved before the real one.
    seen.add(dir)
    const manifest = JSON.parse(readFileSync(join(real, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>
    }
    for (const dependency of Object.keys(manifest.dependencies ?? {})) visit(dependency, real)
  }
  visit(name, from)
  return [...seen]
}

/** `node_modules/<name>` as Node's resolution finds it from `from` upwards. */
function findPackage(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name)
    if (existsSync(join(candidate, 'package.json'))) return candidate
    if (dirname(dir) === dir) return undefined
  }
}

const unique = (list: string[]) => [...new Set(list.map((path) => resolve(path)))]

/**
 * The sandbox's script: `dist/plugin-sandbox.js` of the built runtime (beside `plugin-worker.js`).
 */
function sandboxScript(): string {
  const candidates = [
    new URL('./plugin-sandbox.js', import.meta.url),
    new URL('../../dist/plugin-sandbox.js', import.meta.url),
  ]
  try {
    candidates.push(
      new URL(
        './plugin-sandbox.js',
        `file://${createRequire(import.meta.url).resolve('@kite/runtime')}`,
      ),
    )
  } catch {
    // Not resolvable from here.
  }
  for (const candidate of candidates) {
    const path = fileURLToPath(candidate)
    if (existsSync(path)) return realpathSync(path)
  }
  throw new RuntimeError(
    `the plugin sandbox script is missing (${fileURLToPath(candidates[1] as URL)}): build @kite/runtime first`,
    { code: 'INTERNAL', kind: 'internal' },
  )
}
