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
import { decodeMessage, type EncodedMessage, encodeMessage } from './sandbox-codec.js'
import { NO_PERMISSIONS, type SandboxPermissions } from './sandbox-permissions.js'
import type { SandboxResponse } from './sandbox-protocol.js'
import {
  PLUGIN_WORKER_CONDITION,
  type WorkerRequest,
  type WorkerResponse,
} from './worker-protocol.js'

/**
 * A plugin thread as the worker host drives it: a `Worker` in this process, or the main thread of
 * a sandbox process reached over IPC. Events: `message` (WorkerResponse), `error` (Error), `exit`
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

/** The sandbox processes of a worker host, one per plugin thread (and a spare). */
export interface SandboxPool {
  /** Checks a version's permissions (throws `PLUGIN_PERMISSION`) and returns its reach. */
  reachOf(plugin: InstalledPlugin): SandboxReach
  /** Starts a thread of `plugin`: a sandbox process of its own (the spare, or forked). */
  startThread(plugin: InstalledPlugin, resourceLimits: ResourceLimits): ThreadHandle
  /**
   * Forks the spare process now (unless `spare: false`), with `resourceLimits` as its heap limits,
   * rather than after the first sandboxed answer: the next plain version's first task then waits
   * for no process start. Idle, it keeps nothing alive; once forked, a taken spare is replaced.
   */
  prepare(resourceLimits: ResourceLimits): void
  /** Live sandbox processes, by `name@version`, with the pid of one of each version's. */
  processes(): Record<string, number>
  /** The pid of the spare process forked ahead, if there is one. */
  spare(): number | undefined
  close(): Promise<void>
}

/** One sandbox process: one plugin thread of one version, run on the process's main thread. */
interface Sandbox {
  /** `name@version`; empty for a spare not adopted yet. */
  key: string
  child: ChildProcess
  /** Its worker listens (it posted `booted`): requests before this wait in `backlog`. */
  booted: boolean
  /** Taken while booting: the next spare is forked, with these limits, once this one has booted. */
  replaceWhenBooted?: ResourceLimits
  backlog: WorkerRequest[]
  /** The thread it serves; a spare gets one when a version adopts it. */
  thread?: RemoteThread
  exited: boolean
  /** The host ended it (a timeout, a kill, an idle end): its exit is no failure of its own. */
  terminated: boolean
  /** What an uncaught error in it was, or that it ran out of memory: why it died by itself. */
  crash?: Error & { code?: string }
  /** The last lines it printed: why it died, when it dies by itself. */
  tail: string[]
  /** V8 began its fatal report: its lines are not logged one by one. */
  fatalReport?: boolean
  /**
   * A spare's directory (its only readable place besides the shared ones) and, once adopted by a
   * version, the version's directory it holds a copy of: `init` entries are mapped into it.
   */
  slot?: { dir: string; cwd: string; from?: string[] }
}

/** A plugin thread as the worker host sees it: the main thread of a sandbox process. */
class RemoteThread extends EventEmitter {
  exited = false
  readonly #exit: Promise<void>
  #markExit!: () => void
  constructor(
    readonly sandbox: Sandbox,
    private readonly request: (sandbox: Sandbox, message: WorkerRequest) => void,
    private readonly kill: (sandbox: Sandbox) => void,
  ) {
    super()
    this.#exit = new Promise((done) => {
      this.#markExit = done
    })
  }
  postMessage(message: WorkerRequest): void {
    if (!this.exited) this.request(this.sandbox, message)
  }
  /** Ends the process: the plugin's code really stops, even in an endless loop. */
  terminate(): Promise<void> {
    if (!this.exited) this.kill(this.sandbox)
    return this.#exit
  }
  // The sandbox process stays referenced while it serves a thread; a thread has nothing to unref.
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
 * Sandbox processes (SPEC 6): one forked Node process per plugin thread, its version's code run on
 * the process's main thread (a call is one IPC hop each way; a thread inside the process would
 * add a second hop, measured at ~140 µs per call on these machines), ended when the host ends the
 * thread. Each runs under Node's permission model: it reads only its version's directory, the
 * SDK (and the packages the SDK needs), the runtime's scripts and the work directory; writes only
 * the work directory (plus what the version was granted); starts no thread and no child process
 * unless granted; loads no native addon; sees only the environment variables it was granted; and
 * works in a directory of its own. Never shared between versions, because a process's read
 * allow-list holds its plugin's directory: shared, one plugin could read another's code.
 */
