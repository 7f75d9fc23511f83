import { once } from 'node:events'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runKite, scratchDir, startKite, stopAllKites } from '../../test/kite.js'
import { npmrcLine } from './registry.js'

const scratch = scratchDir('kite-cli-registry-')

afterAll(async () => {
  await stopAllKites()
})
const kite = (args: string[]) => runKite(args, { cwd: scratch.path })

describe('kite registry', { timeout: 120_000 }, () => {
  it('starts a registry, creates accounts on it, and stops on Ctrl-C', async () => {
    const storage = join(scratch.path, 'storage')
    const running = startKite(
      ['registry', 'start', '--port', '0', '--storage', storage],
      /running at (http:\/\/127\.0\.0\.1:\d+)[\s\S]*storage: .*\n/,
      { cwd: scratch.path },
    )
    const [, url] = await running.ready
    expect(running.output().out).toContain(`browse:  ${url}/-/kite/`)
    expect(running.output().out).toContain(`storage: ${storage}`)
    const health = await fetch(`${url}/-/kite/api/v1`)
    expect(await health.json()).toMatchObject({ plugins: 0, lastEventId: 0 })

    const ada = await kite(['registry', 'adduser', 'ada', '--registry', `${url}`])
    expect(ada.code).toBe(0)
    const line = ada.out.match(/^(\/\/127\.0\.0\.1:\d+\/:_authToken=(\S+))$/m)
    expect(line?.[1]).toBeDefined()
    expect(ada.out).toMatch(/password: \S{16}/)
    const whoami = await fetch(`${url}/-/whoami`, {
      headers: { authorization: `Bearer ${line?.[2]}` },
    })
    expect(await whoami.json()).toEqual({ username: 'ada' })

    const bea = await kite([
      'registry',
      'adduser',
      'bea',
      '--password',
      'pa55-word',
      '--registry',
      `${url}`,
    ])
    expect(bea.code).toBe(0)
    expect(bea.out).not.toMatch(/password: pa55-word/)
    const again = await kite([
      'registry',
      'adduser',
      'bea',
      '--password',
      'other-one',
      '--registry',
      `${url}`,
    ])
    expect(again.code).toBe(1)
    expect(again.err).toContain('kite: cannot create the account "bea"')

    expect(await running.stop('SIGINT')).toBe(0)
    expect(running.output().out).toContain('stopping the registry')
    await expect(fetch(`${url}/-/kite/api/v1`)).rejects.toThrow()
  })

  it('says so when the port is taken', async () => {
    const blocker = createServer()
    blocker.listen(0, '127.0.0.1')
    await once(blocker, 'listening')
    const port = (blocker.address() as { port: number }).port
    try {
      const result = await kite([
        'registry',
        'start',
        '--port',
        String(port),
        '--storage',
        join(scratch.path, 'taken'),
      ])
      expect(result.code).toBe(1)
      expect(result.err).toContain(`kite: cannot listen on 127.0.0.1:${port}: the port is in use`)
    } finally {
      blocker.close()
    }
  })

  it('rejects a bad port or URL before starting anything', async () => {
    const port = await kite(['registry', 'start', '--port', 'eighty'])
    expect(port.code).toBe(2)
    expect(port.err).toContain('expected a port number between 0 and 65535')
    const url = await kite(['registry', 'adduser', 'x', '--registry', 'ftp://nope'])
    expect(url.code).toBe(2)
    expect(url.err).toContain('expected an http(s) URL, got "ftp://nope"')
  })

  it('writes the npmrc line npm expects', () => {
    expect(npmrcLine('http://127.0.0.1:4873', 'abc')).toBe('//127.0.0.1:4873/:_authToken=abc')
    expect(npmrcLine('https://reg.example.com/npm/', 'abc')).toBe(
      '//reg.example.com/npm/:_authToken=abc',
    )
  })
})
