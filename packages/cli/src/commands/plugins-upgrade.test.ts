import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createServer, type KiteServer } from '@kite/runtime'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT as root, runKite, scratchDir } from '../../test/kite.js'

const GREETING = '@acme/kite-plugin-greeting'
const scratch = scratchDir('kite-cli-upgrade-')
let server: KiteServer

beforeAll(async () => {
  server = await createServer({
    dataDir: scratch.path,
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
afterAll(() => server?.close())

/** `kite plugins upgrade GREETING --to VERSION [...more] --server URL`. */
const upgrade = (version: string, ...more: string[]) =>
  runKite(['plugins', 'upgrade', GREETING, '--to', version, ...more, '--server', server.url])

describe('kite plugins upgrade', { timeout: 120_000 }, () => {
  it('shows what would move, then saves it with --apply', async () => {
    const dry = await upgrade('2.0.0')
    expect(dry.code).toBe(0)
    expect(dry.out).toContain('kite.examples/pin-range: migrated\n')
    expect(dry.out).toContain(
      'hello (acme.greeting.Hello 1.0.0): migrated: `name` is renamed `who`',
    )
    expect(dry.out).toContain('+     who: range')
    expect(dry.out).toContain('dry run: nothing saved')
    const applied = await upgrade('2.0.0', '--apply')
    expect(applied.code).toBe(0)
    expect(applied.out).toContain('kite.examples/pin-range: migrated (saved revision 2)')
  })

  it('refuses a version that is not installed, saying which are', async () => {
    const result = await upgrade('9.9.9')
    expect(result.code).not.toBe(0)
    expect(result.err).toMatch(/@9\.9\.9 is not installed \(installed: 1\.0\.0, 2\.0\.0\)/)
  })
})
