import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer, type KiteServer } from '@kite/runtime'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runKite } from '../../test/kite.js'

let dir: string
let server: KiteServer | undefined

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kite-cli-users-'))
})
afterAll(async () => {
  await server?.close()
  await rm(dir, { recursive: true, force: true })
})

const PASSWORD = 'the first admin password'

describe('kite users and kite tokens', { timeout: 120_000 }, () => {
  it('adds the first user directly on a data directory', async () => {
    const added = await runKite(
      ['users', 'add', 'ada', '--role', 'admin', '--password-stdin', '--data', dir],
      { input: `${PASSWORD}\n` },
    )
    expect(added.err).toBe('')
    expect(added.out).toBe('user ada (admin) added\n')
    const again = await runKite(['users', 'add', 'ada', '--role', 'admin', '--data', dir])
    expect(again.code).toBe(1)
    expect(again.err).toMatch(/user "ada" exists already/)
    const listed = await runKite(['users', 'list', '--data', dir])
    expect(listed.out).toMatch(/^ada {2}admin {2}since \d{4}-/)
  })

  it('answers bad arguments with a clear message', async () => {
    const role = await runKite(['users', 'add', 'bob', '--role', 'root', '--data', dir])
    expect(role.code).not.toBe(0)
    expect(role.err).toMatch(/Allowed choices are viewer, admin/)
    const name = await runKite(['users', 'add', 'Bad Name', '--role', 'viewer', '--data', dir])
    expect(name.code).toBe(1)
    expect(name.err).toMatch(/user name "Bad Name" is not valid/)
    const short = await runKite(
      ['users', 'add', 'bob', '--role', 'viewer', '--password-stdin', '--data', dir],
      { input: 'short' },
    )
    expect(short.err).toMatch(/8 to 1024 characters/)
    const empty = await runKite(
      ['users', 'add', 'bob', '--role', 'viewer', '--password-stdin', '--data', dir],
      { input: '' },
    )
    expect(empty.err).toMatch(/stdin was empty/)
    expect(empty.code).toBe(2)
  })

  it('keeps kite server local off other addresses until a user exists', async () => {
    const empty = join(dir, 'empty')
    const refused = await runKite([
      'server',
      'local',
      '--host',
      '0.0.0.0',
      '--port',
      '0',
      '--data',
      empty,
    ])
    expect(refused.code).toBe(1)
    expect(refused.err).toMatch(/refusing to listen on 0\.0\.0\.0 without a user/)
    expect(refused.err).toMatch(/kite users add NAME --role admin --data DIR/)
  })

  it('manages users and tokens through a running server with --token', async () => {
    server = await createServer({ dataDir: dir, port: 0 })
    const anonymous = await runKite(['users', 'list', '--server', server.url])
    expect(anonymous.code).toBe(1)
    expect(anonymous.err).toMatch(/sign in first/)
    // Where a first token comes from: `kite tokens create` itself needs one.
    expect(anonymous.err).toContain("a token comes from the UI's Users page")
    // Log in as ada to get a first token over the API, as the UI would.
    const login = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'ada', password: PASSWORD }),
    })
    const cookie = /kite_session=[^;]*/.exec(login.headers.get('set-cookie') ?? '')?.[0] ?? ''
    const created = await fetch(`${server.url}/api/v1/tokens`, {
      method: 'POST',
      headers: { cookie, 'x-kite-csrf': '1', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'laptop' }),
    })
    const admin = ((await created.json()) as { token: string }).token
    const as = ['--server', server.url, '--token', admin]

    const token = await runKite(['tokens', 'create', 'ci', '--role', 'viewer', ...as])
    expect(token.code).toBe(0)
    const [, id, secret] =
      /token (tok_\w+) \(ci, viewer\) created:\n(kite_\S+)\n/.exec(token.out) ?? []
    expect(secret).toBeDefined()
    const added = await runKite(['users', 'add', 'bob', '--role', 'viewer', ...as])
    expect(added.out).toMatch(/^user bob \(viewer\) added\npassword: \S{12,}\n/)

    // KITE_TOKEN is the default token; a viewer may list flows but not users.
    const env = { KITE_TOKEN: secret ?? '' }
    const viewer = await runKite(['users', 'list', '--server', server.url], { env })
    expect(viewer.err).toMatch(/may only read/)
    const tokens = await runKite(['tokens', 'list', ...as])
    expect(tokens.out).toMatch(new RegExp(`${id} {2}ci {2}viewer {2}by ada {2}last used`))
    expect(tokens.out).not.toContain(secret)

    expect((await runKite(['tokens', 'revoke', id ?? '', ...as])).out).toBe(`token ${id} revoked\n`)
    const revoked = await runKite(['executions', 'list', '--server', server.url], { env })
    expect(revoked.code).toBe(1)
    expect(revoked.err).toMatch(/token is not valid/)
    expect((await runKite(['users', 'remove', 'bob', ...as])).out).toBe('user bob removed\n')
    const last = await runKite(['users', 'remove', 'ada', ...as])
    expect(last.err).toMatch(/last admin/)
  })
})
