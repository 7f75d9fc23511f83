import { deserialize, serialize } from 'node:v8'

/**
 * How messages cross a sandbox process's IPC channel. The channel is Node's `json` one: a
 * message of plain data (what nearly every call carries: properties, a run context, outputs,
 * log lines) goes as JSON, which costs each side about half what V8's serializer does (measured:
 * a round trip of a task call 118–137 µs with `serialization: 'advanced'`, 72–109 µs as JSON).
 * A message JSON would change (bytes, dates, maps, `undefined`, `NaN`, class instances, cycles)
 * goes as V8's serialization of it, in base64, so both sides see what a worker thread's
 * structured clone gives, whatever the message holds.
 */
export interface EncodedMessage {
  type: 'v8'
  data: string
}

/** Deeper than this, a value goes through V8's serializer (which also handles cycles). */
const MAX_DEPTH = 64

/** True when `JSON.parse(JSON.stringify(value))` gives back exactly `value`'s structure. */
export function isPlainJson(value: unknown, depth = 0): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0)
    case 'object': {
      if (value === null) return true
      if (depth >= MAX_DEPTH) return false
      if (Array.isArray(value)) {
        // `for` over the length: a hole reads as undefined, which JSON would turn into null.
        for (let index = 0; index < value.length; index++) {
          if (!isPlainJson(value[index], depth + 1)) return false
        }
        return true
      }
      const prototype = Object.getPrototypeOf(value)
      if (prototype !== Object.prototype && prototype !== null) return false
      for (const key in value) {
        if (!isPlainJson((value as Record<string, unknown>)[key], depth + 1)) return false
      }
      return true
    }
    default:
      // undefined, bigint, symbol, function: not JSON (V8 carries or refuses them).
      return false
  }
}

/** What to hand to `send`: the message itself, or its V8 serialization when JSON would alter it. */
export function encodeMessage<T extends object>(message: T): T | EncodedMessage {
  if (isPlainJson(message)) return message
  return { type: 'v8', data: serialize(message).toString('base64') }
}

/** The message `encodeMessage` was given, from what arrived. */
export function decodeMessage<T>(received: T | EncodedMessage): T {
  const encoded = received as Partial<EncodedMessage>
  if (encoded.type === 'v8' && typeof encoded.data === 'string') {
    return deserialize(Buffer.from(encoded.data, 'base64')) as T
  }
  return received as T
}
