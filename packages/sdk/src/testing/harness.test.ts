import { describe, expect, it } from 'vitest'
import { appeared, fetch, isLegendary } from '../../test/fixtures/pokemon-plugin.js'
import { defineTask } from '../define.js'
import { fetchOutputs, fetchTypeProperty, toFetchOutputs } from '../fetch.js'
import { z } from '../index.js'
import { pollTrigger, runTask, testCondition } from './harness.js'

describe('runTask', () => {
  it('renders properties from inputs, vars and earlier outputs, then runs the task', async () => {
    const { outputs, logs } = await runTask(
      fetch,
      { pokemon: '{{ vars.prefix }}-{{ inputs.name | upper }}-{{ outputs.prev.n }}' },
      { inputs: { name: 'gengar' }, vars: { prefix: 'x' }, outputs: { prev: { n: 7 } } },
    )
    expect(outputs).toEqual({ height: 'x-GENGAR-7'.length })
    expect(logs).toEqual([{ level: 'info', message: 'fetching x-GENGAR-7' }])
  })

  it('applies schema defaults and passes dynamic: false properties through unrendered', async () => {
    const seen: unknown[] = []
    const probe = defineTask({
      name: 'Probe',
      properties: fetch.properties,
      run(props) {
        seen.push(props)
      },
    })
    await runTask(probe, { raw: '{{ not.rendered }}' })
    expect(seen).toEqual([{ pokemon: 'pikachu', raw: '{{ not.rendered }}' }])
  })

  it('keeps native values for whole-expression properties', async () => {
    const sum = defineTask({
      name: 'Sum',
      properties: z.object({ values: z.array(z.number()) }),
      outputs: z.object({ total: z.number() }),
      run: (props) => ({ total: props.values.reduce((a, b) => a + b, 0) }),
    })
    const { outputs } = await runTask(
      sum,
      { values: '{{ inputs.list }}' },
      { inputs: { list: [1, 2, 3] } },
    )
    expect(outputs.total).toBe(6)
  })

  it('refuses invalid properties naming each one', async () => {
    await expect(runTask(fetch, { pokemon: 12, fields: ['colour'] })).rejects.toThrow(
      /invalid properties:\n- pokemon: .*expected string.*\n- fields\.0: /is,
    )
  })

  it('refuses outputs that do not match the schema', async () => {
    const liar = defineTask({
      name: 'Liar',
      properties: z.object({}),
      outputs: z.object({ count: z.number() }),
      // @ts-expect-error the point of the test: the task breaks its own contract
      run: () => ({ count: 'many' }),
    })
    await expect(runTask(liar)).rejects.toMatchObject({
      code: 'OUTPUTS_INVALID',
      message: expect.stringContaining('returned invalid outputs:\n- count:'),
    })
  })

  it('masks secrets in logs and renders secret() in properties', async () => {
    const leak = defineTask({
      name: 'Leak',
      properties: z.object({ token: z.string() }),
      async run(props, ctx) {
        ctx.logger.warn(`token is ${props.token}, again ${await ctx.secret('API_TOKEN')}`)
      },
    })
    const { logs } = await runTask(
      leak,
      { token: "{{ secret('API_TOKEN') }}" },
      { secrets: { API_TOKEN: 's3cr3t' } },
    )
    expect(logs).toEqual([{ level: 'warn', message: 'token is ******, again ******' }])
    await expect(runTask(leak, { token: "{{ secret('MISSING') }}" })).rejects.toThrow(
      /secret "MISSING" is not set/,
    )
  })

  it('masks a secret that contains another whole, as the runtime does', async () => {
    const leak = defineTask({
      name: 'Leak',
      properties: z.object({}),
      async run(_, ctx) {
        ctx.logger.info(`long ${await ctx.secret('LONG')}`)
      },
    })
    // Insertion order puts the short secret first: masking it first would leave "abc…ghi" visible.
    const { logs } = await runTask(leak, {}, { secrets: { SHORT: 'def', LONG: 'abcdefghi' } })
    expect(logs).toEqual([{ level: 'info', message: 'long ******' }])
  })

  it('gives a real KV store with TTL and a real internal storage', async () => {
    const store = defineTask({
      name: 'Store',
      properties: z.object({ fetchType: fetchTypeProperty('STORE') }),
      outputs: fetchOutputs(),
      async run(props, ctx) {
        await ctx.kv.set('seen', { n: 1 })
        await ctx.kv.set('brief', 1, { ttl: 'PT0.01S' })
        return toFetchOutputs(props.fetchType, [{ a: 1 }, { a: 2 }], ctx)
      },
    })
    const { outputs, context } = await runTask(
      store,
      {},
      { namespace: 'company.team', flowId: 'f' },
    )
    expect(outputs.size).toBe(2)
    expect(outputs.uri).toMatch(
      /^kite:\/\/\/company\.team\/f\/executions\/[0-9a-f-]{36}\/test-task\/[0-9a-f]{8}-rows\.jsonl$/,
    )
    expect(await context.readStorage(outputs.uri as string)).toBe('{"a":1}\n{"a":2}\n')
    expect(context.kv.get('seen')).toEqual({ n: 1 })
    await new Promise((done) => setTimeout(done, 20))
    expect(await context.ctx.kv.keys()).toEqual(['seen'])
    await context.cleanup()
  })

  it('reads kv() in expressions', async () => {
    const { outputs } = await runTask(
      fetch,
      { pokemon: "{{ kv('favourite') }}" },
      { kv: { favourite: 'mew' } },
    )
    expect(outputs.height).toBe(3)
  })

  it('aborts the signal and fails on timeout', async () => {
    let aborted = false
    const slow = defineTask({
      name: 'Slow',
      properties: z.object({}),
      run: (_, ctx) =>
        new Promise<void>((done) => {
          ctx.signal.addEventListener('abort', () => {
            aborted = true
            done()
          })
        }),
    })
    await expect(runTask(slow, {}, { timeout: 'PT0.05S' })).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: 'timed out after PT0.05S',
    })
    expect(aborted).toBe(true)
  })

  it('reports an undefined variable by name', async () => {
    await expect(runTask(fetch, { pokemon: '{{ inputs.nope }}' })).rejects.toThrow(/inputs\.nope/)
  })
})

