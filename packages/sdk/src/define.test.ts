import { describe, expect, expectTypeOf, it } from 'vitest'
import type { RunContext, TriggerContext } from './context.js'
import { defineCondition, definePlugin, defineTask, defineTrigger, isDefinition } from './define.js'
import { KiteError } from './errors.js'
import { z } from './index.js'

const fetch = defineTask({
  name: 'Fetch',
  title: 'Fetch a Pokémon',
  properties: z.object({
    pokemon: z.string().describe('Name of the Pokémon.').default('pikachu'),
    limit: z.number().int().optional(),
  }),
  outputs: z.object({ height: z.number(), note: z.string().default('none') }),
  examples: [{ title: 'Fetch Gengar', code: 'pokemon: gengar' }],
  async run(props, ctx) {
    expectTypeOf(props).toEqualTypeOf<{ pokemon: string; limit?: number | undefined }>()
    expectTypeOf(ctx).toEqualTypeOf<RunContext>()
    return { height: props.pokemon.length }
  },
})

describe('type inference', () => {
  it('types props from the properties schema after defaults, and the return value from outputs', () => {
    type Props = Parameters<typeof fetch.run>[0]
    expectTypeOf<Props>().toEqualTypeOf<{ pokemon: string; limit?: number | undefined }>()
    type Returned = Awaited<ReturnType<typeof fetch.run>>
    expectTypeOf<Returned>().toEqualTypeOf<{ height: number; note?: string | undefined }>()
    expect(fetch.kind).toBe('task')
  })

  it('lets a task without outputs return nothing', () => {
    const log = defineTask({
      name: 'Log',
      properties: z.object({ message: z.string() }),
      run(props, ctx) {
        ctx.logger.info(props.message)
      },
    })
    expectTypeOf(log.run).returns.toEqualTypeOf<
      void | Record<string, never> | undefined | Promise<void | Record<string, never> | undefined>
    >()
    expect(log.outputs.shape).toEqual({})
  })

  it('types trigger events and condition results', () => {
    const trigger = defineTrigger({
      name: 'Changed',
      properties: z.object({ since: z.string().optional() }),
      outputs: z.object({ id: z.number() }),
      interval: 'PT30S',
      async poll(props, ctx) {
        expectTypeOf(props).toEqualTypeOf<{ since?: string | undefined }>()
        expectTypeOf(ctx).toEqualTypeOf<TriggerContext>()
        return [{ id: 1 }, { id: 2 }]
      },
    })
    expectTypeOf(trigger.poll).returns.resolves.toMatchTypeOf<
      { id: number } | { id: number }[] | null | undefined | void
    >()
    const condition = defineCondition({
      name: 'IsWeekend',
      properties: z.object({ days: z.array(z.string()).default(['SATURDAY']) }),
      test: (props) => props.days.length > 0,
    })
    expectTypeOf(condition.test).parameter(0).toEqualTypeOf<{ days: string[] }>()
    expect(isDefinition(trigger, 'trigger')).toBe(true)
    expect(isDefinition(condition, 'condition')).toBe(true)
    expect(isDefinition(condition, 'task')).toBe(false)
  })
})