export function createSandboxPool(options: SandboxOptions): SandboxPool {
  const workDir = resolve(options.workDir)
  /** Live processes serving a thread (the spare is apart until adopted). */
  const sandboxes = new Set<Sandbox>()
  const reaches = new Map<string, { reach: SandboxReach; permissions: SandboxPermissions }>()
  let base: { script: string; read: string[] } | undefined
  const slotsDir = resolve(options.slotsDir ?? join(dirname(workDir), 'sandbox-slots'))
  /** The process forked ahead for the next plain version (see `replenish`). */
  let spare: Sandbox | undefined
  let spareWanted = false
  let spareFailed = false
  let nextSpare = 1
  let closed = false

  const send = (sandbox: Sandbox, request: WorkerRequest) => {
    if (sandbox.exited) return
    const message = sandbox.slot?.from ? intoSlot(request, sandbox.slot) : request
    if (!sandbox.booted) {
      sandbox.backlog.push(message)
      return
    }
    try {
      sandbox.child.send(encodeMessage(message))
    } catch {
      // The process is ending: its exit handler fails the thread.
    }
  }

  const kill = (sandbox: Sandbox) => {
    sandbox.terminated = true
    sandbox.child.kill('SIGKILL')
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

  /** Forks a sandbox process; its worker loads the SDK at once, before a version is given. */
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
    const child = fork(base.script, [], {
      execArgv: [
        '--experimental-permission',
        // One flag per path: Node 20.20 mis-parses a comma-separated list of several paths
        // (measured: `--allow-fs-read=/a,/b` grants neither), repeated flags work.
        ...reach.read.map((path) => `--allow-fs-read=${path}`),
        ...reach.write.map((path) => `--allow-fs-write=${path}`),
        ...(permissions.childProcess ? ['--allow-child-process'] : []),
        // A thread's resource limits, as the process's own heap limits.
        ...(resourceLimits.maxOldGenerationSizeMb
          ? [`--max-old-space-size=${resourceLimits.maxOldGenerationSizeMb}`]
          : []),
        PLUGIN_WORKER_CONDITION,
        // The permission model's ExperimentalWarning on every start is noise in the logs.
        '--no-warnings',
      ],
      env,
      cwd,
      // JSON, with V8's serialization for what JSON would alter (`sandbox-codec.ts`).
      serialization: 'json',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    })
    const sandbox: Sandbox = {
      key,
      child,
      booted: false,
      backlog: [],
      exited: false,
      terminated: false,
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
          if (OUT_OF_MEMORY.test(line)) {
            sandbox.crash ??= Object.assign(new Error('out of memory'), {
              code: 'ERR_WORKER_OUT_OF_MEMORY',
            })
          }
          // V8's fatal report (a GC trace, a native stack: tens of lines) is logged as its one
          // `FATAL ERROR:` line, which says what happened; the rest stays in the tail.
          if (V8_FATAL_REPORT.test(line)) sandbox.fatalReport = true
          if (!sandbox.fatalReport || line.startsWith('FATAL ERROR:')) {
            options.logger?.warn(`plugin ${sandbox.key || 'spare'} (sandbox ${child.pid}): ${line}`)
          }
          sandbox.tail.push(line)
          if (sandbox.tail.length > 5) sandbox.tail.shift()
        }
      })
    }
    relay(child.stdout)
    relay(child.stderr)
    child.on('message', (received: SandboxResponse | EncodedMessage) => {
      const message = decodeMessage(received)
      if (message.type === 'booted') {
        sandbox.booted = true
        for (const queued of sandbox.backlog.splice(0)) send(sandbox, queued)
        const limits = sandbox.replaceWhenBooted
        sandbox.replaceWhenBooted = undefined
        if (limits) replenish(limits)
        sandbox.thread?.emit('message', message)
        return
      }
      if (message.type === 'crashed') {
        sandbox.crash = Object.assign(new Error(message.error.message), message.error)
        return
      }
      // Without `prepare`, the spare is forked once a thread answered, not while one starts
      // (2 cores are few).
      if (!spare) replenish(resourceLimits)
      sandbox.thread?.emit('message', message)
    })
    const lost = (reason: string, code: number) => {
      if (sandbox.exited) return
      sandbox.exited = true
      sandboxes.delete(sandbox)
      if (spare === sandbox) {
        spare = undefined
        // A spare that cannot start would be forked again forever: versions fork at need.
        spareFailed = true
      }
      const { thread } = sandbox
      if (!thread) return
      // Ended by the host, or by plugin code's own `process.exit(code)`: an exit, as a thread's.
      // Anything else (an uncaught error, out of memory, a signal) is a crash, and says why.
      if (!sandbox.terminated) {
        if (sandbox.crash) thread.emit('error', sandbox.crash)
        else if (reason) thread.emit('error', new Error(`its sandbox process ${reason}`))
      }
      thread.ended(code)
    }
    child.on('error', (error) => lost(`failed: ${error.message}`, 1))
    // What it printed last (V8's out-of-memory lines) may arrive after its exit: the thread ends
    // once its pipes are closed too, or a moment later (a process it started may hold them).
    const exited = (code: number | null, signal: NodeJS.Signals | null) => {
      if (sandbox.exited) return
      removeSlot(sandbox)
      const said = sandbox.tail.length > 0 ? ` (${sandbox.tail.join(' / ')})` : ''
      lost(signal ? `was killed (${signal})${said}` : '', code ?? 1)
    }
    child.on('close', exited)
    child.on('exit', (code, signal) => {
      if (sandbox.terminated) exited(code, signal)
      else setTimeout(() => exited(code, signal), 200).unref()
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
    // Replaced at once, so a version installed right after this one finds a spare booting (part
    // of its start already paid) rather than none; after this turn, so the adopted spare's `init`
    // goes out first. A spare taken while still booting is replaced once it has booted: two
    // boots at once would share the CPU its version's first task is waiting for.
    if (candidate.booted) setImmediate(() => replenish(resourceLimits))
    else candidate.replaceWhenBooted = resourceLimits
    return candidate
  }

  /** A process for one more thread of `plugin`: the spare when it fits, else a fresh fork. */
  const open = (plugin: InstalledPlugin, resourceLimits: ResourceLimits): Sandbox => {
    const key = keyOf(plugin)
    const { reach, permissions } = resolveReach(plugin)
    const sandbox =
      adopt(plugin, permissions, resourceLimits) ??
      fork_(
        key,
        join(workDir, '.sandbox', key.replace(/[^\w.@-]+/g, '_')),
        reach,
        permissions,
        resourceLimits,
      )
    sandboxes.add(sandbox)
    return sandbox
  }

  return {
    reachOf: (plugin) => resolveReach(plugin).reach,
    startThread(plugin, resourceLimits) {
      const sandbox = open(plugin, resourceLimits)
      const thread = new RemoteThread(sandbox, send, kill)
      sandbox.thread = thread
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
    processes() {
      const pids: Record<string, number> = {}
      for (const { key, child } of sandboxes) pids[key] ??= child.pid ?? 0
      return pids
    },
    async close() {
      closed = true
      const all = [...sandboxes, ...(spare ? [spare] : [])]
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
                kill(sandbox)
              }
            }),
        ),
      )
      for (const sandbox of all) removeSlot(sandbox)
    },
  }
}

/** A line V8 prints when a heap limit is reached, just before the process aborts. */
const OUT_OF_MEMORY = /heap out of memory|Reached heap limit/
/** The first line of V8's report before it aborts the process (out of memory, a fatal error). */
const V8_FATAL_REPORT = /^<--- Last few GCs --->|^FATAL ERROR:/

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
function intoSlot(request: WorkerRequest, slot: NonNullable<Sandbox['slot']>): WorkerRequest {
  if (request.type !== 'init') return request
  const entry = fileURLToPath(request.entry)
  const root = slot.from?.find((dir) => !relative(dir, entry).startsWith('..'))
  if (root === undefined) return request
  return { ...request, entry: pathToFileURL(join(slot.dir, relative(root, entry))).href }
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
