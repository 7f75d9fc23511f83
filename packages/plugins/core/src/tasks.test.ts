import { invokeTask } from '@kite/sdk/host'
import { createTestContext, runTask } from '@kite/sdk/testing'
import { describe, expect, it } from 'vitest'
import { debugReturn } from './debug-return.js'
import { fail, labels } from './execution.js'
import { log } from './log.js'
import { outputValues } from './output-values.js'
import { sleep } from './sleep.js'

describe('log.Log', () => {
  it('logs one message at INFO by default', async () => {
    const { logs } = await runTask(
      log,
      { message: 'Hello {{ inputs.name }}' },
      { inputs: { name: 'Ada' } },
    )
    expect(logs).toEqual([{ level: 'info', message: 'Hello Ada' }])
  })

  it('logs each message of a list at the given level, masking secrets', async () => {
    const { logs } = await runTask(
      log,
      { level: 'WARN', message: ['first', "token {{ secret('TOKEN') }}"] },
      { secrets: { TOKEN: 's3cr3t' } },
    )
    expect(logs).toEqual([
      { level: 'warn', message: 'first' },
      { level: 'warn', message: 'token ******' },
    ])
  })

  it('refuses an unknown level', async () => {
    await expect(runTask(log, { level: 'LOUD', message: 'x' })).rejects.toThrow(/level:/)
  })
})

describe('debug.Return', () => {
  it('returns the rendered text', async () => {
    const { outputs } = await runTask(
      debugReturn,
      { format: '{{ inputs.a }}-{{ inputs.b }}' },
      { inputs: { a: 'x', b: 2 } },
    )
    expect(outputs).toEqual({ value: 'x-2' })
  })

  it('turns native values into text', async () => {
    const number = await runTask(debugReturn, { format: '{{ 40 + 2 }}' })
    expect(number.outputs.value).toBe('42')
    const list = await runTask(
      debugReturn,
      { format: '{{ inputs.items }}' },
      { inputs: { items: [1, 'a'] } },
    )
    expect(list.outputs.value).toBe('[1,"a"]')
  })
})

describe('output.OutputValues', () => {
  it('outputs the values with their native types', async () => {
    const { outputs } = await runTask(
      outputValues,
      { values: { count: '{{ inputs.n * 2 }}', name: 'report', tags: ['a', '{{ inputs.tag }}'] } },
      { inputs: { n: 21, tag: 'b' } },
    )
    expect(outputs.values).toEqual({ count: 42, name: 'report', tags: ['a', 'b'] })
  })
})

describe('execution.Fail', () => {
  it('fails with the message', async () => {
    await expect(
      runTask(
        fail,
        { errorMessage: 'no rows for {{ inputs.day }}' },
        { inputs: { day: 'monday' } },
      ),
    ).rejects.toMatchObject({
      message: 'no rows for monday',
      code: 'EXECUTION_FAILED',
      kind: 'user',
    })
  })

  it('fails with a default message', async () => {
    await expect(runTask(fail)).rejects.toThrow('Task failure')
  })

  it('only fails when its condition is true', async () => {
    const { logs } = await runTask(
      fail,
      { condition: '{{ inputs.rows == 0 }}' },
      { inputs: { rows: 3 } },
    )
    expect(logs[0]?.message).toMatch(/not failing/)
    await expect(
      runTask(
        fail,
        { condition: '{{ inputs.rows == 0 }}', errorMessage: 'empty' },
        { inputs: { rows: 0 } },
      ),
    ).rejects.toThrow('empty')
  })
})

describe('execution.Labels', () => {
  it('outputs a map of labels as text', async () => {
    const { outputs } = await runTask(
      labels,
      { labels: { customer: '{{ inputs.customer }}', rows: '{{ inputs.rows }}', vip: true } },
      { inputs: { customer: 'acme', rows: 12 } },
    )
    expect(outputs.labels).toEqual({ customer: 'acme', rows: '12', vip: 'true' })
  })

  it('takes a list of key/value entries', async () => {
    const { outputs } = await runTask(labels, {
      labels: [
        { key: 'env', value: 'prod' },
        { key: 'team', value: 'data' },
      ],
    })
    expect(outputs.labels).toEqual({ env: 'prod', team: 'data' })
  })

  it('refuses no labels and empty keys', async () => {
    await expect(runTask(labels, { labels: {} })).rejects.toMatchObject({ code: 'LABELS_EMPTY' })
    await expect(runTask(labels, { labels: [{ key: '', value: 'x' }] })).rejects.toThrow(
      /invalid properties/,
    )
  })
})

describe('flow.Sleep', () => {
  it('waits for the duration', async () => {
    const started = Date.now()
    await runTask(sleep, { duration: 'PT0.1S' })
    expect(Date.now() - started).toBeGreaterThanOrEqual(95)
  })

  it('stops waiting when the signal aborts', async () => {
    const context = await createTestContext({ type: 'kite.core.flow.Sleep' })
    const running = invokeTask(sleep, { duration: 'PT30S' }, context.ctx)
    setTimeout(() => context.abort('killed by a test'), 50)
    const started = Date.now()
    await expect(running).rejects.toMatchObject({
      code: 'ABORTED',
      message: 'sleep interrupted: killed by a test',
    })
    expect(Date.now() - started).toBeLessThan(5000)
    await context.cleanup()
  })

  it('fails on timeout', async () => {
    await expect(
      runTask(sleep, { duration: 'PT30S' }, { timeout: 'PT0.1S' }),
    ).rejects.toMatchObject({ code: 'TIMEOUT' })
  })

  it('refuses a duration that is not ISO-8601', async () => {
    await expect(runTask(sleep, { duration: '10 seconds' })).rejects.toThrow(
      /duration: must be an ISO-8601 duration/,
    )
  })
})
