import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN, cleanEnv, requireBuild, run, runInTerminal } from '../test/helpers.js'

let cwd: string

beforeAll(async () => {
  requireBuild()
  cwd = await mkdtemp(join(tmpdir(), 'create-kite-plugin-cli-'))
  await mkdir(join(cwd, 'taken'))
  await writeFile(join(cwd, 'taken', 'index.js'), '')
})

afterAll(async () => {
  await rm(cwd, { recursive: true, force: true })
})

const cli = (args: string[]) => run('node', [BIN, ...args], { cwd, env: cleanEnv() })

describe('the built create-kite-plugin command', () => {
  it('scaffolds with --yes and exits 0', async () => {
    const result = await cli(['built', '--group', 'acme.built', '--yes'])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain('Created @acme/kite-plugin-built')
    expect(await readdir(join(cwd, 'built'))).toContain('package.json')
  })

  it.each([
    [['taken', '--yes'], '/taken is not empty (index.js): choose a new directory'],
    [['x1', '--group', 'acme', '--yes'], 'group "acme" is not valid'],
    [['x2', '--group', 'acme.x', '--name', 'Not Valid', '--yes'], 'package name "Not Valid"'],
    [['x3', '--task', 'lower', '--yes'], 'task name "lower" is not valid'],
    [['x4', '--registry', 'not-a-url', '--yes'], 'registry "not-a-url" is not an http(s) URL'],
    [['x5', '--frobnicate'], "Unknown option '--frobnicate'"],
    [['x6'], 'no terminal to ask questions on'],
  ])('refuses %j with exit 1 and one line', async (args, message) => {
    const result = await cli(args)
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(/^create-kite-plugin: [^\n]+\n$/)
    expect(result.stderr).toContain(message)
  })

  it('writes nothing when it refuses', async () => {
    await cli(['x1', '--group', 'acme', '--yes'])
    expect((await readdir(cwd)).sort()).not.toContain('x1')
    expect(await readdir(join(cwd, 'taken'))).toEqual(['index.js'])
  })

  it('answers --help and --version', async () => {
    const help = await cli(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('--registry URL')
    const version = await cli(['--version'])
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/)
  })

  it('asks its questions in a real terminal', async () => {
    const terminal = runInTerminal(`node ${BIN}`, { cwd, env: cleanEnv() })
    try {
      await terminal.waitFor('Where should the plugin go?')
      await terminal.type('in-a-pty\r')
      await terminal.waitFor('Plugin group')
      await terminal.type('acme.pty\r')
      await terminal.waitFor('npm package name')
      await terminal.type('\r')
      await terminal.waitFor('Name of the first task')
      await terminal.type('Ping\r')
      await terminal.waitFor('What does it do?')
      await terminal.type('Pings a host.\r')
      await terminal.waitFor('Add an example polling trigger')
      await terminal.type('y')
      await terminal.waitFor('Add an example condition')
      await terminal.type('n')
      expect(await terminal.exited, terminal.screen()).toBe(0)
    } finally {
      terminal.kill()
    }
    expect(terminal.screen()).toContain('Created @acme/kite-plugin-pty')
    const pkg = JSON.parse(await readFile(join(cwd, 'in-a-pty', 'package.json'), 'utf8'))
    expect(pkg.name).toBe('@acme/kite-plugin-pty')
    const files = await readdir(join(cwd, 'in-a-pty', 'src'))
    expect(files.sort()).toEqual([
      'flow.test.ts',
      'index.test.ts',
      'index.ts',
      'new-items.test.ts',
      'new-items.ts',
      'ping.test.ts',
      'ping.ts',
    ])
  })
})
