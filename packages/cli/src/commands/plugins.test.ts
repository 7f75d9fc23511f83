import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer, definePluginVersion, type KiteServer } from '@kite/runtime'
import { definePlugin, defineTask, z } from '@kite/sdk'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createProgram, runProgram } from '../program.js'
import { registerPluginsCommand } from './plugins.js'

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
afterEach(() => {
  vi.restoreAllMocks()
})

async function kite(args: string[]) {
  let stdout = ''
  let stderr = ''
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk)
    return true
  })
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk)
    return true
  })
  const code = await runProgram(createProgram([registerPluginsCommand]), args)
  vi.restoreAllMocks()
  return { code, stdout, stderr }
}

describe('kite plugins', () => {
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
    expect(result.stderr).toContain('cannot reach the runtime')
  })
})
