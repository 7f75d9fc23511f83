import { isDeepStrictEqual } from 'node:util'
import { deserialize, serialize } from 'node:v8'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeMessage, encodeMessage, isPlainJson } from './sandbox-codec.js'

/** What Node's `json` IPC channel does to a message on its way. */
const overJson = (message: unknown) => JSON.parse(JSON.stringify(message)) as unknown
/** What a worker thread's structured clone (and the old `advanced` channel) gives. */
const cloned = (message: unknown) => deserialize(serialize(message)) as unknown

const viaChannel = (message: object) => decodeMessage(overJson(encodeMessage(message)))

describe('the sandbox channel codec', () => {
  it('sends plain data as it is, as JSON', () => {
    const run = {
      type: 'run',
      runId: 3,
      properties: { value: 'x', nested: [1, 2.5, null, true, { a: 'b' }] },
    }
    expect(encodeMessage(run)).toBe(run)
    expect(viaChannel(run)).toEqual(run)
  })

  it('sends what JSON would alter through V8’s serializer, unchanged', () => {
    const circular: Record<string, unknown> = { name: 'loop' }
    circular.self = circular
    const messages = [
      { type: 'call', args: ['bytes.bin', new Uint8Array([0, 1, 255])] },
      { type: 'done', value: { when: new Date('2026-12-03T10:00:00Z') } },
      { type: 'done', value: { map: new Map([['a', 1]]), set: new Set([1]) } },
      { type: 'call', args: ['key', 'value', undefined] },
      { type: 'done', value: { missing: undefined } },
      { type: 'done', value: [Number.NaN, Number.POSITIVE_INFINITY, -0] },
      { type: 'done', value: { big: 10n } },
      // A sparse array: JSON would fill the hole with null.
      { type: 'done', value: Object.assign(new Array(3), { 0: 1, 2: 3 }) },
      { type: 'done', value: circular },
      {
        type: 'done',
        value: new (class Point {
          x = 1
        })(),
      },
    ]
    for (const message of messages) {
      expect(isPlainJson(message)).toBe(false)
      expect(encodeMessage(message)).toMatchObject({ type: 'v8' })
      expect(isDeepStrictEqual(viaChannel(message), cloned(message))).toBe(true)
    }
  })

  it('refuses what a structured clone refuses (functions), as before', () => {
    expect(() => encodeMessage({ type: 'done', value: { run: () => 1 } })).toThrow(
      /could not be cloned/,
    )
  })

  it('gives what a structured clone gives, for any value (property)', () => {
    fc.assert(
      fc.property(
        fc.anything({
          withDate: true,
          withMap: true,
          withSet: true,
          withTypedArray: true,
          withSparseArray: true,
          withNullPrototype: true,
          withBigInt: true,
          withObjectString: true,
        }),
        (value) => {
          const message = { type: 'done', runId: 1, value }
          expect(isDeepStrictEqual(viaChannel(message), cloned(message))).toBe(true)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('leaves alone a message that only looks encoded', () => {
    expect(decodeMessage({ type: 'v8', data: 42 })).toEqual({ type: 'v8', data: 42 })
  })
})
