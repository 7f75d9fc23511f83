import { defineTask, KiteError, z } from '@kite/sdk'
import { requestTimeoutProperty, responseOutputs, sendHttp } from './http.js'

export const webhook = defineTask({
  name: 'Webhook',
  title: 'Call a webhook',
  description:
    'Sends one HTTP request to any webhook: a JSON document (`json`) or text (`body`), with headers. Any answer outside 2xx fails the task with its status and the start of its body.',
  properties: z.object({
    url: z
      .url({ protocol: /^https?$/, error: 'must be an http or https URL' })
      .describe('The URL to call; keep URLs that carry a token in a secret.'),
    method: z
      .enum(['POST', 'PUT', 'PATCH', 'DELETE', 'GET'])
      .default('POST')
      .describe('The HTTP method.'),
    headers: z
      .record(z.string(), z.string())
      .default({})
      .describe('Request headers, e.g. `Authorization: "Bearer {{ secret(\'TOKEN\') }}"`.'),
    json: z
      .unknown()
      .optional()
      .describe('A JSON body (sent with `content-type: application/json`). Set this or `body`.'),
    body: z
      .string()
      .optional()
      .describe(
        'A text body, sent as it is (set `content-type` in `headers`). Set this or `json`.',
      ),
    requestTimeout: requestTimeoutProperty,
  }),
  outputs: responseOutputs,
  examples: [
    {
      title: 'Post JSON with a token',
      code: `url: https://hooks.example.com/deploy
headers:
  Authorization: "Bearer {{ secret('DEPLOY_TOKEN') }}"
json:
  service: api
  version: "{{ inputs.version }}"`,
    },
    {
      title: 'Ping a health-check URL',
      code: `url: "{{ secret('HEALTHCHECK_URL') }}"
method: GET`,
    },
  ],
  async run(props, ctx) {
    if (props.json !== undefined && props.body !== undefined) {
      throw new KiteError('set either `json` or `body`, not both', {
        code: 'PAYLOAD_INVALID',
        kind: 'user',
      })
    }
    const hasBody = props.json !== undefined || props.body !== undefined
    if (hasBody && props.method === 'GET') {
      throw new KiteError(
        'a GET request cannot carry a body: use POST, or leave out `json`/`body`',
        {
          code: 'PAYLOAD_INVALID',
          kind: 'user',
        },
      )
    }
    const headers = { ...props.headers }
    const hasContentType = Object.keys(headers).some(
      (name) => name.toLowerCase() === 'content-type',
    )
    if (props.json !== undefined && !hasContentType) headers['content-type'] = 'application/json'
    return sendHttp(ctx, {
      service: 'webhook',
      url: props.url,
      method: props.method,
      headers,
      body: props.json !== undefined ? JSON.stringify(props.json) : props.body,
      timeout: props.requestTimeout,
    })
  },
})
