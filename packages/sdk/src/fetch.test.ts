import { describe, expect, it } from 'vitest'
import { fetchOutputs, guardOutputs, toFetchOutputs } from './fetch.js'
import { outputsJsonSchema } from './json-schema.js'

const storage = { storage: { put: async (name: string) => `kite:///ns/f/executions/1/t/${name}` } }
const schema = outputsJsonSchema(fetchOutputs())

describe('toFetchOutputs', () => {
  const rows = [{ id: 1 }, { id: 2 }]
  it.each([
    ['FETCH_ONE', { value: { id: 1 }, size: 1 }],
    ['FETCH', { value: rows, size: 2 }],
    ['NONE', { size: 2 }],
    ['STORE', { uri: 'kite:///ns/f/executions/1/t/rows.jsonl', size: 2 }],
  ] as const)('%s', async (fetchType, expected) => {
    expect(await toFetchOutputs(fetchType, rows, storage as never)).toEqual(expected)
  })

  it('FETCH_ONE of nothing is null with size 0', async () => {
    expect(await toFetchOutputs('FETCH_ONE', [], storage as never)).toEqual({
      value: null,
      size: 0,
    })
  })
})

describe('guardOutputs', () => {
  it('carries the exclusive groups in the JSON Schema', () => {
    expect(schema.$exclusive).toEqual([['value', 'uri']])
  })

  it('makes reading the absent member an error naming the present one', () => {
    const guarded = guardOutputs({ value: [1], size: 1 }, schema, 'query')
    expect(guarded.value).toEqual([1])
    expect(() => guarded.uri).toThrow(
      'outputs.query.uri does not exist: it produced "value" instead',
    )
    expect(JSON.stringify(guarded)).toBe('{"value":[1],"size":1}')
  })

  it('names both when neither exists', () => {
    const guarded = guardOutputs({ size: 0 }, schema, 'q')
    expect(() => guarded.value).toThrow('it produced none of "value", "uri"')
  })

  it('leaves outputs without exclusive groups as they are', () => {
    const outputs = { a: 1 }
    expect(guardOutputs(outputs, { type: 'object' }, 'x')).toBe(outputs)
  })
})
