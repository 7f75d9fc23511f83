import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createServer, type KiteServer } from '@kite/runtime'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runKite } from '../../test/kite.js'

const root = resolve(import.meta.dirname, '../../../..')
const GREETING = '@acme/kite-plugin-greeting'
let dir: string
let server: KiteServer

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kite-cli-upgrade-'))
  server = await createServer({
    dataDir: dir,
    port: 0,
    pluginDirs: [
      join(root, 'examples/plugins/greeting'),
      join(root, 'examples/plugins/greeting/v2'),
    ],
    scheduler: false,
  })
  await server.runtime.engine.saveFlow(
    await readFile(join(root, 'examples/flows/pin-range.yml'), 'utf8'),
  )
})
afterAll(async () => {
  await server?.close()
  await rm(dir, { recursive: true, force: true })
})

describe('kite plugins upgrade', { timeout: 120_000 }, () => {
  it('shows what would move, then saves it with --apply', async () => {
    const dry = await runKite([
      'plugins',
      'upgrade',
      GREETING,
      '--to',
      '2.0.0',
      '--server',
      server.url,
    ])
    expect(dry.code).toBe(0)
    expect(dry.out).toContain('kite.examples/pin-range: migrated\n')
    expect(dry.out).toContain(
      'hello (acme.greeting.Hello 1.0.0): migrated: `name` is renamed `who`',
    )
    expect(dry.out).toContain('+     who: range')
    expect(dry.out).toContain('dry run: nothing saved')
    const applied = await runKite([
      'plugins',
      'upgrade',
      GREETING,
      '--to',
      '2.0.0',
      '--apply',
      '--server',
      server.url,
    ])
    expect(applied.code).toBe(0)
    expect(applied.out).toContain('kite.examples/pin-range: migrated (saved revision 2)')
  })

  it('refuses a version that is not installed, saying which are', async () => {
    const result = await runKite([
      'plugins',
      'upgrade',
      GREETING,
      '--to',
      '9.9.9',
      '--server',
      server.url,
    ])
    expect(result.code).not.toBe(0)
    expect(result.err).toMatch(/@9\.9\.9 is not installed \(installed: 1\.0\.0, 2\.0\.0\)/)
  })
})
