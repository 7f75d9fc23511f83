import { InvalidArgumentError } from 'commander'
import { CliError } from '../program.js'

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

/** Where a command reaches a running runtime, and the admin token to send, if any. */
export interface RuntimeTarget {
  server: string
  token?: string
}

/**
 * Calls the runtime's API (`/api/v1` + path) and returns the decoded JSON answer; an unreachable
 * server or an error answer becomes a CliError naming the call and the runtime's message.
 */
export async function callRuntime(
  target: RuntimeTarget,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const url = `${target.server.replace(/\/+$/, '')}/api/v1${path}`
  const headers: Record<string, string> = {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (target.token) headers.authorization = `Bearer ${target.token}`
  let response: Response
  try {
    response = await fetch(url, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  } catch (error) {
    throw new CliError(
      `cannot reach the runtime at ${target.server} (${error instanceof Error ? error.message : String(error)}); start one with \`kite server local\` or pass --server`,
    )
  }
  const text = await response.text()
  let answer: unknown
  try {
    answer = text === '' ? undefined : JSON.parse(text)
  } catch {
    answer = undefined
  }
  if (!response.ok) {
    const found = answer as { message?: unknown } | undefined
    throw new CliError(
      `${method} ${path}: ${typeof found?.message === 'string' ? found.message : `${response.status} ${response.statusText}`}`,
    )
  }
  return answer
}