describe('definePlugin', () => {
  it('builds a plugin and finds its types by id', () => {
    const plugin = definePlugin({ group: 'acme.pokemon', title: 'Pokémon', tasks: [fetch] })
    expect(plugin.find('acme.pokemon.Fetch')).toBe(fetch)
    expect(plugin.find('acme.pokemon.Nope')).toBeUndefined()
    expect(plugin.triggers).toEqual([])
    expect(isDefinition(plugin, 'plugin')).toBe(true)
  })

  it.each([
    ['Acme.Pokemon', /group "Acme.Pokemon" must be dotted lower-case/],
    ['pokemon', /group "pokemon" must be dotted lower-case segments, at least two/],
    ['acme..pokemon', /must be dotted lower-case/],
  ])('refuses the group %s', (group, message) => {
    expect(() => definePlugin({ group, title: 'T', tasks: [fetch] })).toThrow(message)
  })

  it('refuses two types with one name, naming it', () => {
    const twin = defineTask({ name: 'Fetch', properties: z.object({}), run: () => undefined })
    const error = catchError(() =>
      definePlugin({ group: 'acme.pokemon', title: 'P', tasks: [fetch, twin] }),
    )
    expect(error).toBeInstanceOf(KiteError)
    expect(error.code).toBe('DEFINITION_INVALID')
    expect(error.message).toContain('the name "Fetch" is used twice')
  })

  it('refuses properties named like the keys a flow uses for that kind of block', () => {
    const task = defineTask({
      name: 'Pin',
      properties: z.object({ version: z.string(), timeout: z.number(), url: z.string() }),
      run: () => undefined,
    })
    const trigger = defineTrigger({
      name: 'Watch',
      interval: 'PT1M',
      properties: z.object({ conditions: z.array(z.string()), retry: z.boolean() }),
      poll: () => undefined,
    })
    const condition = defineCondition({
      name: 'Kind',
      properties: z.object({ type: z.string() }),
      test: () => true,
    })
    const error = catchError(() =>
      definePlugin({
        group: 'acme.reserved',
        title: 'R',
        tasks: [task],
        triggers: [trigger],
        conditions: [condition],
      }),
    )
    expect(error.code).toBe('DEFINITION_INVALID')
    const lines = error.message.split('\n').slice(1)
    expect(lines).toEqual([
      '- task "Pin": the property "version" has the name of the reserved flow key "version" (every task block takes it from the flow, so a flow could never set this property); rename it',
      expect.stringContaining(
        'task "Pin": the property "timeout" has the name of the reserved flow key "timeout"',
      ),
      expect.stringContaining(
        'trigger "Watch": the property "conditions" has the name of the reserved flow key "conditions"',
      ),
      expect.stringContaining(
        'trigger "Watch": the property "retry" has the name of the reserved flow key "retry"',
      ),
      expect.stringContaining(
        'condition "Kind": the property "type" has the name of the reserved flow key "type"',
      ),
    ])
  })

  it('lets a condition use names only tasks and triggers reserve', () => {
    const or = defineCondition({
      name: 'Or',
      properties: z.object({
        conditions: z.array(z.unknown()),
        id: z.string(),
        timeout: z.string(),
      }),
      test: () => true,
    })
    expect(definePlugin({ group: 'acme.logic', title: 'L', conditions: [or] }).conditions).toEqual([
      or,
    ])
  })

  it('refuses things that are not definitions in the lists', () => {
    const error = catchError(() =>
      definePlugin({
        group: 'acme.x',
        title: 'X',
        // @ts-expect-error a plain object is not a task definition
        tasks: [{ name: 'Raw', run() {} }],
        // @ts-expect-error a task is not a trigger
        triggers: [fetch],
      }),
    )
    expect(error.message).toContain('tasks[0] is not a task made with defineTask()')
    expect(error.message).toContain('triggers[0] is not a trigger made with defineTrigger()')
  })
})

describe('define* checks', () => {
  it('refuses a properties schema that is not an object', () => {
    expect(() =>
      // @ts-expect-error properties must be a z.object
      defineTask({ name: 'Bad', properties: z.string(), run: () => undefined }),
    ).toThrow('task "Bad": properties must be a z.object(...) schema')
  })

  it.each(['fetch', 'Fetch-It', 'Log.log', '9Lives'])('refuses the name %s', (name) => {
    expect(() => defineTask({ name, properties: z.object({}), run: () => undefined })).toThrow(
      /the name must be PascalCase/,
    )
  })

  it('accepts dotted sub-groups in names', () => {
    expect(
      defineTask({ name: 'log.Log', properties: z.object({}), run: () => undefined }).name,
    ).toBe('log.Log')
  })

  it('refuses a trigger interval that is not an ISO-8601 duration', () => {
    expect(() =>
      defineTrigger({ name: 'Poll', properties: z.object({}), interval: '30s', poll: () => [] }),
    ).toThrow('trigger "Poll": interval "30s" is not an ISO-8601 duration')
  })

  it('refuses a missing run function', () => {
    // @ts-expect-error run is required
    expect(() => defineTask({ name: 'NoRun', properties: z.object({}) })).toThrow(
      '"NoRun": run must be a function',
    )
  })
})

function catchError(run: () => unknown): KiteError {
  try {
    run()
  } catch (error) {
    return error as KiteError
  }
  throw new Error('expected an error')
}
