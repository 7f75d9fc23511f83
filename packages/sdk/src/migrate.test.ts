import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { definePlugin, defineTask } from './define.js'
import { KiteError } from './errors.js'
import { z } from './index.js'
import { createManifest, findAliasedTask, parseManifest } from './manifest.js'
import { migrateProperties } from './migrate.js'

const properties = z.object({ who: z.string().default('world'), greeting: z.string().optional() })
const run = () => undefined

const hello = defineTask({
  name: 'Hello',
  aliases: ['acme.old.Greet'],
  properties,
  migrations: [
    {
      from: '1.x',
      note: '`name` is now `who`',
      up: ({ name, ...rest }) => (name === undefined ? rest : { ...rest, who: name }),
    },
    { from: '<1.5.0', note: '`salutation` is now `greeting`', up: renameSalutation },
  ],
  run,
})

function renameSalutation({ salutation, ...rest }: Record<string, unknown>) {
  return salutation === undefined ? rest : { ...rest, greeting: salutation }
}

/** Stands in for the host's semver check: these tests pretend the old version is 1.2.0. */
const from120 = { applies: (range: string) => ['1.x', '<1.5.0'].includes(range), label: 'flow "f"' }

describe('migrateProperties', () => {
  it('runs every applicable migration in order and leaves the input alone', async () => {
    const input = { name: 'Ada', salutation: 'Hi' }
    const result = await migrateProperties(hello, input, from120)
    expect(result.properties).toEqual({ who: 'Ada', greeting: 'Hi' })
    expect(result.applied.map((migration) => migration.from)).toEqual(['1.x', '<1.5.0'])
    expect(input).toEqual({ name: 'Ada', salutation: 'Hi' })
  })

  it('runs only the migrations whose range applies', async () => {
    const result = await migrateProperties(
      hello,
      { name: 'Ada' },
      { applies: (range) => range === '1.x', label: 'x' },
    )
    expect(result).toEqual({
      properties: { who: 'Ada' },
      applied: [{ from: '1.x', note: '`name` is now `who`' }],
    })
  })

  it('keeps expressions as written (they are not rendered)', async () => {
    const result = await migrateProperties(hello, { name: '{{ inputs.user }}' }, from120)
    expect(result.properties).toEqual({ who: '{{ inputs.user }}' })
  })

  it('names a migration that throws, with its note and cause', async () => {
    const boom = new Error('no name to move')
    const task = defineTask({
      name: 'Boom',
      properties,
      migrations: [
        {
          from: '1.x',
          note: 'moves name',
          up: () => {
            throw boom
          },
        },
      ],
      run,
    })
    const error = await migrateProperties(task, {}, from120).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(KiteError)
    expect(error).toMatchObject({ code: 'MIGRATION_FAILED', kind: 'user', cause: boom })
    expect((error as Error).message).toMatch(
      /flow "f": the migration from 1\.x \("moves name"\) of "Boom" failed: no name to move/,
    )
  })

  it.each([
    ['null', null, /returned null/],
    ['an array', [], /returned an array/],
    ['a string', 'who: Ada', /returned a string/],
    ['nothing', undefined, /returned a undefined/],
  ])('refuses a migration that returns %s', async (_, value, message) => {
    const task = defineTask({
      name: 'Bad',
      properties,
      migrations: [
        { from: '1.x', note: 'broken', up: () => value as unknown as Record<string, unknown> },
      ],
      run,
    })
    await expect(migrateProperties(task, {}, from120)).rejects.toMatchObject({
      code: 'MIGRATION_INVALID',
      message: expect.stringMatching(message),
    })
  })

  it('refuses a result with properties this version does not know', async () => {
    const task = defineTask({
      name: 'Half',
      properties,
      migrations: [{ from: '1.x', note: 'forgets one', up: (props) => ({ ...props, whom: 1 }) }],
      run,
    })
    await expect(migrateProperties(task, { who: 'a' }, from120)).rejects.toThrow(
      /"Half" has properties it does not know: whom \(known: who, greeting\)/,
    )
  })

  it('returns the input unchanged when nothing applies (any properties)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.string(), fc.jsonValue()), async (props) => {
        const result = await migrateProperties(hello, props, { applies: () => false, label: 'x' })
        expect(result).toEqual({ properties: props, applied: [] })
      }),
    )
  })
})

