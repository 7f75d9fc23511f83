import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createProgram, runProgram } from '../program.js'
import { npmrcLine, registerRegistryCommand } from './registry.js'

let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kite-cli-registry-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})
afterEach(() => {
  vi.restoreAllMocks()
})

function capture() {
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
  return {
    get stdout() {
      return stdout
    },
    get stderr() {
      return stderr
    },
  }
}

function kite(args: string[]) {
  return runProgram(createProgram([registerRegistryCommand]), args)
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

describe('kite registry', () => {
  it('starts a registry, creates accounts on it, and stops on Ctrl-C', async () => {
    const output = capture()
    const storage = join(dir, 'storage')
    const running = kite(['registry', 'start', '--port', '0', '--storage', storage])
    const url = await waitFor(
      () => output.stdout.match(/running at (http:\/\/127\.0\.0\.1:\d+)/)?.[1],
    )
    expect(output.stdout).toContain(`browse:  ${url}/-/kite/`)
    expect(output.stdout).toContain(`storage: ${storage}`)
    const health = await fetch(`${url}/-/kite/api/v1`)
    expect(await health.json()).toMatchObject({ plugins: 0, lastEventId: 0 })

    expect(await kite(['registry', 'adduser', 'ada', '--registry', url])).toBe(0)
    const line = output.stdout.match(/^(\/\/127\.0\.0\.1:\d+\/:_authToken=(\S+))$/m)
    expect(line?.[1]).toBeDefined()
    expect(output.stdout).toMatch(/password: \S{16}/)
    const whoami = await fetch(`${url}/-/whoami`, {
      headers: { authorization: `Bearer ${line?.[2]}` },
    })
    expect(await whoami.json()).toEqual({ username: 'ada' })

    expect(
      await kite(['registry', 'adduser', 'bea', '--password', 'pa55-word', '--registry', url]),
    ).toBe(0)
    expect(output.stdout).not.toMatch(/password: pa55-word/)
    expect(
      await kite(['registry', 'adduser', 'bea', '--password', 'other-one', '--registry', url]),
    ).toBe(1)
    expect(output.stderr).toContain('kite: cannot create the account "bea"')

    process.emit('SIGINT', 'SIGINT')
    expect(await running).toBe(0)
    expect(output.stdout).toContain('stopping the registry')
    await expect(fetch(`${url}/-/kite/api/v1`)).rejects.toThrow()
  })

  it('says so when the port is taken', async () => {
    const blocker = createServer()
    blocker.listen(0, '127.0.0.1')
    await once(blocker, 'listening')
    const port = (blocker.address() as { port: number }).port
    const output = capture()
    try {
      const code = await kite([
        'registry',
        'start',
        '--port',
        String(port),
        '--storage',
        join(dir, 'taken'),
      ])
      expect(code).toBe(1)
      expect(output.stderr).toContain(
        `kite: cannot listen on 127.0.0.1:${port}: the port is in use`,
      )
    } finally {
      blocker.close()
    }
  })

  it('rejects a bad port or URL before starting anything', async () => {
    const output = capture()
    expect(await kite(['registry', 'start', '--port', 'eighty'])).toBe(1)
    expect(output.stderr).toContain('expected a port number between 0 and 65535')
    expect(await kite(['registry', 'adduser', 'x', '--registry', 'ftp://nope'])).toBe(1)
    expect(output.stderr).toContain('expected an http(s) URL, got "ftp://nope"')
  })

  it('writes the npmrc line npm expects', () => {
    expect(npmrcLine('http://127.0.0.1:4873', 'abc')).toBe('//127.0.0.1:4873/:_authToken=abc')
    expect(npmrcLine('https://reg.example.com/npm/', 'abc')).toBe(
      '//reg.example.com/npm/:_authToken=abc',
    )
  })
})
