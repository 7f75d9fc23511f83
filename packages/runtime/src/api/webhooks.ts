import { createRoute, z } from '@hono/zod-openapi'
import { RuntimeError } from '../errors.js'
import { startedAnswer, waitQuery } from './executions.js'
import { createRouter, errorAnswer, jsonAnswer, type RouteContext } from './router.js'
import { Execution } from './schemas.js'

const fire = createRoute({
  method: 'post',
  path: '/executions/webhook/{namespace}/{id}/{key}',
  tags: ['Executions'],
  summary: 'Start an execution through a kite.trigger.Webhook trigger',
  request: {
    params: z.object({
      namespace: z.string().openapi({ param: { name: 'namespace', in: 'path' } }),
      id: z.string().openapi({ param: { name: 'id', in: 'path' } }),
      key: z.string().openapi({ param: { name: 'key', in: 'path' }, description: 'The key.' }),
    }),
    query: z.object({ wait: waitQuery }),
    // Any body: the flow sees what was sent (parsed when it says JSON and parses).
    body: { required: false, content: { '*/*': { schema: z.unknown() } } },
  },
  responses: {
    200: jsonAnswer(
      Execution,
      'The execution; the trigger variables are body (parsed when the Content-Type says JSON and it parses), headers, parameters (lists).',
    ),
    404: errorAnswer(
      'No such flow, key or enabled trigger: one answer for all, revealing nothing.',
    ),
    413: errorAnswer('The body is larger than the limit.'),
  },
})

/** `/executions/webhook/...`: the Webhook trigger's door. */
export function createWebhookRoutes(context: RouteContext) {
  return createRouter().openapi(fire, async (c) => {
    const { namespace, id, key } = c.req.valid('param')
    const text = await c.req.text()
    const saysJson = (c.req.header('content-type') ?? '').includes('json')
    const execution = await context.runtime.scheduler.fireWebhook({
      namespace,
      flowId: id,
      key,
      body: saysJson && text !== '' ? parseJsonOrText(text) : text,
      headers: c.req.header(),
      parameters: c.req.queries(),
    })
    // The same answer for an unknown flow, an unknown key and a disabled trigger: it reveals nothing.
    if (!execution) throw new RuntimeError('webhook not found', { code: 'NOT_FOUND' })
    return c.json(await startedAnswer(context, c.req.valid('query').wait, execution), 200)
  })
}

/** A body that says JSON but is not stays text. */
function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
