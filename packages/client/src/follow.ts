import { EventSourceParserStream } from 'eventsource-parser/stream'
import { KiteClientError } from './errors.js'

/** One server-sent event of `/executions/{id}/follow`, decoded. */
export interface SseMessage {
  event: string
  data: unknown
}

/** Reads a `text/event-stream` body into decoded events until the stream ends. */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const events = body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream())
    .getReader()
  try {
    for (;;) {
      const { value, done } = await events.read()
      if (done) return
      let data: unknown
      try {
        data = JSON.parse(value.data)
      } catch (error) {
        throw new KiteClientError(`the runtime sent an event that is not JSON: ${value.data}`, {
          code: 'BAD_ANSWER',
          kind: 'internal',
          cause: error,
        })
      }
      yield { event: value.event ?? 'message', data }
    }
  } finally {
    await events.cancel().catch(() => undefined)
  }
}
