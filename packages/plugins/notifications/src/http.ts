import { isDuration, KiteError, parseDuration, type RunContext, z } from '@kite/sdk'

/** An http(s) URL; webhook URLs usually come from a secret: `{{ secret('SLACK_WEBHOOK') }}`. */
export const webhookUrl = (service: string) =>
  z
    .url({ protocol: /^https?$/, error: 'must be an http or https URL' })
    .describe(
      `The ${service} webhook URL. It grants posting rights: keep it in a secret, e.g. \`{{ secret('WEBHOOK_URL') }}\`.`,
    )

export const requestTimeoutProperty = z
  .string()
  .refine(isDuration, 'must be an ISO-8601 duration such as PT30S')
  .default('PT30S')
  .describe('How long to wait for the server to answer (ISO-8601 duration).')

/** A JSON object given as a mapping, or as JSON text. */
export const jsonObject = z.union([z.record(z.string(), z.unknown()), z.string()])

export const responseOutputs = z.object({
  code: z.number().int().describe('The HTTP status code of the answer.'),
  body: z.string().describe('The body of the answer, as text.'),
})

/** Parses a `payload`-like property given as JSON text or a mapping. */
export function toJsonObject(
  value: Record<string, unknown> | string | undefined,
  name: string,
): Record<string, unknown> {
  if (value === undefined) return {}
  if (typeof value !== 'string') return value
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch (error) {
    throw new KiteError(`\`${name}\` is not valid JSON: ${(error as Error).message}`, {
      code: 'PAYLOAD_INVALID',
      kind: 'user',
      cause: error,
    })
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new KiteError(`\`${name}\` must be a JSON object`, {
      code: 'PAYLOAD_INVALID',
      kind: 'user',
    })
  }
  return { ...parsed }
}

export interface HttpRequest {
  /** Names the service in messages: "Slack", "webhook"… */
  service: string
  url: string
  method?: string
  headers?: Record<string, string>
  body?: string
  timeout: string
}

const EXCERPT = 500

/**
 * Sends one request and returns the answer; a non-2xx answer, no answer or a timeout fails with
 * a message naming the host (never the whole URL: webhook URLs carry their token in the path).
 */
export async function sendHttp(
  ctx: RunContext,
  request: HttpRequest,
): Promise<{ code: number; body: string }> {
  const milliseconds = parseDuration(request.timeout)
  const host = new URL(request.url).host
  const method = request.method ?? 'POST'
  const timeout = AbortSignal.timeout(milliseconds)
  let response: Response
  try {
    response = await fetch(request.url, {
      method,
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.any([ctx.signal, timeout]),
    })
  } catch (error) {
    if (ctx.signal.aborted) {
      throw new KiteError(`the request to ${host} was stopped (timeout or kill)`, {
        code: 'ABORTED',
        kind: 'user',
        cause: error,
      })
    }
    if (timeout.aborted) {
      throw new KiteError(
        `the ${request.service} server ${host} did not answer within ${request.timeout}`,
        { code: 'WEBHOOK_TIMEOUT', kind: 'operational', cause: error },
      )
    }
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : ''
    throw new KiteError(
      `could not reach the ${request.service} server ${host}: ${cause || (error as Error).message}`,
      { code: 'WEBHOOK_UNREACHABLE', kind: 'operational', cause: error },
    )
  }
  const body = await response.text()
  if (!response.ok) {
    const excerpt = body.length > EXCERPT ? `${body.slice(0, EXCERPT)}…` : body
    throw new KiteError(
      `the ${request.service} server ${host} answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''} to ${method}${excerpt.trim() ? `: ${excerpt.trim()}` : ''}`,
      {
        code: 'WEBHOOK_FAILED',
        kind: response.status >= 500 ? 'operational' : 'user',
      },
    )
  }
  ctx.logger.info(`${request.service}: ${method} to ${host} answered ${response.status}`)
  return { code: response.status, body }
}

/** Posts a JSON document. */
export function postJson(
  ctx: RunContext,
  request: Omit<HttpRequest, 'body' | 'method'> & { json: unknown },
): Promise<{ code: number; body: string }> {
  return sendHttp(ctx, {
    ...request,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...request.headers },
    body: JSON.stringify(request.json),
  })
}
