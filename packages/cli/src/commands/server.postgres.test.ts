import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase } from '../../../runtime/test/fixtures/postgres.js'
import { REPO_ROOT, runKite, scratchDir, startLocalServer, stopAllKites } from '../../test/kite.js'

const GREETING = join(REPO_ROOT, 'examples', 'plugins', 'greeting')
const scratch = scratchDir('kite-cli-postgres-')
let database: Awaited<ReturnType<typeof createTestDatabase>>

beforeAll(async () => {
  database = await createTestDatabase()
})
afterAll(async () => {
  await stopAllKites()
  await database?.drop()
})

describe('kite server local --store postgres://…', { timeout: 120_000 }, () => {
  it('keeps executions in PostgreSQL: a second server on another data dir sees them', async () => {
    const start = (data: string, store: string[] = []) =>
      startLocalServer(join(scratch.path, data), ['--plugin', GREETING, ...store], {
        cwd: scratch.path,
      })
    const withStore = (data: string) => start(data, ['--store', database.url])
    const first = await withStore('one')
    expect(first.output().out).toContain(`store:   ${database.url}`)
    const { url } = first
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

    const second = await withStore('two')
    const again = await fetch(`${second.url}/api/v1/executions/${execution.id}`)
    expect(((await again.json()) as { state: { current: string } }).state.current).toBe('SUCCESS')
    expect(await second.stop()).toBe(0)

    // Without --store, the data dir's SQLite knows nothing of it.
    const local = await start('three')
    expect(local.output().out).toContain('store:   SQLite in the data dir')
    expect((await fetch(`${local.url}/api/v1/executions/${execution.id}`)).status).toBe(404)
    expect(await local.stop()).toBe(0)
  })

  it('refuses a store that is not postgres:// or not there, clearly, without printing the password', async () => {
    const wrong = await runKite(['server', 'local', '--port', '0', '--store', 'mysql://db/kite'], {
      cwd: scratch.path,
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
        join(scratch.path, 'gone'),
        '--store',
        'postgres://kite:hunter2@127.0.0.1:1/kite',
      ],
      { cwd: scratch.path },
    )
    expect(gone.code).not.toBe(0)
    expect(gone.err).toContain('cannot connect to the store postgres://kite:***@127.0.0.1:1/kite')
    expect(gone.err).not.toContain('hunter2')
  })
})
