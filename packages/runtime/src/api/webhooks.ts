import { z } from '@hono/zod-openapi'
import { RuntimeError } from '../errors.js'
import { startedAnswer, waitQuery } from './executions.js'
import { errorAnswer, jsonAnswer, type RouteContext, resource } from './router.js'
import { Execution } from './schemas.js'
import { isMultipart, readFormInputs } from './uploads.js'

const { route, router } = resource('Executions')

const fire = route('post', '/executions/webhook/{namespace}/{id}/{key}', {
  summary: 'Start an execution through a kite.trigger.Webhook trigger',
  request: {
    params: z.object({
      namespace: z.string().openapi({ param: { name: 'namespace', in: 'path' } }),
      id: z.string().openapi({ param: { name: 'id', in: 'path' } }),
      key: z.string().openapi({ param: { name: 'key', in: 'path' }, description: 'The key.' }),
    }),
    query: z.object({ wait: waitQuery }),
    // Any body: the flow sees what was sent (parsed when it says JSON and parses).
    body: {
      required: false,
      description:
        "Any body, read by the flow as `trigger.body`. A multipart/form-data body also gives the execution's inputs: each field an input, each file part a FILE input (stored in internal storage; its `kite:///` URI goes in `inputs`), up to executions.maxUploadBytes.",
      content: { '*/*': { schema: z.unknown() } },
    },
  },
  responses: {
    200: jsonAnswer(
      Execution,
      'The execution; the trigger variables are body (parsed when the Content-Type says JSON and it parses), headers, parameters (lists).',
    ),
    400: errorAnswer('A multipart/form-data body that does not parse.'),
    404: errorAnswer(
      'No such flow, key or enabled trigger: one answer for all, revealing nothing.',
    ),
    413: errorAnswer(
      'The body is larger than the limit (executions.maxUploadBytes for multipart/form-data; nothing is stored).',
    ),
    422: errorAnswer('Invalid inputs from a multipart/form-data body.'),
  },
})

/** `/executions/webhook/...`: the Webhook trigger's door. */
export function createWebhookRoutes(context: RouteContext) {
  return router().openapi(fire, async (c) => {
    const { namespace, id, key } = c.req.valid('param')
    const request = {
      namespace,
      flowId: id,
      key,
      headers: c.req.header(),
      parameters: c.req.queries(),
    }
    let execution: Awaited<ReturnType<typeof context.runtime.scheduler.fireWebhook>>
    if (isMultipart(c.req)) {
      // The fields are the inputs; the flow also sees them as trigger.body (a file as its name and size).
      const inputs = await readFormInputs(c.req)
      const body = JSON.parse(JSON.stringify(inputs)) as unknown
      execution = await context.runtime.scheduler.fireWebhook({ ...request, body, inputs })
    } else {
      // No Content-Length and no Transfer-Encoding, or a length of 0: no body, so no turns of the
      // event loop spent waiting for the end of an empty stream.
      const empty =
        c.req.header('transfer-encoding') === undefined &&
        (c.req.header('content-length') ?? '0') === '0'
      const text = empty ? '' : await c.req.text()
      const saysJson = (c.req.header('content-type') ?? '').includes('json')
      const body = saysJson && text !== '' ? parseJsonOrText(text) : text
      execution = await context.runtime.scheduler.fireWebhook({ ...request, body })
    }
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
