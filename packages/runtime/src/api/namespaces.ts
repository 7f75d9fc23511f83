import { z } from '@hono/zod-openapi'
import { Namespace } from '../flow/flow-schema.js'
import { checkAdmin, errorAnswer, jsonAnswer, type RouteContext, resource } from './router.js'
import { PluginDefaults } from './schemas.js'

const { route, adminRoute, router } = resource('Namespaces')
const params = z.object({
  namespace: Namespace.openapi({
    param: { name: 'namespace', in: 'path' },
    description: 'A namespace (dotted lower-case segments).',
  }),
})
const entries = z.array(z.record(z.string(), z.unknown()))

const get = route('get', '/namespaces/{namespace}/plugin-defaults', {
  summary: "A namespace's plugin defaults",
  request: { params },
  responses: { 200: jsonAnswer(PluginDefaults, 'The defaults (resolution level 3).') },
})

const put = adminRoute('put', '/namespaces/{namespace}/plugin-defaults', {
  summary: "Replace a namespace's plugin defaults",
  description: `Resolution level 3; stored in the data directory.`,
  request: {
    params,
    body: {
      required: true,
      description: '`{ "pluginDefaults": [{ "type", "values" }] }` (or the bare list).',
      content: {
        'application/json': {
          schema: z.union([z.object({ pluginDefaults: entries }), entries]),
        },
      },
    },
  },
  responses: {
    200: jsonAnswer(PluginDefaults, 'The saved defaults.'),
    400: errorAnswer('Not a namespace, or not a list of defaults.'),
  },
})

/** `/namespaces/{namespace}/plugin-defaults`: read and replace a namespace's plugin defaults. */
export function createNamespaceRoutes(context: RouteContext) {
  return router()
    .openapi(get, async (c) => {
      const { namespace } = c.req.valid('param')
      return c.json(
        { namespace, pluginDefaults: context.runtime.plugins.getNamespaceDefaults(namespace) },
        200,
      )
    })
    .openapi(put, async (c) => {
      checkAdmin(context, c.req.raw)
      const { namespace } = c.req.valid('param')
      const body = c.req.valid('json')
      const list = Array.isArray(body) ? body : body.pluginDefaults
      const pluginDefaults = await context.runtime.plugins.setNamespaceDefaults(namespace, list)
      return c.json({ namespace, pluginDefaults }, 200)
    })
}
