import { z } from '@hono/zod-openapi'
import { flowJsonSchema, schemaTypesOf } from '../flow/flow-json-schema.js'
import { jsonAnswer, type RouteContext, resource } from './router.js'

const FlowJsonSchema = z
  .record(z.string(), z.unknown())
  .openapi('FlowJsonSchema', { description: 'A JSON Schema (draft 2020-12) of a flow.' })

const { route, router } = resource('Plugins')

const flowSchema = route('get', '/plugins/schemas/flow', {
  summary: 'The JSON Schema of a flow for the installed plugin versions',
  description:
    "Draft 2020-12: the flow's shape with one branch per installed `type` and version (an exact `version` selects that version's properties). For the UI editor and any editor with a YAML language server: `# yaml-language-server: $schema=<server>/api/v1/plugins/schemas/flow`.",
  responses: { 200: jsonAnswer(FlowJsonSchema, 'The flow JSON Schema.') },
})

/** `/plugins/schemas/flow`: the flow JSON Schema of the installed versions (SPEC 11). */
export function createFlowSchemaRoutes(context: RouteContext) {
  return router().openapi(flowSchema, (c) =>
    c.json(flowJsonSchema(schemaTypesOf(context.runtime.catalog)), 200),
  )
}
