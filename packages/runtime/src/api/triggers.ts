import { z } from '@hono/zod-openapi'
import { errorAnswer, jsonAnswer, type RouteContext, resource } from './router.js'
import { Trigger, TriggerParams } from './schemas.js'

const { route, router } = resource('Triggers')

const list = route('get', '/triggers', {
  summary: 'List triggers with their state',
  description:
    'Every trigger of every saved flow (latest revision): next date, last evaluation, last firing and execution, last error, and the plugin state (cursor).',
  request: {
    query: z.object({
      namespace: z.string().optional().openapi({ description: 'Namespace (and below).' }),
      flowId: z.string().optional().openapi({ description: 'Flow id.' }),
    }),
  },
  responses: {
    200: jsonAnswer(
      z.object({ results: z.array(Trigger), total: z.number().int() }),
      'The triggers.',
    ),
  },
})

const action = (name: 'enable' | 'disable' | 'reset', summary: string, description: string) =>
  route('post', `/triggers/{namespace}/{flowId}/{triggerId}/${name}`, {
    summary,
    description,
    request: { params: TriggerParams },
    responses: {
      200: jsonAnswer(Trigger, 'The trigger with its state.'),
      404: errorAnswer('No such flow or trigger.'),
    },
  })

const enable = action(
  'enable',
  'Enable a trigger',
  'Turns a trigger the API disabled back on (a trigger disabled in the flow YAML stays off).',
)
const disable = action(
  'disable',
  'Disable a trigger',
  'Stops evaluating the trigger (a disabled webhook answers 404) until it is enabled again.',
)
const reset = action(
  'reset',
  'Reset a trigger',
  'Forgets its state: next date (a schedule starts over from now), errors, and the plugin cursor.',
)

/** `/triggers`: every trigger of the saved flows with its state, and enable/disable/reset. */
export function createTriggerRoutes(context: RouteContext) {
  const scheduler = () => context.runtime.scheduler
  return router()
    .openapi(list, async (c) => {
      const { namespace, flowId } = c.req.valid('query')
      const results = await scheduler().list({
        ...(namespace ? { namespace } : {}),
        ...(flowId ? { flowId } : {}),
      })
      return c.json({ results, total: results.length }, 200)
    })
    .openapi(enable, async (c) => {
      const { namespace, flowId, triggerId } = c.req.valid('param')
      return c.json(await scheduler().setEnabled(namespace, flowId, triggerId, true), 200)
    })
    .openapi(disable, async (c) => {
      const { namespace, flowId, triggerId } = c.req.valid('param')
      return c.json(await scheduler().setEnabled(namespace, flowId, triggerId, false), 200)
    })
    .openapi(reset, async (c) => {
      const { namespace, flowId, triggerId } = c.req.valid('param')
      return c.json(await scheduler().reset(namespace, flowId, triggerId), 200)
    })
}
