import { isDuration, KiteError, parseDuration, type RunContext, z } from '@kite/sdk'

export const Method = z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'])

export const Auth = z
  .object({
    type: z
      .enum(['basic', 'bearer'])
      .describe('`basic` (username and password) or `bearer` (token).'),
    username: z.string().optional().describe('User name, for basic.'),
    password: z.string().optional().describe("Password, for basic; use `{{ secret('NAME') }}`."),
    token: z.string().optional().describe("Token, for bearer; use `{{ secret('NAME') }}`."),
  })
  .describe(
    'Sends an `Authorization` header: `{ type: basic, username, password }` or `{ type: bearer, token }`.',
  )
export type Auth = z.infer<typeof Auth>

/** Properties shared by every type that sends a request. */
export const requestProperties = {
  uri: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .describe('The URL to call.'),
  method: Method.default('GET').describe('The HTTP method.'),
  headers: z.record(z.string(), z.string()).default({}).describe('Request headers, by name.'),
  body: z
    .unknown()
    .optional()
    .describe(
      'The request body: text is sent as is; anything else (a map, a list, a number) is sent as JSON with `Content-Type: application/json` unless `contentType` says otherwise.',
    ),
  contentType: z
    .string()
    .optional()
    .describe('The `Content-Type` of the body; overrides a `Content-Type` in `headers`.'),
  auth: Auth.optional(),
  requestTimeout: z
    .string()
    .refine(isDuration, 'must be an ISO-8601 duration such as PT10S')
    .optional()
    .describe(
      "The longest the exchange (connection, response and body) may take, as an ISO-8601 duration. The task's own `timeout` still applies to the whole task.",
    ),
}

const requestSchema = z.object(requestProperties)
export type RequestOptions = z.output<typeof requestSchema>

/**
 * Sends a request and hands the response to `consume`, mapping every failure (refused
 * connection, timeout, kill) to a KiteError naming the request. The timeout and the kill also
 * cover reading the body inside `consume`.
 */
export async function exchange<T>(
  options: RequestOptions,
  ctx: Pick<RunContext, 'signal' | 'logger' | 'metrics'>,
  consume: (response: Response) => Promise<T>,
): Promise<T> {
  const label = `${options.method} ${options.uri}`
  const timeout =
    options.requestTimeout === undefined
      ? undefined
      : AbortSignal.timeout(parseDuration(options.requestTimeout))
  const signal = timeout ? AbortSignal.any([ctx.signal, timeout]) : ctx.signal
  const started = performance.now()
  try {
    const response = await fetch(options.uri, {
      method: options.method,
      headers: requestHeaders(options),
      body: requestBody(options, label),
      signal,
    })
    ctx.logger.info(`${label} → ${response.status} ${response.statusText}`.trim())
    return await consume(response)
  } catch (error) {
    if (error instanceof KiteError) throw error
    if (timeout?.aborted) {
      throw new KiteError(
        `${label}: no complete response within ${options.requestTimeout} (requestTimeout)`,
        { code: 'REQUEST_TIMEOUT', kind: 'operational', cause: error },
      )
    }
    if (ctx.signal.aborted) {
      throw new KiteError(`${label}: stopped because the task was stopped`, {
        code: 'ABORTED',
        kind: 'user',
        cause: error,
      })
    }
    throw new KiteError(`${label} failed: ${describeFailure(error)}`, {
      code: 'REQUEST_FAILED',
      kind: 'operational',
      cause: error,
    })
  } finally {
    ctx.metrics.timer('http.request.duration', performance.now() - started)
  }
}

/** Fails with the status and an excerpt of the body when the server answered an error. */
export async function checkStatus(response: Response, options: RequestOptions): Promise<void> {
  if (response.status < 400) return
  const excerpt = bodyExcerpt(await response.text())
  throw new KiteError(
    `${options.method} ${options.uri} answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}${excerpt ? `: ${excerpt}` : ''}`,
    { code: 'HTTP_STATUS', kind: response.status < 500 ? 'user' : 'operational' },
  )
}

/** The start of a body on one line, for error messages. */
export function bodyExcerpt(text: string, length = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > length ? `${flat.slice(0, length)}…` : flat
}

export function responseHeaders(response: Response): Record<string, string> {
  return Object.fromEntries(response.headers)
}

function requestHeaders(options: RequestOptions): Headers {
  const headers = new Headers(options.headers)
  if (
    options.body !== undefined &&
    typeof options.body !== 'string' &&
    !headers.has('content-type')
  ) {
    headers.set('content-type', 'application/json')
  }
  if (options.contentType !== undefined) headers.set('content-type', options.contentType)
  if (options.auth) headers.set('authorization', authorization(options.auth))
  return headers
}

function requestBody(options: RequestOptions, label: string): string | undefined {
  if (options.body === undefined || options.body === null) return undefined
  if (options.method === 'GET' || options.method === 'HEAD') {
    throw new KiteError(`${label}: a ${options.method} request cannot have a body`, {
      code: 'PROPERTIES_INVALID',
      kind: 'user',
    })
  }
  return typeof options.body === 'string' ? options.body : JSON.stringify(options.body)
}

function authorization(auth: Auth): string {
  if (auth.type === 'basic') {
    if (auth.username === undefined || auth.password === undefined) {
      throw new KiteError('auth: basic authentication needs `username` and `password`', {
        code: 'PROPERTIES_INVALID',
        kind: 'user',
      })
    }
    return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`
  }
  if (!auth.token) {
    throw new KiteError('auth: bearer authentication needs a `token`', {
      code: 'PROPERTIES_INVALID',
      kind: 'user',
    })
  }
  return `Bearer ${auth.token}`
}

/** fetch() hides the reason (refused, DNS…) in `cause`. */
function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const cause = error.cause
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code
    return code ? `${cause.message} (${code})` : cause.message
  }
  return error.message
}
