import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { defineTask, z } from '@kite/sdk'
import { describe, expect, it } from 'vitest'
import { runKite } from '../../test/kite.js'
import { taskPlugin, useRuntimeServer } from '../../test/runtime-server.js'

const hello = defineTask({
  name: 'Hello',
  title: 'Hello',
  description: 'Says hello.',
  properties: z.object({}),
  outputs: z.object({}),
  run: () => ({}),
})

const kiteServer = useRuntimeServer('kite-cli-plugins-', {
  plugins: [taskPlugin('@acme/kite-plugin-cli', 'acme.cli', [hello], '1.2.0')],
})

const kite = (args: string[], env: Record<string, string> = {}) => runKite(args, { env })
/** `kite plugins ...args` against the test's runtime server. */
const plugins = (...args: string[]) =>
  runKite(['plugins', ...args, '--server', kiteServer.server.url])

describe('kite plugins', { timeout: 120_000 }, () => {
  it('lists installed versions with their types', async () => {
    const result = await plugins('list')
    expect(result.code).toBe(0)
    expect(result.out).toContain('@acme/kite-plugin-cli  acme.cli')
    expect(result.out).toContain('1.2.0  acme.cli.Hello')
  })

  it('explains why an install fails (no registry configured)', async () => {
    const result = await plugins('install', '@acme/kite-plugin-cli@2.0.0')
    expect(result.code).toBe(1)
    expect(result.err).toContain('no registry is configured')
  })

  it('refuses to uninstall without an exact version, and a version that is not installed', async () => {
    const inexact = await plugins('uninstall', '@acme/kite-plugin-cli')
    expect(inexact.err).toContain('needs an exact version')
    const missing = await plugins('uninstall', '@acme/kite-plugin-cli@9.0.0')
    expect(missing.err).toContain('@acme/kite-plugin-cli@9.0.0 is not installed')
  })

  it('resolves a spec among the installed versions even without a registry', async () => {
    const result = await plugins('resolve', '@acme/kite-plugin-cli@^1', '--json')
    expect(result.code).toBe(0)
    const [answer] = JSON.parse(result.out) as {
      installed: string[]
      resolvedInstalled: string
    }[]
    expect(answer).toMatchObject({ installed: ['1.2.0'], resolvedInstalled: '1.2.0' })
  })

  it('says when the runtime cannot be reached', async () => {
    const result = await kite(['plugins', 'list', '--server', 'http://127.0.0.1:9'])
    expect(result.code).toBe(1)
    expect(result.err).toContain('cannot reach the runtime at http://127.0.0.1:9')
    expect(result.err).toContain('KITE_SERVER')
  })

  it('says when the server answers but is not a Kite runtime', async () => {
    const other = createServer((_request, response) => {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found')
    })
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`
    try {
      const result = await kite(['plugins', 'list', '--server', url])
      expect(result.code).toBe(1)
      expect(result.err).toContain('list plugins: 404 Not Found')
      expect(result.err).toContain(`the server at ${url} does not look like a Kite runtime`)
      expect(result.err).toContain('--server')
    } finally {
      await new Promise((resolve) => other.close(resolve))
    }
  })

  it('finds the runtime from KITE_PORT alone, and from KITE_SERVER before it', async () => {
    const byPort = await kite(['plugins', 'list'], { KITE_PORT: String(kiteServer.server.port) })
    expect(byPort.err).toBe('')
    expect(byPort.out).toContain('1.2.0  acme.cli.Hello')
    const byServer = await kite(['plugins', 'list'], {
      KITE_SERVER: kiteServer.server.url,
      KITE_PORT: '9',
    })
    expect(byServer.out).toContain('1.2.0  acme.cli.Hello')
    const flagFirst = await kite(['plugins', 'list', '--server', 'http://127.0.0.1:9'], {
      KITE_SERVER: kiteServer.server.url,
    })
    expect(flagFirst.err).toContain('cannot reach the runtime at http://127.0.0.1:9')
  })

  it('refuses a KITE_PORT or KITE_SERVER that is not one', async () => {
    const port = await kite(['plugins', 'list'], { KITE_PORT: 'eighty' })
    expect(port.code).toBe(2)
    expect(port.err).toBe(
      'kite: KITE_PORT must be a port number between 0 and 65535, got "eighty"\n',
    )
    const url = await kite(['plugins', 'list'], { KITE_SERVER: 'ftp://nope' })
    expect(url.code).toBe(2)
    expect(url.err).toBe('kite: KITE_SERVER must be an http(s) URL, got "ftp://nope"\n')
  })
})
