import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { KiteError, type Logger } from '@kite/sdk'

/** The prefix of a stdout line that sets outputs: `::kite::{"outputs":{...}}`. */
export const OUTPUT_PREFIX = '::kite::'

const STDERR_TAIL = 10
const KILL_GRACE_MS = 2000

export interface ChildOptions {
  /** What the logs and errors call the process, e.g. "node script". */
  label: string
  command: string
  args: string[]
  cwd: string
  env: Record<string, string>
  signal: AbortSignal
  logger: Logger
  /** Explains a command that cannot be started because it does not exist. */
  notFound?: string
}

export interface ChildResult {
  exitCode: number
  outputs: Record<string, unknown>
}

/**
 * Runs a process in its own process group, streaming stdout lines to `info` and stderr lines to
 * `warn`, collecting `::kite::` output lines. A non-zero exit fails with the exit code and the
 * last lines of stderr. When `signal` aborts, the whole group gets SIGTERM, then SIGKILL.
 */
export function runChild(options: ChildOptions): Promise<ChildResult> {
  const { label, logger, signal } = options
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(stopped(label, signal))
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // A group of its own, so a kill reaches the commands a shell started too.
      detached: true,
    })
    const outputs: Record<string, unknown> = {}
    const stderrTail: string[] = []
    let failedToStart: Error | undefined
    let badOutputLine: KiteError | undefined
    let killTimer: NodeJS.Timeout | undefined

    const killGroup = (killSignal: NodeJS.Signals) => {
      if (child.pid === undefined) return
      try {
        process.kill(-child.pid, killSignal)
      } catch {
        // already gone
      }
    }
    const onAbort = () => {
      logger.warn(`stopping ${label}: ${reasonOf(signal)}`)
      killGroup('SIGTERM')
      killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS)
      killTimer.unref()
    }
    signal.addEventListener('abort', onAbort, { once: true })

    createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY }).on(
      'line',
      (line) => {
        if (line.startsWith(OUTPUT_PREFIX)) {
          badOutputLine ??= readOutputLine(line, outputs, logger)
        } else if (line !== '') logger.info(line)
      },
    )
    createInterface({ input: child.stderr, crlfDelay: Number.POSITIVE_INFINITY }).on(
      'line',
      (line) => {
        if (line === '') return
        logger.warn(line)
        stderrTail.push(line)
        if (stderrTail.length > STDERR_TAIL) stderrTail.shift()
      },
    )

    child.on('error', (error) => {
      failedToStart = error
    })
    child.on('close', (code, killedBy) => {
      signal.removeEventListener('abort', onAbort)
      clearTimeout(killTimer)
      if (failedToStart) return reject(startError(options, failedToStart))
      if (signal.aborted) return reject(stopped(label, signal))
      if (code === 0)
        return badOutputLine ? reject(badOutputLine) : resolve({ exitCode: 0, outputs })
      const how = code === null ? `was killed by ${killedBy}` : `exited with code ${code}`
      const tail = stderrTail.length ? `; last lines of stderr:\n${stderrTail.join('\n')}` : ''
      reject(new KiteError(`${label} ${how}${tail}`, { code: 'SCRIPT_FAILED', kind: 'user' }))
    })
  })
}

/** Merges the outputs of one `::kite::` line; returns the error to fail with if it is malformed. */
function readOutputLine(
  line: string,
  outputs: Record<string, unknown>,
  logger: Logger,
): KiteError | undefined {
  let message: unknown
  try {
    message = JSON.parse(line.slice(OUTPUT_PREFIX.length))
  } catch {
    logger.error(`malformed output line: ${line.slice(0, 200)}`)
    return new KiteError(
      `a ${OUTPUT_PREFIX} line is not JSON (expected ${OUTPUT_PREFIX}{"outputs":{...}}): ${line.slice(0, 200)}`,
      { code: 'OUTPUT_LINE_INVALID', kind: 'user' },
    )
  }
  const values = (message as { outputs?: unknown } | null)?.outputs
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    return new KiteError(
      `a ${OUTPUT_PREFIX} line has no "outputs" object (expected ${OUTPUT_PREFIX}{"outputs":{...}}): ${line.slice(0, 200)}`,
      { code: 'OUTPUT_LINE_INVALID', kind: 'user' },
    )
  }
  Object.assign(outputs, values)
  logger.debug(`outputs set: ${Object.keys(values).join(', ')}`)
  return undefined
}

function startError(options: ChildOptions, error: Error): KiteError {
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'ENOENT') {
    return new KiteError(
      options.notFound ?? `cannot start the ${options.label}: "${options.command}" was not found`,
      { code: 'COMMAND_NOT_FOUND', kind: 'operational', cause: error },
    )
  }
  return new KiteError(`cannot start the ${options.label}: ${error.message}`, {
    code: 'SCRIPT_FAILED',
    kind: 'operational',
    cause: error,
  })
}

function stopped(label: string, signal: AbortSignal): KiteError {
  return new KiteError(`${label} stopped: ${reasonOf(signal)}`, {
    code: 'ABORTED',
    kind: 'user',
    cause: signal.reason,
  })
}

function reasonOf(signal: AbortSignal): string {
  const reason: unknown = signal.reason
  if (reason instanceof Error) return reason.message
  return typeof reason === 'string' ? reason : 'the task was stopped'
}
