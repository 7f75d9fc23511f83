import type { Hono } from 'hono'
import type { Runtime } from '../runtime.js'

/**
 * `/api/v1/triggers`: every trigger of the saved flows with its state, and the actions on one
 * (`enable`, `disable`, `reset`). Errors go through the API's error handler.
 */
export function registerTriggerRoutes(api: Hono, runtime: Runtime): void {
  const { scheduler } = runtime

  api.get('/triggers', async (c) => {
    const namespace = c.req.query('namespace') || undefined
    const flowId = c.req.query('flowId') || undefined
    const results = await scheduler.list({
      ...(namespace ? { namespace } : {}),
      ...(flowId ? { flowId } : {}),
    })
    return c.json({ results, total: results.length })
  })

  api.post('/triggers/:namespace/:flowId/:triggerId/enable', async (c) => {
    const { namespace, flowId, triggerId } = c.req.param()
    return c.json(await scheduler.setEnabled(namespace, flowId, triggerId, true))
  })

  api.post('/triggers/:namespace/:flowId/:triggerId/disable', async (c) => {
    const { namespace, flowId, triggerId } = c.req.param()
    return c.json(await scheduler.setEnabled(namespace, flowId, triggerId, false))
  })

  api.post('/triggers/:namespace/:flowId/:triggerId/reset', async (c) => {
    const { namespace, flowId, triggerId } = c.req.param()
    return c.json(await scheduler.reset(namespace, flowId, triggerId))
  })
}

/** The trigger routes, for the OpenAPI document and the test that checks it. */
export const TRIGGER_API_ROUTES: ReadonlyArray<readonly [method: string, path: string]> = [
  ['get', '/api/v1/triggers'],
  ['post', '/api/v1/triggers/{namespace}/{flowId}/{triggerId}/enable'],
  ['post', '/api/v1/triggers/{namespace}/{flowId}/{triggerId}/disable'],
  ['post', '/api/v1/triggers/{namespace}/{flowId}/{triggerId}/reset'],
]

type Json = string | number | boolean | null | Json[] | { [key: string]: Json }

const dateTime: Json = { type: 'string', format: 'date-time' }
const TRIGGER_SCHEMA: Json = {
  type: 'object',
  required: ['namespace', 'flowId', 'flowRevision', 'triggerId', 'type', 'kind', 'enabled'],
  properties: {
    namespace: { type: 'string' },
    flowId: { type: 'string' },
    flowRevision: { type: 'integer' },
    triggerId: { type: 'string' },
    type: {
      type: 'string',
      description:
        'kite.trigger.Schedule, kite.trigger.Webhook, kite.trigger.Flow or a plugin trigger type.',
    },
    kind: { type: 'string', enum: ['schedule', 'webhook', 'flow', 'plugin'] },
    version: { type: 'string', description: 'The resolved plugin version (plugin triggers).' },
    enabled: { type: 'boolean', description: 'False when disabled through the API.' },
    flowDisabled: {
      type: 'boolean',
      description: 'True when the flow or the trigger says `disabled: true`.',
    },
    cron: { type: 'string' },
    timezone: { type: 'string' },
    interval: { type: 'string', description: 'ISO-8601 polling interval (plugin triggers).' },
    nextDate: { ...(dateTime as object), description: 'The next schedule date or poll.' },
    lastEvaluation: dateTime,
    lastFired: dateTime,
    lastExecutionId: { type: 'string' },
    lastError: {
      type: 'object',
      properties: { date: dateTime, message: { type: 'string' } },
    },
    failures: { type: 'integer', description: 'Consecutive failed evaluations.' },
    state: { type: 'object', description: "The plugin trigger's `ctx.state`, by key." },
    problem: { type: 'string', description: 'Why the trigger cannot be evaluated.' },
  },
}
const errorAnswer = (description: string): Json => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
})
const triggerParams: Json[] = ['namespace', 'flowId', 'triggerId'].map((name) => ({
  name,
  in: 'path',
  required: true,
  schema: { type: 'string' },
}))
const action = (summary: string, description: string): Json => ({
  post: {
    summary,
    description,
    parameters: triggerParams,
    responses: {
      '200': {
        description: 'The trigger with its state.',
        content: { 'application/json': { schema: TRIGGER_SCHEMA } },
      },
      '404': errorAnswer('No such flow or trigger.'),
    },
  },
})

/** The OpenAPI paths of the trigger routes. */
export const TRIGGER_OPENAPI_PATHS: Record<string, Json> = {
  '/api/v1/triggers': {
    get: {
      summary: 'List triggers with their state',
      description:
        'Every trigger of every saved flow (latest revision): next date, last evaluation, last firing and execution, last error, and the plugin state (cursor).',
      parameters: ['namespace', 'flowId'].map((name) => ({
        name,
        in: 'query',
        required: false,
        schema: { type: 'string' },
      })),
      responses: {
        '200': {
          description: 'The triggers.',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  results: { type: 'array', items: TRIGGER_SCHEMA },
                  total: { type: 'integer' },
                },
              },
            },
          },
        },
      },
    },
  },
  '/api/v1/triggers/{namespace}/{flowId}/{triggerId}/enable': action(
    'Enable a trigger',
    'Turns a trigger the API disabled back on (a trigger disabled in the flow YAML stays off).',
  ),
  '/api/v1/triggers/{namespace}/{flowId}/{triggerId}/disable': action(
    'Disable a trigger',
    'Stops evaluating the trigger (a disabled webhook answers 404) until it is enabled again.',
  ),
  '/api/v1/triggers/{namespace}/{flowId}/{triggerId}/reset': action(
    'Reset a trigger',
    'Forgets its state: next date (a schedule starts over from now), errors, and the plugin cursor.',
  ),
}
