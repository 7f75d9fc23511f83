import { z } from '@hono/zod-openapi'
import { isRuntimeError, RuntimeError } from '../errors.js'
import type { Engine } from '../executor/engine.js'
import type { ValidatedFlow } from '../flow/validate-flow.js'
import { createRegistryAdvice } from '../plugins/registry-advice.js'
import { errorAnswer, found, jsonAnswer, type RouteContext, resource } from './router.js'
import { Flow, FlowInvalid, FlowParams, FlowRevision, FlowValidation, queryInt } from './schemas.js'
import { flowJson, flowPlugins } from './serialize.js'

// A flow arrives as YAML: the body is read as text and the flow parser reports its problems
// (with lines), so the document describes it and no zod schema validates it.
const yamlBody = {
  required: true,
  description: 'The flow, as YAML (SPEC section 3).',
  content: { 'application/x-yaml': { schema: z.string() } },
}
const { route, router } = resource('Flows')

const list = route('get', '/flows', {
  summary: 'List flows (latest revision of each)',
  request: {
    query: z.object({
      namespace: z
        .string()
        .optional()
        .openapi({ description: 'Only this namespace and the ones below it.' }),
    }),
  },
  responses: {
    200: jsonAnswer(z.object({ results: z.array(Flow), total: z.number().int() }), 'The flows.'),
  },
})

const validate = route('post', '/flows/validate', {
  summary: 'Validate a flow without saving it',
  request: { body: yamlBody },
  responses: {
    200: jsonAnswer(FlowValidation, 'Valid, with the plugin version each task resolves to.'),
    422: jsonAnswer(FlowInvalid, 'Invalid; `errors` lists every problem.'),
  },
})

const create = route('post', '/flows', {
  summary: 'Create a flow',
  description:
    'Parses the YAML, resolves every task to an installed plugin version and validates its properties against that version (422 with one error per task otherwise).',
  request: { body: yamlBody },
  responses: {
    200: jsonAnswer(Flow, 'The saved flow and the plugin version each task resolved to.'),
    409: errorAnswer('A flow with this namespace and id exists (use PUT).'),
    413: errorAnswer('The body is too large.'),
    422: errorAnswer('The flow is invalid.'),
  },
})

const update = route('put', '/flows/{namespace}/{id}', {
  summary: 'Update a flow (a new revision when the source changed)',
  request: { params: FlowParams, body: yamlBody },
  responses: {
    200: jsonAnswer(Flow, 'The saved flow.'),
    422: errorAnswer('The flow is invalid.'),
  },
})

const get = route('get', '/flows/{namespace}/{id}', {
  summary: 'Get a flow',
  request: {
    params: FlowParams,
    query: z.object({ revision: queryInt('A revision (latest by default).') }),
  },
  responses: { 200: jsonAnswer(Flow, 'The flow.'), 404: errorAnswer('No such flow.') },
})

const remove = route('delete', '/flows/{namespace}/{id}', {
  summary: 'Delete a flow (its revisions are kept)',
  request: { params: FlowParams },
  responses: { 204: { description: 'Deleted.' }, 404: errorAnswer('No such flow.') },
})

const revisions = route('get', '/flows/{namespace}/{id}/revisions', {
  summary: 'Every revision of a flow',
  request: { params: FlowParams },
  responses: {
    200: jsonAnswer(z.array(FlowRevision), 'Oldest first.'),
    404: errorAnswer('No such flow.'),
  },
})

