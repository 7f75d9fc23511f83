import { readFile } from 'node:fs/promises'
import { parseManifest } from '@kite/sdk/host'
import { pollTrigger, runBundle, runTask, testCondition } from '@kite/sdk/testing'
import { describe, expect, it } from 'vitest'
import { hello } from './hello.js'
import plugin from './index.js'
import { nameMatches } from './name-matches.js'
import { visitors } from './visitors.js'

describe('Hello', () => {
  it('greets the world by default', async () => {
    const { outputs, logs } = await runTask(hello)
    expect(outputs).toEqual({ message: 'Hello, world!' })
    expect(logs).toEqual([{ level: 'info', message: 'Hello, world!' }])
  })

  it('greets an input', async () => {
    const { outputs } = await runTask(
      hello,
      { name: '{{ inputs.name }}', greeting: 'Bonjour' },
      { inputs: { name: 'Ada' } },
    )
    expect(outputs.message).toBe('Bonjour, Ada!')
  })

  it('refuses an empty name', async () => {
    await expect(runTask(hello, { name: '' })).rejects.toThrow(/invalid properties:\n- name:/)
  })
})

describe('Visitors', () => {
  it('emits each visitor once, batch by batch, keeping a cursor', async () => {
    const names = ['Ada', 'Grace', 'Linus']
    const first = await pollTrigger(visitors, { names, batchSize: 2 })
    expect(first.events).toEqual([
      { name: 'Ada', position: 1 },
      { name: 'Grace', position: 2 },
    ])
    const state = Object.fromEntries(first.context.state)
    const second = await pollTrigger(visitors, { names, batchSize: 2 }, { state })
    expect(second.events).toEqual([{ name: 'Linus', position: 3 }])
    const third = await pollTrigger(
      visitors,
      { names },
      { state: Object.fromEntries(second.context.state) },
    )
    expect(third.events).toEqual([])
  })
})

describe('NameMatches', () => {
  it('matches the whole name', async () => {
    expect((await testCondition(nameMatches, { name: 'Ada', pattern: 'A.*' })).result).toBe(true)
    expect((await testCondition(nameMatches, { name: 'Nada', pattern: 'A.*' })).result).toBe(false)
    expect(
      (await testCondition(nameMatches, { name: 'ada', pattern: 'A.*', ignoreCase: true })).result,
    ).toBe(true)
  })

  it('explains an invalid pattern', async () => {
    await expect(testCondition(nameMatches, { name: 'x', pattern: '(' })).rejects.toMatchObject({
      code: 'PATTERN_INVALID',
      message: 'pattern "(" is not a valid regular expression',
    })
  })
})

describe('the plugin', () => {
  it('provides one task, one trigger and one condition in its group', () => {
    expect(plugin.group).toBe('acme.greeting')
    expect(plugin.find('acme.greeting.Hello')).toBe(hello)
    expect(plugin.find('acme.greeting.Visitors')).toBe(visitors)
    expect(plugin.find('acme.greeting.NameMatches')).toBe(nameMatches)
  })
})

describe('the built package', () => {
  it('has a bundle and a valid manifest (npm test builds before testing)', async () => {
    const dist = new URL('../dist/', import.meta.url)
    const manifest = parseManifest(
      JSON.parse(await readFile(new URL('kite-plugin.json', dist), 'utf8')),
    )
    expect(manifest).toMatchObject({
      name: '@acme/kite-plugin-greeting',
      version: '1.0.0',
      group: 'acme.greeting',
    })
    expect(manifest.tasks[0]?.properties.properties?.name).toMatchObject({
      default: 'world',
      $dynamic: true,
    })
  })

  it('runs Hello from the bundle in a plain node process', async () => {
    const { value, logs } = await runBundle(
      new URL('..', import.meta.url),
      'acme.greeting.Hello',
      {
        name: '{{ inputs.who }}',
      },
      { inputs: { who: 'Ada' } },
    )
    expect(value).toEqual({ message: 'Hello, Ada!' })
    expect(logs).toEqual([{ level: 'info', message: 'Hello, Ada!' }])
  })
})

describe('version 2.0.0 (v2/)', () => {
  it('renamed `name` to `who` (in-process the old key is ignored; the runtime refuses it at save)', async () => {
    const { hello: hello2 } = await import('../v2/src/hello.js')
    expect((await runTask(hello2, { who: 'Ada' })).outputs.message).toBe('Hello, Ada!')
    await expect(runTask(hello2, { name: 'Ada' })).resolves.toMatchObject({
      outputs: { message: 'Hello, world!' },
    })
  })

  it('is built beside 1.0.0 with its own manifest', async () => {
    const v2 = new URL('../v2/dist/', import.meta.url)
    const manifest = parseManifest(
      JSON.parse(await readFile(new URL('kite-plugin.json', v2), 'utf8')),
    )
    expect(manifest.version).toBe('2.0.0')
    expect(manifest.tasks.map((task) => task.type)).toEqual([
      'acme.greeting.Hello',
      'acme.greeting.Goodbye',
    ])
    expect(Object.keys(manifest.tasks[0]?.properties.properties ?? {})).toEqual(['who', 'greeting'])
  })

  it('runs its renamed Hello from the v2 bundle', async () => {
    const { value, manifest } = await runBundle(
      new URL('../v2', import.meta.url),
      'acme.greeting.Hello',
      {
        who: 'Ada',
      },
    )
    expect(manifest.version).toBe('2.0.0')
    expect(value).toMatchObject({ message: 'Hello, Ada!' })
  })
})

describe('Hello 2.0.0 migration', async () => {
  const { migrateProperties } = await import('@kite/sdk/host')
  const { hello: hello2 } = await import('../v2/src/hello.js')
  const from1 = { applies: (range: string) => range === '1.x', label: 'flow "f", task "t"' }

  it('moves `name` to `who`, expressions as written', async () => {
    const result = await migrateProperties(
      hello2,
      { name: '{{ inputs.name }}', greeting: 'Hi' },
      from1,
    )
    expect(result.properties).toEqual({ who: '{{ inputs.name }}', greeting: 'Hi' })
    expect(result.applied).toEqual([{ from: '1.x', note: '`name` is renamed `who`' }])
  })

  it('refuses a task that sets both, saying why', async () => {
    await expect(migrateProperties(hello2, { name: 'a', who: 'b' }, from1)).rejects.toThrow(
      /both `name` and `who` are set; keep one of them/,
    )
  })
})
