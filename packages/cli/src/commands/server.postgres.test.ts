import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase } from '../../../runtime/test/fixtures/postgres.js'
import { REPO_ROOT, runKite, startKite, stopAllKites } from '../../test/kite.js'

const GREETING = join(REPO_ROOT, 'examples', 'plugins', 'greeting')
let dir: string
let database: Awaited<ReturnType<typeof createTestDatabase>>

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kite-cli-postgres-'))
  database = await createTestDatabase()
})
afterAll(async () => {
  await stopAllKites()
  await database?.drop()
  await rm(dir, { recursive: true, force: true })
})

describe('kite server local --store postgres://…', { timeout: 120_000 }, () => {
  it('keeps executions in PostgreSQL: a second server on another data dir sees them', async () => {
    const start = (data: string) =>
      startKite(
        ['server', 'local', '--port', '0', '--data', join(dir, data), '--plugin', GREETING],
        /Press Ctrl-C to stop/,
        { cwd: dir, env: {} },
      )
    const withStore = (data: string) =>
      startKite(
        [
          'server',
          'local',
          '--port',
          '0',
          '--data',
          join(dir, data),
          '--plugin',
          GREETING,
          '--store',
          database.url,
        ],
        /Press Ctrl-C to stop/,
        { cwd: dir },
      )
    const first = withStore('one')
    await first.ready
    expect(first.output().out).toContain(`store:   ${database.url}`)
    const url = /running at (http:\/\/[\d.:]+)/.exec(first.output().out)?.[1]
    const saved = await fetch(`${url}/api/v1/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-yaml' },
      body: 'id: hello\nnamespace: demo\ntasks:\n  - id: greet\n    type: acme.greeting.Hello\n    name: PG\n',
    })
    expect(saved.status).toBeLessThan(300)
    const run = await fetch(`${url}/api/v1/executions/demo/hello?wait=true`, { method: 'POST' })
    const execution = (await run.json()) as { id: string; state: { current: string } }
    expect(execution.state.current).toBe('SUCCESS')
    expect(await first.stop()).toBe(0)

    const second = withStore('two')
    await second.ready
    const url2 = /running at (http:\/\/[\d.:]+)/.exec(second.output().out)?.[1]
    const again = await fetch(`${url2}/api/v1/executions/${execution.id}`)
    expect(((await again.json()) as { state: { current: string } }).state.current).toBe('SUCCESS')
    expect(await second.stop()).toBe(0)

    // Without --store, the data dir's SQLite knows nothing of it.
    const local = start('three')
    await local.ready
    expect(local.output().out).toContain('store:   SQLite in the data dir')
    const url3 = /running at (http:\/\/[\d.:]+)/.exec(local.output().out)?.[1]
    expect((await fetch(`${url3}/api/v1/executions/${execution.id}`)).status).toBe(404)
    expect(await local.stop()).toBe(0)
  })

  it('refuses a store that is not postgres:// or not there, clearly, without printing the password', async () => {
    const wrong = await runKite(['server', 'local', '--port', '0', '--store', 'mysql://db/kite'], {
      cwd: dir,
    })
    expect(wrong.code).not.toBe(0)
    expect(wrong.err).toContain('expected a postgres:// URL, got "mysql://db/kite"')
    const gone = await runKite(
      [
        'server',
        'local',
        '--port',
        '0',
        '--data',
        join(dir, 'gone'),
        '--store',
        'postgres://kite:hunter2@127.0.0.1:1/kite',
      ],
      { cwd: dir },
    )
    expect(gone.code).not.toBe(0)
    expect(gone.err).toContain('cannot connect to the store postgres://kite:***@127.0.0.1:1/kite')
    expect(gone.err).not.toContain('hunter2')
  })
})