describe('pollTrigger', () => {
  it('returns events and keeps the cursor in ctx.state', async () => {
    const first = await pollTrigger(appeared, { region: 'johto' })
    expect(first.events).toEqual([{ pokemon: 'johto-1', index: 1 }])
    expect(first.context.state.get('index')).toBe(1)
    const next = await pollTrigger(appeared, {}, { state: { index: 41 } })
    expect(next.events).toEqual([{ pokemon: 'kanto-42', index: 42 }])
  })
})

describe('testCondition', () => {
  it('tests a condition with rendered properties', async () => {
    expect(
      (
        await testCondition(
          isLegendary,
          { pokemon: '{{ trigger.name }}' },
          { trigger: { name: 'mew' } },
        )
      ).result,
    ).toBe(true)
    expect((await testCondition(isLegendary, { pokemon: 'pidgey' })).result).toBe(false)
  })
})

describe('a shared context', () => {
  it('lets a test put input files into storage first, then run in that context', async () => {
    const { createTestContext } = await import('./test-context.js')
    const read = defineTask({
      name: 'ReadFile',
      properties: z.object({ from: z.string() }),
      outputs: z.object({ text: z.string() }),
      async run(props, ctx) {
        return { text: new TextDecoder().decode(await ctx.storage.get(props.from)) }
      },
    })
    const context = await createTestContext()
    const uri = await context.ctx.storage.put('in.txt', 'hello file')
    const { outputs } = await runTask(read, { from: uri }, { context })
    expect(outputs.text).toBe('hello file')
    await context.cleanup()
  })
})
