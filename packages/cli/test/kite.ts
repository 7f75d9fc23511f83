import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { useTempDir } from '../../sdk/test/scratch.js'

// The one driver every CLI test uses: it runs the built `kite` binary, as a user would, and
// captures what it prints and how it exits.

export const CLI_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
export const REPO_ROOT = join(CLI_ROOT, '..', '..')
const BIN = join(CLI_ROOT, 'bin', 'kite.js')

export interface KiteOptions {
  /** Added to the environment; the caller's own KITE_* variables are never passed on. */
  env?: Record<string, string>
  cwd?: string
  /** Written to the process's stdin, which is then closed (otherwise stdin is ignored). */
  input?: string
}

export interface KiteResult {
  code: number
  out: string
  err: string
}

/** A `kite` process. */
interface KiteProcess {
  child: ChildProcess
  exited: Promise<number>
  output(): { out: string; err: string }
  /** Sends a signal (SIGTERM by default) and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>
}

/** A `kite` process that keeps running (a server): wait for a line, then stop it. */
export interface RunningKite extends KiteProcess {
  /** Resolves once stdout matches `until`; rejects when the process exits first. */
  ready: Promise<RegExpMatchArray>
}

const running = new Set<KiteProcess>()

function start(args: readonly string[], options: KiteOptions): KiteProcess {
  if (!existsSync(join(CLI_ROOT, 'dist', 'bin.js'))) {
    throw new Error('build @kite/cli first (npm run build -w @kite/cli)')
  }
  const env: Record<string, string | undefined> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('KITE_')) env[key] = value
  }
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...env, ...options.env },
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  })
  if (options.input !== undefined) child.stdin?.end(options.input)
  let out = ''
  let err = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk
  })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk
  })
  const exited = new Promise<number>((resolve) => {
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : -1)))
  })
  const handle: KiteProcess = {
    child,
    exited,
    output: () => ({ out, err }),
    async stop(signal = 'SIGTERM') {
      running.delete(handle)
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        process.kill(child.pid, signal)
      }
      return exited
    },
  }
  running.add(handle)
  void exited.then(() => running.delete(handle))
  return handle
}

/** Runs `kite ...args` to its end. */
export async function runKite(
  args: readonly string[],
  options: KiteOptions = {},
): Promise<KiteResult> {
  const handle = start(args, options)
  const code = await handle.exited
  return { code, ...handle.output() }
}

/** Starts `kite ...args` and resolves `ready` once its stdout matches `until`. */
export function startKite(
  args: readonly string[],
  until: RegExp,
  options: KiteOptions = {},
): RunningKite {
  const handle = start(args, options)
  const ready = new Promise<RegExpMatchArray>((resolve, reject) => {
    const check = () => {
      const match = handle.output().out.match(until)
      if (match) resolve(match)
    }
    handle.child.stdout?.on('data', check)
    void handle.exited.then((code) => {
      check()
      reject(new Error(`kite ${args.join(' ')} exited with ${code}: ${handle.output().err}`))
    })
  })
  // A caller that only waits for the exit does not care that it never became ready.
  ready.catch(() => {})
  return { ...handle, ready }
}

/** A `kite server local` that is ready, and the URL it listens at. */
export interface LocalServer extends RunningKite {
  url: string
}

/**
 * Starts `kite server local --port 0 --data DATA` with more `args` (plugins, flows, store...) and
 * answers once it is ready; rejects when it exits first.
 */
export async function startLocalServer(
  data: string,
  args: readonly string[] = [],
  options: KiteOptions = {},
): Promise<LocalServer> {
  const server = startKite(
    ['server', 'local', '--port', '0', '--data', data, ...args],
    /running at (http:\/\/[\d.:]+)[\s\S]*Press Ctrl-C to stop/,
    options,
  )
  const [, url = ''] = await server.ready
  return { ...server, url }
}

/** Stops every `kite` process the tests started and that still runs (for afterAll). */
export async function stopAllKites(): Promise<void> {
  await Promise.all([...running].map((handle) => handle.stop()))
}

/**
 * A scratch directory for one test file, made before its tests and removed after them:
 * `file(name, text)` writes a file there (a flow YAML) and returns its path.
 */
export function scratchDir(prefix: string): {
  readonly path: string
  file(name: string, text: string): Promise<string>
} {
  const dir = useTempDir(prefix)
  return {
    get path() {
      return dir()
    },
    async file(name, text) {
      const file = join(dir(), name)
      await writeFile(file, text)
      return file
    },
  }
}

/** `runKite` with the arguments spread: `kite('flow', 'validate', file)`. */
export const kite = (...argv: string[]): Promise<KiteResult> => runKite(argv)
