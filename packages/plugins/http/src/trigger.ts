import { createHash } from 'node:crypto'
import { defineTrigger, KiteError, z } from '@kite/sdk'
import { exchange, requestProperties, responseHeaders } from './exchange.js'

export const trigger = defineTrigger({
  name: 'Trigger',
  title: 'HTTP polling trigger',
  description:
    'Calls a URL at every poll and starts the flow when `responseCondition` renders to `true` for the response. The condition sees `response.code`, `response.body` (text) and `response.headers`. With `onlyOnChange`, it fires again only when the response differs from the one that last fired.',
  properties: z.object({
    ...requestProperties,
    responseCondition: z
      .string()
      .min(1)
      .default('{{ response.code < 400 }}')
      .meta({ dynamic: false })
      .describe(
        'A `{{ }}` template rendered with `response` after each call; the trigger fires when it renders to `true`.',
      ),
    onlyOnChange: z
      .boolean()
      .default(false)
      .describe(
        'Fire only when the response (status and body) differs from the one that fired last.',
      ),
  }),
  outputs: z.object({
    code: z.number().int().describe('The HTTP status code.'),
    body: z.string().describe('The response body, as text.'),
    headers: z.record(z.string(), z.string()).describe('Response headers, names in lower case.'),
  }),
  interval: 'PT1M',
  examples: [
    { title: 'Fire when a service is up', code: 'uri: https://status.example.com/health' },
    {
      title: 'Fire when a job reports done, once per change',
      code: [
        'uri: https://ci.example.com/api/jobs/42',
        'responseCondition: "{{ response.code == 200 and \'done\' in response.body }}"',
        'onlyOnChange: true',
      ].join('\n'),
    },
  ],
  async poll(props, ctx) {
    const response = await exchange(props, ctx, async (answer) => ({
      code: answer.status,
      body: await answer.text(),
      headers: responseHeaders(answer),
    }))
    const text = await ctx.render(props.responseCondition, { response })
    if (!renderedBoolean(text, props.responseCondition)) return []
    const hash = createHash('sha256').update(`${response.code}\n${response.body}`).digest('hex')
    if (props.onlyOnChange && (await ctx.state.get<string>('lastHash')) === hash) {
      ctx.logger.debug('the response has not changed since the trigger last fired')
      return []
    }
    await ctx.state.set('lastHash', hash)
    return [response]
  },
})

function renderedBoolean(text: string, template: string): boolean {
  const value = text.trim().toLowerCase()
  if (value === 'true') return true
  if (value === 'false' || value === '') return false
  throw new KiteError(
    `responseCondition "${template}" rendered to "${text.slice(0, 80)}", not true or false`,
    { code: 'NOT_A_BOOLEAN', kind: 'user' },
  )
}
