import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { stripVTControlCharacters } from 'node:util'

/** The package's root and its built command (tests run the real bin, as npm create does). */
export const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url))
export const BIN = fileURLToPath(new URL('../bin/create-kite-plugin.js', import.meta.url))
/** The monorepo root, whose node_modules provide @kite/sdk, vitest and typescript. */
export const MONOREPO_DIR = fileURLToPath(new URL('../../..', import.meta.url))

/** Fails with a clear message when `dist/` is missing (`npm test` builds before testing). */
export function requireBuild(): void {
  if (!existsSync(fileURLToPath(new URL('../dist/cli.js', import.meta.url)))) {
    throw new Error(
      'create-kite-plugin is not built: run `npx turbo run build --filter=create-kite-plugin`',
    )
  }
}

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
  milliseconds: number
}

export interface RunOptions {
  cwd: string
  env?: NodeJS.ProcessEnv
  /** Milliseconds before the process is killed (default 120 s). */
  timeout?: number
  /** Written to stdin, which is then closed. */
  input?: string
}

/** Runs a command to its end, collecting its output; a timeout kills it and fails. */
export function run(command: string, args: string[], options: RunOptions): Promise<RunResult> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${command} ${args.join(' ')} timed out\n${stdout}\n${stderr}`))
    }, options.timeout ?? 120_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, milliseconds: Math.round(performance.now() - started) })
    })
    child.stdin.end(options.input ?? '')
  })
}

/** An environment without the npm settings a test runner's own npm process may have set. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key) && key !== 'INIT_CWD') env[key] = value
  }
  return { ...env, NO_COLOR: '1', ...extra }
}

export interface Terminal {
  /** Waits until the screen shows `text` for the `nth` time (default: once more than before). */
  waitFor(text: string, nth?: number): Promise<void>
  /** Types keys, one at a time, as a person would. */
  type(keys: string): Promise<void>
  screen(): string
  /** Resolves with the exit code when the command ends. */
  exited: Promise<number | null>
  kill(): void
}

/**
 * Runs a command in a real pseudo-terminal, through util-linux `script` (Debian's bsdutils),
 * so prompts that read raw keypresses work exactly as for a person.
 */
export function runInTerminal(
  command: string,
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Terminal {
  // A pty made by `script` without a terminal around it is 0 columns wide: give it a size.
  const child = spawn('script', ['-qfec', `stty cols 100 rows 40 && ${command}`, '/dev/null'], {
    cwd: options.cwd,
    env: { ...(options.env ?? cleanEnv()), TERM: 'xterm' },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let raw = ''
  child.stdout.on('data', (chunk: Buffer) => {
    raw += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    raw += chunk.toString()
  })
  const screen = () => stripVTControlCharacters(raw)
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  return {
    screen,
    exited,
    async waitFor(text, nth = 1) {
      const deadline = Date.now() + 15_000
      while (screen().split(text).length - 1 < nth) {
        if (Date.now() > deadline) throw new Error(`"${text}" never appeared:\n${screen()}`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    },
    async type(keys) {
      for (const key of keys) {
        child.stdin.write(key)
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    },
    kill() {
      child.kill('SIGKILL')
    },
  }
}
