import { KiteError, type RunContext } from '@kite/sdk'
import { postJson, toJsonObject } from './http.js'

/** The error a chat message task raises when it is given nothing to post. */
export function nothingToSend(what: string): KiteError {
  return new KiteError(`nothing to send: ${what}`, { code: 'PAYLOAD_INVALID', kind: 'user' })
}

/** Posts a chat message to the webhook a task's `url` and `requestTimeout` properties name. */
export function postMessage(
  ctx: RunContext,
  service: string,
  props: { url: string; requestTimeout: string },
  json: Record<string, unknown>,
): Promise<{ code: number; body: string }> {
  return postJson(ctx, { service, url: props.url, json, timeout: props.requestTimeout })
}

/** A chat task's `payload` property (a mapping or JSON text) as a fresh object. */
export function messagePayload(payload: Record<string, unknown> | string | undefined) {
  return toJsonObject(payload, 'payload')
}
