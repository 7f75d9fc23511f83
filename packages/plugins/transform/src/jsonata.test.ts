import { invokeTask } from '@kite/sdk/host'
import { createSharedContext, createTestContext, runTask } from '@kite/sdk/testing'
import { describe, expect, it } from 'vitest'
import { jsonataTask } from './jsonata.js'

const orders = {
  orders: [
    { id: 1, status: 'shipped', lines: [{ price: 5 }, { price: 7 }] },
    { id: 2, status: 'open', lines: [{ price: 3 }] },
    { id: 3, status: 'shipped', lines: [{ price: 10 }] },
  ],
}

describe('Jsonata', () => {
  it('transforms a value rendered from an earlier task', async () => {
    const { outputs } = await runTask(
      jsonataTask,
      {
        value: '{{ outputs.get.body }}',
        expression: "orders[status = 'shipped'].{ 'id': id, 'total': $sum(lines.price) }",
      },
      { outputs: { get: { body: orders } } },
    )
    expect(outputs).toEqual({
      value: [
        { id: 1, total: 12 },
        { id: 3, total: 10 },
      ],
    })
  })

  it('leaves {{ }} in the expression alone and passes flow values as bindings', async () => {
    const { outputs } = await runTask(
      jsonataTask,
      {
        value: orders,
        expression: "{ 'literal': '{{ inputs.status }}', 'ids': orders[status = $status].id }",
        bindings: { status: '{{ inputs.status }}' },
      },
      { inputs: { status: 'open' } },
    )
    expect(outputs.value).toEqual({ literal: '{{ inputs.status }}', ids: 2 })
  })

  it('returns null when the expression matches nothing', async () => {
    const { outputs } = await runTask(jsonataTask, { value: { a: 1 }, expression: 'b' })
    expect(outputs).toEqual({ value: null })
  })

  it('reads a stored JSON Lines file and stores its result', async () => {
    const { store, run, context } = await createSharedContext()
    const from = await store('rows.jsonl', '{"amount":2.5}\n{"amount":4}\n\n{"amount":1}\n')
    expect(await run(jsonataTask, { from, expression: '$sum(amount)' })).toEqual({ value: 7.5 })
    const stored = await run(jsonataTask, { from, expression: 'amount', store: true })
    expect(stored.value).toBeUndefined()
    expect(await context.readStorage(String(stored.uri))).toBe('[2.5,4,1]\n')
  })

  it('reads a stored JSON document whatever its file name says with fromFormat JSON', async () => {
    const { store, run } = await createSharedContext()
    const from = await store('export.txt', '{"rows":[1,2,3]}')
    expect(
      await run(jsonataTask, { from, fromFormat: 'JSON', expression: '$count(rows)' }),
    ).toEqual({ value: 3 })
    const broken = await store('broken.json', '{"rows":')
    await expect(run(jsonataTask, { from: broken, expression: 'rows' })).rejects.toMatchObject({
      code: 'INPUT_INVALID',
      message: expect.stringMatching(/broken\.json is not valid JSON/),
    })
  })

  it('fails a syntax error naming its position', async () => {
    const failure = runTask(jsonataTask, { value: {}, expression: 'foo.(bar' })
    await expect(failure).rejects.toMatchObject({
      code: 'JSONATA_SYNTAX',
      kind: 'user',
      message: expect.stringContaining(
        'invalid JSONata expression: Expected ")" before end of expression at position 8 (S0203)',
      ),
    })
  })

  it('fails an evaluation error with JSONata message', async () => {
    await expect(
      runTask(jsonataTask, { value: { a: 'x' }, expression: '$number(a)' }),
    ).rejects.toMatchObject({
      code: 'JSONATA_EVALUATION',
      message: expect.stringContaining('Unable to cast value to a number: "x"'),
    })
  })

  it('stops runaway recursion', async () => {
    await expect(
      runTask(jsonataTask, {
        value: {},
        expression: '($f := function($n) { $f($n + 1) + 1 }; $f(0))',
      }),
    ).rejects.toThrow(/deeper than 500 levels: runaway recursion\?/)
  })

  it('stops an endless loop when the run is aborted', async () => {
    const context = await createTestContext()
    const timer = setTimeout(() => context.abort('timed out'), 100)
    // A tail call never deepens the stack: only the abort can end it.
    await expect(
      invokeTask(
        jsonataTask,
        { value: {}, expression: '($f := function($n) { $f($n + 1) }; $f(0))' },
        context.ctx,
      ),
    ).rejects.toMatchObject({ code: 'ABORTED', message: expect.stringContaining('stopped') })
    clearTimeout(timer)
    await context.cleanup()
  })

  it('wants exactly one of value and from', async () => {
    await expect(runTask(jsonataTask, { expression: 'a' })).rejects.toMatchObject({
      code: 'INPUT_MISSING',
    })
    await expect(
      runTask(jsonataTask, { expression: 'a', value: {}, from: 'kite:///x/y.json' }),
    ).rejects.toMatchObject({ code: 'INPUT_AMBIGUOUS' })
  })
})
