import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Writable } from 'node:stream'
import { stripVTControlCharacters } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCreateCommand } from './create-command.js'

let cwd: string

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'create-kite-plugin-cmd-'))
})

afterAll(async () => {
  await rm(cwd, { recursive: true, force: true })
})

/** A terminal in memory: keypresses go in through `type`, the screen collects in `screen()`. */
function fakeTerminal() {
  const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => stdin })
  let written = ''
  const stdout = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        written += chunk.toString()
        done()
      },
    }),
    { columns: 100, rows: 40, isTTY: true },
  )
  const screen = () => stripVTControlCharacters(written)
  return {
    stdin,
    stdout,
    screen,
    /** Waits until the screen shows `question` (for the `nth` time), then types `keys`. */
    async answer(question: string, keys: string, nth = 1) {
      const deadline = Date.now() + 5000
      while (screen().split(question).length - 1 < nth) {
        if (Date.now() > deadline) throw new Error(`no "${question}" on screen:\n${screen()}`)
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      for (const key of keys) {
        stdin.write(key)
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
    },
  }
}

function plainIo() {
  let out = ''
  const stdout = new Writable({
    write(chunk, _encoding, done) {
      out += chunk.toString()
      done()
    },
  })
  return { io: { cwd, env: {}, stdin: new PassThrough(), stdout }, output: () => out }
}

describe('runCreateCommand', () => {
  it('with --yes asks nothing, writes the package and prints the next steps', async () => {
    const { io, output } = plainIo()
    const done = await runCreateCommand(['yes-plugin', '--group', 'acme.demo', '--yes'], io)
    expect(done?.answers.packageName).toBe('@acme/kite-plugin-demo')
    expect(output()).toBe(
      [
        `Created @acme/kite-plugin-demo in ${join(cwd, 'yes-plugin')}`,
        'group acme.demo: task acme.demo.Hello, trigger acme.demo.NewItems, condition acme.demo.Contains',
        'no Kite registry yet: see .npmrc',
        '',
        'Next:',
        '  cd yes-plugin',
        '  npm install',
        '  npm test',
        '  npm run build',
        '  npm publish',
        '',
      ].join('\n'),
    )
  })

  it('says where the registry came from when npm create was given one', async () => {
    const { io, output } = plainIo()
    const env = { npm_config_registry: 'http://127.0.0.1:4873/' }
    const done = await runCreateCommand(['npm-registry', '--yes'], { ...io, env })
    expect(done?.answers.registry).toBe('http://127.0.0.1:4873/')
    expect(output()).toContain(
      'registry http://127.0.0.1:4873/ (the one npm create used; --registry picks another)',
    )
  })

  it('needs no terminal when the options answer every question', async () => {
    const { io } = plainIo()
    const argv = ['all-given', '--group', 'acme.x', '--name', 'kite-plugin-x', '--task', 'Go']
    const flags = ['--description', 'Goes.', '--trigger', '--no-condition']
    const done = await runCreateCommand([...argv, ...flags], io)
    expect(done?.result.files).not.toContain('src/contains.ts')
  })

  it('refuses to ask questions without a terminal', async () => {
    const { io } = plainIo()
    await expect(runCreateCommand(['no-tty'], io)).rejects.toThrow(
      'no terminal to ask questions on: pass --yes to take the defaults',
    )
  })

  it('prints the usage with --help', async () => {
    const { io, output } = plainIo()
    expect(await runCreateCommand(['--help'], io)).toBeUndefined()
    expect(output()).toContain('Usage: npm create kite-plugin@latest [dir] -- [options]')
  })

  it('asks every open question in a terminal, with defaults on Enter', async () => {
    const terminal = fakeTerminal()
    const running = runCreateCommand([], { cwd, env: {}, ...terminal })
    await terminal.answer('Where should the plugin go?', 'asked\r')
    await terminal.answer('Plugin group', 'acme.pokemon\r')
    await terminal.answer('npm package name', '\r') // the default from the group
    await terminal.answer('Name of the first task', 'fetch\r') // refused: not PascalCase
    await terminal.answer('is not valid: use PascalCase', '\b\b\b\b\bFetch\r')
    await terminal.answer('What does it do?', 'Fetches a Pokémon.\r')
    await terminal.answer('Add an example polling trigger', 'n')
    await terminal.answer('Add an example condition', 'y')
    const done = await running
    expect(done?.answers).toEqual({
      dir: 'asked',
      packageName: '@acme/kite-plugin-pokemon',
      group: 'acme.pokemon',
      task: { name: 'Fetch', description: 'Fetches a Pokémon.' },
      trigger: false,
      condition: true,
    })
    expect(terminal.screen()).toContain('Created @acme/kite-plugin-pokemon')
    const task = await readFile(join(cwd, 'asked', 'src', 'fetch.ts'), 'utf8')
    expect(task).toContain("description: 'Fetches a Pokémon.',")
  })

  it('asks only what the options leave open', async () => {
    const terminal = fakeTerminal()
    const argv = ['partly', '--group', 'acme.part', '--task', 'Go', '--no-trigger']
    const running = runCreateCommand(argv, { cwd, env: {}, ...terminal })
    await terminal.answer('npm package name', '\r')
    await terminal.answer('What does it do?', '\r')
    await terminal.answer('Add an example condition', 'n')
    const done = await running
    expect(done?.answers).toMatchObject({
      packageName: '@acme/kite-plugin-part',
      task: { name: 'Go', description: 'Greets someone by name.' },
      condition: false,
    })
    expect(terminal.screen()).not.toContain('Where should the plugin go?')
    expect(terminal.screen()).not.toContain('Plugin group')
  })

  it('refuses a bad option or a taken directory before asking anything', async () => {
    await runCreateCommand(['taken', '--yes'], plainIo().io)
    for (const argv of [['taken'], ['fresh', '--group', 'nope']]) {
      const terminal = fakeTerminal()
      await expect(runCreateCommand(argv, { cwd, env: {}, ...terminal })).rejects.toThrow(
        argv[0] === 'taken' ? '/taken is not empty' : 'group "nope" is not valid',
      )
      expect(terminal.screen()).toBe('')
    }
  })

  it('stops on Ctrl-C and writes nothing', async () => {
    const terminal = fakeTerminal()
    const failure = runCreateCommand(['cancelled'], { cwd, env: {}, ...terminal }).then(
      () => undefined,
      (error: unknown) => error,
    )
    await terminal.answer('Plugin group', '\x03')
    expect(await failure).toMatchObject({ code: 'CANCELLED' })
    await expect(readFile(join(cwd, 'cancelled', 'package.json'))).rejects.toThrow(/ENOENT/)
  })
})