/** `/flows`: save (YAML), validate, read, delete and list revisions. */
export function createFlowRoutes(context: RouteContext) {
  const flowNotFound = (namespace: string, id: string, revision?: number) =>
    new RuntimeError(
      `flow ${namespace}/${id}${revision === undefined ? '' : ` revision ${revision}`} not found`,
      { code: 'FLOW_NOT_FOUND' },
    )
  const storedFlow = async (namespace: string, id: string, revision?: number) =>
    found(await context.runtime.store.getFlow(namespace, id, revision), () =>
      flowNotFound(namespace, id, revision),
    )
  const saved = async (
    namespace: string,
    id: string,
    revision: number,
    validated: ValidatedFlow,
  ) => {
    return flowJson(await storedFlow(namespace, id, revision), validated)
  }

  /**
   * Validates a flow; when it is invalid and a registry is configured, first installs the pinned
   * versions the registry has (pin on demand), then tells the problems what the registry knows.
   */
  const validateSource = async (source: string): Promise<ValidatedFlow> => {
    const { engine, plugins, catalog } = context.runtime
    try {
      return engine.validateSource(source)
    } catch (error) {
      const advice = createRegistryAdvice({ store: plugins.store, catalog })
      if (!advice || !isFlowInvalid(error)) throw error
      let failure = error
      if ((await advice.installPinned(error.issues)).length > 0) {
        try {
          return engine.validateSource(source)
        } catch (again) {
          if (!isFlowInvalid(again)) throw again
          failure = again
        }
      }
      await advice.explain(failure)
      throw failure
    }
  }
  const save = async (source: string, options: Parameters<Engine['saveFlow']>[1]) => {
    await validateSource(source)
    return context.runtime.engine.saveFlow(source, options)
  }

  return router()
    .openapi(list, async (c) => {
      const flows = await context.runtime.store.listFlows(
        c.req.valid('query').namespace || undefined,
      )
      return c.json({ results: flows.map((flow) => flowJson(flow)), total: flows.length }, 200)
    })
    .openapi(validate, async (c) => {
      try {
        const validated = await validateSource(await c.req.text())
        await context.runtime.scheduler.checkFlow(validated.flow)
        const { namespace, id } = validated.flow
        return c.json(
          {
            valid: true as const,
            namespace,
            id,
            plugins: flowPlugins(validated),
            warnings: validated.warnings,
          },
          200,
        )
      } catch (error) {
        if (isFlowInvalid(error)) {
          const answer = { message: error.message, code: error.code, errors: error.issues }
          return c.json({ valid: false as const, ...answer }, 422)
        }
        throw error
      }
    })
    .openapi(create, async (c) => {
      const result = await save(await c.req.text(), { create: true })
      const { namespace, id } = result.flow
      return c.json(await saved(namespace, id, result.revision, result.validated), 200)
    })
    .openapi(update, async (c) => {
      const { namespace, id } = c.req.valid('param')
      const result = await save(await c.req.text(), { expect: { namespace, id } })
      return c.json(await saved(namespace, id, result.revision, result.validated), 200)
    })
    .openapi(get, async (c) => {
      const { namespace, id } = c.req.valid('param')
      const { revision } = c.req.valid('query')
      const stored = await storedFlow(namespace, id, revision)
      let validated: ValidatedFlow | undefined
      try {
        validated = await context.runtime.engine.validateSource(stored.source)
      } catch {
        // A flow saved before a plugin was uninstalled still shows; it no longer validates.
      }
      return c.json(flowJson(stored, validated), 200)
    })
    .openapi(remove, async (c) => {
      const { namespace, id } = c.req.valid('param')
      if (!(await context.runtime.engine.deleteFlow(namespace, id)))
        throw flowNotFound(namespace, id)
      return c.body(null, 204)
    })
    .openapi(revisions, async (c) => {
      const { namespace, id } = c.req.valid('param')
      const all = await context.runtime.store.listFlowRevisions(namespace, id)
      if (all.length === 0) throw flowNotFound(namespace, id)
      const answer = all.map(({ revision, createdAt, deleted, source }) => ({
        revision,
        updated: createdAt,
        deleted,
        source,
      }))
      return c.json(answer, 200)
    })
}

const isFlowInvalid = (error: unknown): error is RuntimeError =>
  isRuntimeError(error) && error.code === 'FLOW_INVALID'
