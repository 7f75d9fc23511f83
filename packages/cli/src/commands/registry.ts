import { randomBytes } from 'node:crypto'
import type { Registry } from '@kite/registry'
import type { Logger } from '@kite/sdk'
import type { Command } from 'commander'
import { CliError } from '../program.js'
import { parsePort, parseUrl, waitForStop } from './options.js'

interface StartOptions {
  port: number
  host: string
  storage: string
  upstream?: string
}

interface AddUserOptions {
  password?: string
  email?: string
  registry: string
}

const DEFAULT_REGISTRY = 'http://127.0.0.1:4873'

/** `kite registry start` and `kite registry adduser`. */
export function registerRegistryCommand(program: Command): void {
  const registry = program
    .command('registry')
    .description('run a Kite registry (npm protocol, plugin catalog, events, browse UI)')

  registry
    .command('start')
    .description('start the registry and keep it running until Ctrl-C')
    .option('--port <port>', 'port to listen on (0 picks a free one)', parsePort, 4873)
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--storage <dir>', 'where packages, accounts and the catalog live', '.kite/registry')
    .option(
      '--upstream <url>',
      'proxy packages this registry lacks from this npm registry',
      parseUrl,
    )
    .action(async (options: StartOptions) => {
      const running = await startRegistry(options)
      await waitForStop()
      process.stdout.write('stopping the registry…\n')
      await running.close()
    })

  registry
    .command('adduser')
    .description('create an account (or log in to one) and print its npmrc token line')
    .argument('<name>', 'account name')
    .option('--password <password>', 'password (default: a random one, printed)')
    .option('--email <email>', 'e-mail address (default: <name>@localhost)')
    .option('--registry <url>', 'the registry', parseUrl, DEFAULT_REGISTRY)
    .action(async (name: string, options: AddUserOptions) => {
      const generated = options.password === undefined
      const password = options.password ?? randomBytes(12).toString('base64url')
      const token = await addUser(
        options.registry,
        name,
        password,
        options.email ?? `${name}@localhost`,
      )
      process.stdout.write(`account "${name}" is ready on ${options.registry}\n`)
      if (generated) process.stdout.write(`password: ${password}\n`)
      process.stdout.write(`add this line to your .npmrc:\n${npmrcLine(options.registry, token)}\n`)
    })
}

async function startRegistry(options: StartOptions): Promise<Registry> {
  // Loaded on use: the registry pulls in verdaccio, which other commands should not pay for.
  const { createRegistry, RegistryError } = await import('@kite/registry')
  let running: Registry
  try {
    running = await createRegistry({
      port: options.port,
      host: options.host,
      storage: options.storage,
      upstream: options.upstream,
      logger: stderrLogger,
    })
  } catch (error) {
    if (error instanceof RegistryError) throw new CliError(error.message)
    throw error
  }
  process.stdout.write(
    [
      `Kite registry running at ${running.url}`,
      `  npm:     npm publish --registry ${running.url}/`,
      `  browse:  ${running.url}/-/kite/`,
      `  API:     ${running.url}/-/kite/api/v1`,
      `  events:  ${running.url}/-/kite/api/v1/events`,
      `  storage: ${running.storage}`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  )
  return running
}

async function addUser(
  registry: string,
  name: string,
  password: string,
  email: string,
): Promise<string> {
  const base = registry.replace(/\/+$/, '')
  let response: Response
  try {
    response = await fetch(`${base}/-/user/org.couchdb.user:${encodeURIComponent(name)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        _id: `org.couchdb.user:${name}`,
        name,
        password,
        email,
        type: 'user',
      }),
    })
  } catch (error) {
    throw new CliError(`cannot reach the registry at ${base}: ${(error as Error).message}`)
  }
  const body = (await response.json().catch(() => ({}))) as { token?: string; error?: string }
  if (!response.ok || !body.token) {
    const why = body.error ?? `HTTP ${response.status}`
    const hint =
      response.status === 409 || response.status === 401
        ? ' (wrong password for an existing account?)'
        : ''
    throw new CliError(`cannot create the account "${name}" on ${base}: ${why}${hint}`)
  }
  return body.token
}

/** `//host:port/path/:_authToken=TOKEN`, the line npm reads credentials from. */
export function npmrcLine(registry: string, token: string): string {
  const url = new URL(registry)
  const path = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`
  return `//${url.host}${path}:_authToken=${token}`
}

const stderrLogger: Logger = {
  trace() {},
  debug() {},
  info() {},
  warn: (message) => process.stderr.write(`warn: ${message}\n`),
  error: (message) => process.stderr.write(`error: ${message}\n`),
}
