import { defineTask, KiteError, z } from '@kite/sdk'
import {
  bodyExcerpt,
  checkStatus,
  exchange,
  requestProperties,
  responseHeaders,
} from './exchange.js'
import { responseFileName, storeBody } from './store-body.js'

export const ResponseType = z.enum(['AUTO', 'TEXT', 'JSON'])
export const ResponseFetchType = z.enum(['FETCH', 'STORE', 'NONE'])

export const request = defineTask({
  name: 'Request',
  title: 'HTTP request',
  description:
    'Sends an HTTP request and returns the status, headers and body. The body is returned inline as `body` (parsed as JSON or kept as text), or stored in internal storage as `uri` for large or binary responses — never both. A status of 400 or more fails the task unless `allowFailed` is set.',
  properties: z.object({
    ...requestProperties,
    responseType: ResponseType.default('AUTO').describe(
      'How to read an inline body: AUTO parses JSON when the response says it is JSON and keeps text otherwise, TEXT always keeps text, JSON always parses (and fails if it is not JSON).',
    ),
    fetchType: ResponseFetchType.default('FETCH').describe(
      'FETCH returns the body inline as `body`, STORE writes it to internal storage and returns its `uri`, NONE discards it (only `code`, `headers` and `size`).',
    ),
    allowFailed: z
      .boolean()
      .default(false)
      .describe('Succeed even when the status is 400 or more (check `code` yourself).'),
  }),
  outputs: z
    .object({
      code: z.number().int().describe('The HTTP status code.'),
      headers: z
        .record(z.string(), z.string())
        .describe('Response headers, names in lower case; repeated headers joined with ", ".'),
      body: z
        .unknown()
        .optional()
        .describe('The body (FETCH): parsed JSON, or text. Absent with STORE and NONE.'),
      uri: z
        .string()
        .optional()
        .describe('The `kite:///` URI of the stored body (STORE). Absent with FETCH and NONE.'),
      size: z.number().int().describe('The size of the body in bytes.'),
    })
    .meta({ exclusive: [['body', 'uri']] }),
  examples: [
    { title: 'Get JSON', code: 'uri: https://api.example.com/v1/items?limit=10' },
    {
      title: 'Post JSON with a bearer token',
      code: [
        'uri: https://api.example.com/v1/items',
        'method: POST',
        'body:',
        '  name: "{{ inputs.name }}"',
        'auth:',
        '  type: bearer',
        '  token: "{{ secret(\'API_TOKEN\') }}"',
        'requestTimeout: PT30S',
      ].join('\n'),
    },
    {
      title: 'Store a large response',
      code: 'uri: https://example.com/export.ndjson\nfetchType: STORE',
    },
  ],
  async run(props, ctx) {
    return exchange(props, ctx, async (response) => {
      if (!props.allowFailed) await checkStatus(response, props)
      const common = { code: response.status, headers: responseHeaders(response) }
      if (props.fetchType === 'STORE') {
        const stored = await storeBody(
          response,
          ctx,
          responseFileName(response, props.uri, 'response'),
        )
        return { ...common, ...stored }
      }
      const bytes = new Uint8Array(await response.arrayBuffer())
      if (props.fetchType === 'NONE') return { ...common, size: bytes.byteLength }
      const text = new TextDecoder().decode(bytes)
      const body = readBody(text, props.responseType, response, `${props.method} ${props.uri}`)
      return { ...common, body, size: bytes.byteLength }
    })
  },
})

function readBody(
  text: string,
  responseType: z.infer<typeof ResponseType>,
  response: Response,
  label: string,
): unknown {
  if (responseType === 'TEXT') return text
  const contentType = response.headers.get('content-type') ?? ''
  const looksJson = /[/+]json\b/i.test(contentType)
  if (responseType === 'AUTO' && (!looksJson || text.trim() === '')) return text
  try {
    return JSON.parse(text)
  } catch (error) {
    if (responseType === 'AUTO') return text
    throw new KiteError(
      `${label}: the body is not JSON (responseType: JSON; content type "${contentType || 'none'}"): ${bodyExcerpt(text, 100)}`,
      { code: 'RESPONSE_NOT_JSON', kind: 'user', cause: error },
    )
  }
}
