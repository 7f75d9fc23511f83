// Through @kite/client against a running runtime; with --data or --store, on the store directly
// (the first user: nobody can log in before one exists).
import { join } from 'node:path'
import type { UserRole } from '@kite/client'
import { type Command, Option } from 'commander'
import { CliError, UsageError } from '../program.js'
import { runtimeClient, withServerOption } from './options.js'

interface Target {
  server?: string
  token?: string
  data?: string
  store?: string
}

interface UserView {
  name: string
  role: UserRole
  createdAt: string
}

/** What `kite users` does, the same through the API or on a store. */
interface Users {
  list(): Promise<UserView[]>
  add(user: { name: string; role: UserRole; password: string }): Promise<UserView>
  remove(name: string): Promise<void>
  close(): Promise<void>
}

const roleOption = (fallback?: UserRole) => {
  const option = new Option('--role <role>', 'viewer (reads only) or admin (everything)').choices([
    'viewer',
    'admin',
  ])
  return fallback ? option.default(fallback) : option
}

/** `kite users add|list|remove` and `kite tokens create|list|revoke`. */
export function registerUsersCommand(program: Command): void {
  const users = program
    .command('users')
    .description('who may log in to a runtime (the UI) and with which role')
  const target = (command: Command) =>
    withServerOption(command)
      .option('--data <dir>', 'act on this data directory directly, without a server')
      .option('--store <url>', 'act on this PostgreSQL store directly, without a server')

  target(
    users
      .command('add')
      .description(
        'add a user; without --password-stdin a random password is made and printed once',
      )
      .argument('<name>', 'the user name (lower-case letters, digits, ".", "_", "-")')
      .addOption(roleOption().makeOptionMandatory())
      .option('--password-stdin', 'read the password from stdin', false),
  ).action(async (name: string, options: Target & { role: UserRole; passwordStdin: boolean }) => {
    const password = options.passwordStdin ? await readPassword() : undefined
    const chosen = password ?? (await import('@kite/runtime')).randomPassword()
    await withUsers(options, async (store) => {
      const user = await store.add({ name, role: options.role, password: chosen })
      process.stdout.write(`user ${user.name} (${user.role}) added\n`)
      if (!password) process.stdout.write(`password: ${chosen}\n(shown once: keep it now)\n`)
    })
  })

  target(users.command('list').description('the users, with their role'))
    .option('--json', 'print the users as JSON', false)
    .action(async (options: Target & { json: boolean }) => {
      await withUsers(options, async (store) => {
        const list = await store.list()
        if (options.json) return void process.stdout.write(`${JSON.stringify(list, null, 2)}\n`)
        if (list.length === 0)
          return void process.stdout.write('no users: the runtime is open on loopback only\n')
        for (const user of list)
          process.stdout.write(`${user.name}  ${user.role}  since ${user.createdAt}\n`)
      })
    })

  target(
    users
      .command('remove')
      .description('remove a user: their sessions end and their tokens are revoked')
      .argument('<name>', 'the user name'),
  ).action(async (name: string, options: Target) => {
    await withUsers(options, async (store) => {
      await store.remove(name)
      process.stdout.write(`user ${name} removed\n`)
    })
  })

  const tokens = program
    .command('tokens')
    .description('API tokens for the CLI, @kite/client and scripts (Authorization: Bearer)')

  withServerOption(
    tokens
      .command('create')
      .description('create a token and print it once')
      .argument('<name>', 'what the token is for (lower-case letters, digits, ".", "_", "-")')
      .addOption(roleOption()),
  ).action(async (name: string, options: Target & { role?: UserRole }) => {
    const created = await runtimeClient(options).tokens.create({
      name,
      ...(options.role ? { role: options.role } : {}),
    })
    process.stdout.write(
      `token ${created.id} (${created.name}, ${created.role}) created:\n${created.token}\n`,
    )
    process.stdout.write('(shown once: send it as Authorization: Bearer, or set KITE_TOKEN)\n')
  })

  withServerOption(tokens.command('list').description('the tokens (never the tokens themselves)'))
    .option('--json', 'print the tokens as JSON', false)
    .action(async (options: Target & { json: boolean }) => {
      const list = await runtimeClient(options).tokens.list()
      if (options.json) return void process.stdout.write(`${JSON.stringify(list, null, 2)}\n`)
      if (list.length === 0) return void process.stdout.write('no tokens\n')
      for (const token of list) {
        const state = token.revokedAt
          ? `revoked ${token.revokedAt}`
          : `last used ${token.lastUsedAt ?? 'never'}`
        process.stdout.write(
          `${token.id}  ${token.name}  ${token.role}  by ${token.owner}  ${state}\n`,
        )
      }
    })

  withServerOption(
    tokens
      .command('revoke')
      .description('revoke a token: it stops working at once')
      .argument('<id>', 'the token id (tok_...), from `kite tokens list`'),
  ).action(async (id: string, options: Target) => {
    await runtimeClient(options).tokens.revoke(id)
    process.stdout.write(`token ${id} revoked\n`)
  })
}

/** Runs `act` on the users of the store (`--data`, `--store`) or of the runtime. */
async function withUsers(options: Target, act: (users: Users) => Promise<void>): Promise<void> {
  if (options.data && options.store) {
    throw new UsageError('give --data or --store, not both')
  }
  const users = options.data || options.store ? await storeUsers(options) : apiUsers(options)
  try {
    await act(users)
  } catch (error) {
    // The store's errors carry a clear message; the CLI prints it without a stack.
    const runtime = await import('@kite/runtime')
    if (runtime.isRuntimeError(error)) throw new CliError(error.message)
    throw error
  } finally {
    await users.close()
  }
}

function apiUsers(options: Target): Users {
  const client = runtimeClient(options)
  return {
    list: () => client.users.list(),
    add: (user) => client.users.add(user),
    remove: (name) => client.users.remove(name),
    close: async () => undefined,
  }
}

async function storeUsers(options: Target): Promise<Users> {
  const runtime = await import('@kite/runtime')
  const store = options.store
    ? await runtime.createPostgresStore({ url: options.store })
    : await runtime.createSqliteStore({ file: join(options.data ?? '.', 'kite.db') })
  const auth = runtime.createAuthService({ store: store.auth })
  return {
    list: () => auth.listUsers(),
    add: (user) => auth.addUser(user),
    remove: (name) => auth.removeUser(name),
    close: () => store.close(),
  }
}

/** The password on stdin, without its final line break. */
async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) {
    throw new CliError(
      '--password-stdin reads a piped password: printf %s "$PASSWORD" | kite users add ...',
    )
  }
  let text = ''
  for await (const chunk of process.stdin) text += String(chunk)
  const password = text.replace(/\r?\n$/, '')
  if (password === '') throw new UsageError('--password-stdin: stdin was empty')
  return password
}
