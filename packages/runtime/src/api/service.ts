import { z } from '@hono/zod-openapi'
import { createOpenApiDocument, type OpenApiDocument } from './openapi.js'
import { jsonAnswer, type RouteContext, resource } from './router.js'
import { API_PREFIX } from './routes.js'

const { route, router } = resource('Service')

const index = route('get', '/', {
  summary: 'This API: its routes and links',
  responses: {
    200: jsonAnswer(
      z
        .object({
          name: z.string(),
          version: z.string(),
          links: z.record(z.string(), z.string()),
          routes: z.array(
            z.object({ method: z.string(), path: z.string(), summary: z.string().optional() }),
          ),
        })
        .openapi('ApiIndex'),
      'Where to go next.',
    ),
  },
})

const health = route('get', '/health', {
  summary: 'Health check',
  responses: {
    200: jsonAnswer(
      z
        .object({ status: z.literal('UP'), version: z.string(), plugins: z.number().int() })
        .openapi('Health'),
      'The runtime is up.',
    ),
  },
})

const openapi = route('get', '/openapi.json', {
  summary: 'This OpenAPI 3.1 document',
  responses: { 200: jsonAnswer(z.record(z.string(), z.unknown()), 'OpenAPI 3.1') },
})

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const

/** `/api/v1` itself, `/health` and `/openapi.json`. */
export function createServiceRoutes(context: RouteContext) {
  let document: OpenApiDocument | undefined
  const documentOf = (): OpenApiDocument => {
    document ??= createOpenApiDocument(context.version ?? 'unknown')
    return document
  }
  return router()
    .openapi(index, (c) => {
      const routes = Object.entries(documentOf().paths ?? {}).flatMap(([path, item]) =>
        METHODS.flatMap((method) => {
          const operation = item?.[method]
          if (!operation) return []
          return [
            {
              method: method.toUpperCase(),
              path,
              ...(operation.summary ? { summary: operation.summary } : {}),
            },
          ]
        }),
      )
      const links = {
        self: API_PREFIX,
        openapi: `${API_PREFIX}/openapi.json`,
        health: `${API_PREFIX}/health`,
        flows: `${API_PREFIX}/flows`,
        executions: `${API_PREFIX}/executions`,
        plugins: `${API_PREFIX}/plugins`,
        triggers: `${API_PREFIX}/triggers`,
      }
      return c.json(
        { name: 'Kite runtime API', version: context.version ?? 'unknown', links, routes },
        200,
      )
    })
    .openapi(health, (c) =>
      c.json(
        {
          status: 'UP' as const,
          version: context.version ?? 'unknown',
          plugins: context.runtime.catalog.list().length,
        },
        200,
      ),
    )
    .openapi(openapi, (c) => c.json(documentOf(), 200))
}