describe('defineTask refuses bad migrations and aliases', () => {
  const base = { name: 'T', properties, run }
  it.each([
    ['migrations that are not an array', { migrations: {} }, /migrations must be an array/],
    [
      'a migration without from',
      { migrations: [{ note: 'n', up: run }] },
      /migrations\[0\]\.from must be a semver range/,
    ],
    [
      'a from that is not a range',
      { migrations: [{ from: 'yesterday!', note: 'n', up: run }] },
      /got "yesterday!"/,
    ],
    [
      'a note over two lines',
      { migrations: [{ from: '1.x', note: 'a\nb', up: run }] },
      /note must be one non-empty line/,
    ],
    [
      'an up that is not a function',
      { migrations: [{ from: '1.x', note: 'n', up: 1 }] },
      /up must be a function/,
    ],
    ['aliases that are not an array', { aliases: 'acme.x.T' }, /aliases must be an array/],
    [
      'an alias that is not a type id',
      { aliases: ['Hello'] },
      /alias "Hello" must be a full type id/,
    ],
    ['the same alias twice', { aliases: ['acme.x.T', 'acme.x.T'] }, /same type twice/],
  ])('%s', (_, extra, message) => {
    expect(() => defineTask({ ...base, ...(extra as object) })).toThrow(message)
  })

  it('refuses an alias that is a type of the plugin, or declared by two tasks', () => {
    const a = defineTask({ name: 'A', aliases: ['acme.p.B', 'acme.old.X'], properties, run })
    const b = defineTask({ name: 'B', aliases: ['acme.old.X'], properties, run })
    expect(() => definePlugin({ group: 'acme.p', title: 'P', tasks: [a, b] })).toThrow(
      /the alias "acme\.p\.B" is a type of this plugin[\s\S]*"acme\.old\.X" is declared by both "A" and "B"/,
    )
  })
})

describe('the manifest', () => {
  const plugin = definePlugin({ group: 'acme.greeting', title: 'Greeting', tasks: [hello] })
  const manifest = createManifest(
    plugin,
    { name: 'greeting', version: '2.0.0' },
    { entry: 'dist/index.js', sdkRange: '^0.1.0' },
  )

  it('lists each migration with from and note, and the aliases', () => {
    expect(manifest.tasks[0]?.migrations).toEqual([
      { from: '1.x', note: '`name` is now `who`' },
      { from: '<1.5.0', note: '`salutation` is now `greeting`' },
    ])
    expect(manifest.tasks[0]?.aliases).toEqual(['acme.old.Greet'])
    expect(findAliasedTask(manifest, 'acme.old.Greet')?.type).toBe('acme.greeting.Hello')
    expect(findAliasedTask(manifest, 'acme.greeting.Hello')).toBeUndefined()
  })

  it('still reads manifests written without them', () => {
    const { migrations: _m, aliases: _a, ...old } = manifest.tasks[0] ?? {}
    expect(parseManifest({ ...manifest, tasks: [old] }).tasks[0]?.migrations).toBeUndefined()
  })

  it('refuses an alias that shadows a type, and a migration without a note', () => {
    const shadow = { ...manifest.tasks[0], aliases: ['acme.greeting.Hello'] }
    expect(() => parseManifest({ ...manifest, tasks: [shadow] })).toThrow(
      /alias "acme\.greeting\.Hello" is a type of this plugin/,
    )
    const noNote = { ...manifest.tasks[0], migrations: [{ from: '1.x' }] }
    expect(() => parseManifest({ ...manifest, tasks: [noNote] })).toThrow(/migrations\.0\.note/)
  })
})
