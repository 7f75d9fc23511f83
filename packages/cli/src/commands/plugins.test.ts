import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer, definePluginVersion, type KiteServer } from '@kite/runtime'
import { definePlugin, defineTask, z } from '@kite/sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runKite } from '../../test/kite.js'

let dir: string
let server: KiteServer

const hello = defineTask({
  name: 'Hello',
  title: 'Hello',
  description: 'Says hello.',
  properties: z.object({}),
  outputs: z.object({}),
  run: () => ({}),
})
const plugin = definePlugin({
  group: 'acme.cli',
  title: 'CLI test',
  description: 'A plugin for the CLI test.',
  tasks: [hello],
  triggers: [],
  conditions: [],
})

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kite-cli-plugins-'))
  server = await createServer({
    dataDir: dir,
    port: 0,
    plugins: [definePluginVersion({ name: '@acme/kite-plugin-cli', version: '1.2.0', plugin })],
  })
})
afterAll(async () => {
  await server?.close()
  await rm(dir, { recursive: true, force: true })
})

async function kite(args: string[], env: Record<string, string> = {}) {
  const { code, out, err } = await runKite(args, { env })
  return { code, stdout: out, stderr: err }
}

describe('kite plugins', { timeout: 120_000 }, () => {
  it('lists installed versions with their types', async () => {
    const result = await kite(['plugins', 'list', '--server', server.url])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('@acme/kite-plugin-cli  acme.cli')
    expect(result.stdout).toContain('1.2.0  acme.cli.Hello')
  })

  it('explains why an install fails (no registry configured)', async () => {
    const result = await kite([
      'plugins',
      'install',
      '@acme/kite-plugin-cli@2.0.0',
      '--server',
      server.url,
    ])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('no registry is configured')
  })

  it('refuses to uninstall without an exact version, and a version that is not installed', async () => {
    const inexact = await kite([
      'plugins',
      'uninstall',
      '@acme/kite-plugin-cli',
      '--server',
      server.url,
    ])
    expect(inexact.stderr).toContain('needs an exact version')
    const missing = await kite([
      'plugins',
      'uninstall',
      '@acme/kite-plugin-cli@9.0.0',
      '--server',
      server.url,
    ])
    expect(missing.stderr).toContain('@acme/kite-plugin-cli@9.0.0 is not installed')
  })

  it('resolves a spec among the installed versions even without a registry', async () => {
    const result = await kite([
      'plugins',
      'resolve',
      '@acme/kite-plugin-cli@^1',
      '--server',
      server.url,
      '--json',
    ])
    expect(result.code).toBe(0)
    const [answer] = JSON.parse(result.stdout) as {
      installed: string[]
      resolvedInstalled: string
    }[]
    expect(answer).toMatchObject({ installed: ['1.2.0'], resolvedInstalled: '1.2.0' })
  })

  it('says when the runtime cannot be reached', async () => {
    const result = await kite(['plugins', 'list', '--server', 'http://127.0.0.1:9'])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('cannot reach the runtime at http://127.0.0.1:9')
    expect(result.stderr).toContain('KITE_SERVER')
  })

  it('finds the runtime from KITE_PORT alone, and from KITE_SERVER before it', async () => {
    const byPort = await kite(['plugins', 'list'], { KITE_PORT: String(server.port) })
    expect(byPort.stderr).toBe('')
    expect(byPort.stdout).toContain('1.2.0  acme.cli.Hello')
    const byServer = await kite(['plugins', 'list'], {
      KITE_SERVER: server.url,
      KITE_PORT: '9',
    })
    expect(byServer.stdout).toContain('1.2.0  acme.cli.Hello')
    const flagFirst = await kite(['plugins', 'list', '--server', 'http://127.0.0.1:9'], {
      KITE_SERVER: server.url,
    })
    expect(flagFirst.stderr).toContain('cannot reach the runtime at http://127.0.0.1:9')
  })

  it('refuses a KITE_PORT or KITE_SERVER that is not one', async () => {
    const port = await kite(['plugins', 'list'], { KITE_PORT: 'eighty' })
    expect(port.code).toBe(1)
    expect(port.stderr).toBe(
      'kite: KITE_PORT must be a port number between 0 and 65535, got "eighty"\n',
    )
    const url = await kite(['plugins', 'list'], { KITE_SERVER: 'ftp://nope' })
    expect(url.code).toBe(1)
    expect(url.stderr).toBe('kite: KITE_SERVER must be an http(s) URL, got "ftp://nope"\n')
  })
})
