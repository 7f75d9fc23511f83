import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { createKiteClient, type KiteClient } from '@kite/client'
import { type Command, InvalidArgumentError } from 'commander'
import { UsageError } from '../program.js'

/** Commander parser for `--port`: an integer from 0 (a free port) to 65535. */
export function parsePort(value: string): number {
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError('expected a port number between 0 and 65535')
  }
  return port
}

/** Commander parser for URL options (`--server`, `--registry`, `--upstream`): http(s) only. */
export function parseUrl(value: string): string {
  try {
    const url = new URL(value)
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http')
    return value
  } catch {
    throw new InvalidArgumentError(`expected an http(s) URL, got "${value}"`)
  }
}

/** Resolves on the first SIGINT or SIGTERM; the handlers keep the default exit from happening. */
export function waitForStop(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
}

/** The default runtime port (`kite server local`), unless `KITE_PORT` says otherwise. */
export const DEFAULT_PORT = 8080

/** `KITE_PORT`, checked, or the default port. */
export function portFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const value = env.KITE_PORT
  if (value === undefined || value === '') return DEFAULT_PORT
  try {
    return parsePort(value)
  } catch {
    throw new UsageError(`KITE_PORT must be a port number between 0 and 65535, got "${value}"`)
  }
}

/**
 * The runtime a command talks to: `--server`, else `KITE_SERVER`, else
 * `http://127.0.0.1:${KITE_PORT:-8080}` — the address `kite server local` listens on by default.
 */
export function resolveServer(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (flag) return flag
  const fromEnv = env.KITE_SERVER
  if (fromEnv) {
    try {
      return parseUrl(fromEnv)
    } catch {
      throw new UsageError(`KITE_SERVER must be an http(s) URL, got "${fromEnv}"`)
    }
  }
  return `http://127.0.0.1:${portFromEnv(env)}`
}

/** Adds `--server` and `--token` to a command that talks to a runtime. */
export function withServerOption(command: Command): Command {
  return command
    .option(
      '--server <url>',
      'the runtime (default: $KITE_SERVER, else http://127.0.0.1:$KITE_PORT, port 8080 if unset)',
      parseUrl,
    )
    .option(
      '--token <token>',
      'sent as Authorization: Bearer (default: $KITE_TOKEN, else $KITE_ADMIN_TOKEN)',
    )
}

/** A typed client for the runtime a command names, with its token when there is one. */
export function runtimeClient(options: { server?: string; token?: string }): KiteClient {
  const token = options.token || process.env.KITE_TOKEN || process.env.KITE_ADMIN_TOKEN
  return createKiteClient({ server: resolveServer(options.server), ...(token ? { token } : {}) })
}

async function readInputFile(file: string): Promise<File> {
  try {
    return new File([await readFile(file)], basename(file))
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`)
  }
}

/**
 * `--input k=v` pairs; `k=@path` sends the file (a FILE input's upload; read as text for other
 * types).
 */
export async function parseInputs(pairs: readonly string[]): Promise<Record<string, unknown>> {
  const inputs: Record<string, unknown> = {}
  for (const pair of pairs) {
    const at = pair.indexOf('=')
    if (at < 1) throw new UsageError(`--input "${pair}" must be key=value`)
    const key = pair.slice(0, at)
    const value = pair.slice(at + 1)
    inputs[key] = value.startsWith('@') ? await readInputFile(value.slice(1)) : value
  }
  return inputs
}
