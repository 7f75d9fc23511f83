import { type Context, Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { streamSSE } from 'hono/streaming'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { isRuntimeError, messageOf, RuntimeError, type RuntimeErrorCode } from '../errors.js'
import type { RuntimeLogger } from '../executor/engine.js'
import {
  type ExecutionState,
  LOG_LEVELS,
  TERMINAL_EXECUTION_STATES,
} from '../executor/execution-model.js'
import type { EngineEvent } from '../executor/execution-runner.js'
import type { Runtime } from '../runtime.js'
import { executionPrefix, STORAGE_SCHEME } from '../storage/internal-storage.js'
import { createOpenApiDocument } from './openapi.js'
import { createPluginRoutes } from './plugins-routes.js'
import { executionJson, flowJson, flowPlugins } from './serialize.js'
import { registerTriggerRoutes } from './triggers-routes.js'

/** Default largest request body: 1 MiB (flows and inputs are far smaller). */
export const DEFAULT_BODY_LIMIT = 1024 * 1024

export interface ApiOptions {
  runtime: Runtime
  /** Largest request body in bytes. */
  bodyLimit?: number
  logger?: RuntimeLogger
  version?: string
}

const STATUS: Record<RuntimeErrorCode, ContentfulStatusCode> = {
  FLOW_INVALID: 422,
  INPUTS_INVALID: 422,
  CONFIG_INVALID: 422,
  PROPERTIES_INVALID: 422,
  EXPRESSION: 422,
  PLUGIN_NOT_FOUND: 422,
  PLUGIN_VERSION: 422,
  PLUGIN_INVALID: 422,
  PLUGIN_CONFLICT: 409,
  FLOW_NOT_FOUND: 404,
  EXECUTION_NOT_FOUND: 404,
  NOT_FOUND: 404,
  STORAGE: 404,
  FLOW_EXISTS: 409,
  FLOW_DISABLED: 409,
  EXECUTION_STATE: 409,
  REQUEST_INVALID: 400,
  SECRET_NOT_FOUND: 422,
  BODY_TOO_LARGE: 413,
  TASK_FAILED: 500,
  TASK_TIMEOUT: 500,
  TASK_KILLED: 500,
  WORKER_LOST: 500,
  INTERNAL: 500,
}

const MAX_PAGE_SIZE = 500

/**
 * The HTTP API of SPEC section 6 under `/api/v1`. Every error is JSON: `{ message, code }`, plus
 * `errors: [{ path, message, line? }]` for validation errors.
 */
export function createApi(options: ApiOptions): Hono {
  const { runtime } = options
  const { engine, store } = runtime
  const limit = options.bodyLimit ?? 1024 * 1024
  const app = new Hono()

  app.onError((error, c) => {
    if (isRuntimeError(error)) {
      const status = STATUS[error.code] ?? 500
      if (status >= 500) options.logger?.error(`${c.req.method} ${c.req.path}: ${error.message}`)
      return c.json(
        {
          message: error.message,
          code: error.code,
          ...(error.issues.length > 0 ? { errors: error.issues } : {}),
        },
        status,
      )
    }
    options.logger?.error(
      `${c.req.method} ${c.req.path}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    )
    return c.json({ message: `internal error: ${messageOf(error)}`, code: 'INTERNAL' }, 500)
  })
  app.notFound((c) =>
    c.json({ message: `no route for ${c.req.method} ${c.req.path}`, code: 'NOT_FOUND' }, 404),
  )
  app.use(
    '*',
    bodyLimit({
      maxSize: limit,
      onError: (c) =>
        c.json(
          {
            message: `the request body is larger than the limit of ${formatBytes(limit)}`,
            code: 'BODY_TOO_LARGE',
          },
          413,
        ),
    }),
  )

  const api = new Hono()

  api.get('/health', (c) =>
    c.json({
      status: 'UP',
      version: options.version ?? 'unknown',
      plugins: runtime.catalog.list().length,
    }),
  )
  api.get('/openapi.json', (c) => c.json(createOpenApiDocument(options.version ?? 'unknown')))

  // ── flows ───────────────────────────────────────────────────────────────────────────────────

  api.get('/flows', async (c) => {
    const flows = await store.listFlows(c.req.query('namespace') || undefined)
    return c.json({ results: flows.map((flow) => flowJson(flow)), total: flows.length })
  })

  api.post('/flows/validate', async (c) => {
    const source = await c.req.text()
    try {
      const validated = engine.validateSource(source)
      await runtime.scheduler.checkFlow(validated.flow)
      return c.json({
        valid: true,
        namespace: validated.flow.namespace,
        id: validated.flow.id,
        plugins: flowPlugins(validated),
      })
    } catch (error) {
      if (isRuntimeError(error) && error.code === 'FLOW_INVALID') {
        return c.json(
          { valid: false, message: error.message, code: error.code, errors: error.issues },
          422,
        )
      }
      throw error
    }
  })

  api.post('/flows', async (c) => {
    const saved = await engine.saveFlow(await c.req.text(), { create: true })
    const stored = await store.getFlow(saved.flow.namespace, saved.flow.id, saved.revision)
    return c.json(flowJson(stored!, saved.validated), 200)
  })

  api.put('/flows/:namespace/:id', async (c) => {
    const { namespace, id } = c.req.param()
    const saved = await engine.saveFlow(await c.req.text(), { expect: { namespace, id } })
    const stored = await store.getFlow(namespace, id, saved.revision)
    return c.json(flowJson(stored!, saved.validated))
  })

  api.get('/flows/:namespace/:id', async (c) => {
    const { namespace, id } = c.req.param()
    const revision = optionalInt(c.req.query('revision'), 'revision')
    const stored = await store.getFlow(namespace, id, revision)
    if (!stored) {
      throw new RuntimeError(
        `flow ${namespace}/${id}${revision === undefined ? '' : ` revision ${revision}`} not found`,
        { code: 'FLOW_NOT_FOUND' },
      )
    }
    let validated: ReturnType<typeof engine.validateSource> | undefined
    try {
      validated = engine.validateSource(stored.source)
    } catch {
      // A flow saved before a plugin was uninstalled still shows; it no longer validates.
    }
    return c.json(flowJson(stored, validated))
  })

  api.delete('/flows/:namespace/:id', async (c) => {
    const { namespace, id } = c.req.param()
    if (!(await engine.deleteFlow(namespace, id))) {
      throw new RuntimeError(`flow ${namespace}/${id} not found`, { code: 'FLOW_NOT_FOUND' })
    }
    return c.body(null, 204)
  })

  api.get('/flows/:namespace/:id/revisions', async (c) => {
    const { namespace, id } = c.req.param()
    const revisions = await store.listFlowRevisions(namespace, id)
    if (revisions.length === 0) {
      throw new RuntimeError(`flow ${namespace}/${id} not found`, { code: 'FLOW_NOT_FOUND' })
    }
    return c.json(
      revisions.map((revision) => ({
        revision: revision.revision,
        updated: revision.createdAt,
        deleted: revision.deleted,
        source: revision.source,
      })),
    )
  })

  // ── executions ──────────────────────────────────────────────────────────────────────────────

  api.get('/executions', async (c) => {
    const page = optionalInt(c.req.query('page'), 'page') ?? 1
    const size = optionalInt(c.req.query('size'), 'size') ?? 25
    if (page < 1 || size < 1 || size > MAX_PAGE_SIZE) {
      throw new RuntimeError(`page must be ≥ 1 and size between 1 and ${MAX_PAGE_SIZE}`, {
        code: 'REQUEST_INVALID',
        issues: [{ path: 'page', message: 'out of range' }],
      })
    }
    const states = c.req
      .queries('state')
      ?.flatMap((value) => value.split(','))
      .filter(Boolean)
    for (const state of states ?? []) {
      if (!EXECUTION_STATES.includes(state as ExecutionState)) {
        throw new RuntimeError(
          `unknown state "${state}"; use one of ${EXECUTION_STATES.join(', ')}`,
          {
            code: 'REQUEST_INVALID',
            issues: [{ path: 'state', message: `unknown state "${state}"` }],
          },
        )
      }
    }
    const result = await store.listExecutions(
      {
        ...(c.req.query('namespace') ? { namespace: c.req.query('namespace') } : {}),
        ...(c.req.query('flowId') ? { flowId: c.req.query('flowId') } : {}),
        ...(states && states.length > 0 ? { states: states as ExecutionState[] } : {}),
      },
      page,
      size,
    )
    return c.json({ ...result, results: result.results.map(executionJson) })
  })

  api.post('/executions/webhook/:namespace/:id/:key', async (c) => {
    const { namespace, id, key } = c.req.param()
    const text = await c.req.text()
    let body: unknown = text
    if ((c.req.header('content-type') ?? '').includes('json') && text !== '') {
      // A body that says JSON but is not stays text: the flow sees what was sent.
      body = parseJsonOr(text)
    }
    const execution = await runtime.scheduler.fireWebhook({
      namespace,
      flowId: id,
      key,
      body,
      headers: c.req.header(),
      parameters: c.req.queries(),
    })
    // The same answer for an unknown flow, an unknown key and a disabled trigger: it reveals nothing.
    if (!execution) throw new RuntimeError('webhook not found', { code: 'NOT_FOUND' })
    return c.json(executionJson(await maybeWait(c, execution.id, execution)))
  })

  api.post('/executions/:id/kill', async (c) => {
    return c.json(executionJson(await engine.kill(c.req.param('id'))), 202)
  })

  api.post('/executions/:id/resume', async (c) => {
    return c.json(executionJson(await engine.resume(c.req.param('id'))))
  })

  api.post('/executions/:namespace/:id', async (c) => {
    const { namespace, id } = c.req.param()
    const text = await c.req.text()
    const inputs = text.trim() === '' ? {} : parseJson(text)
    if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs)) {
      throw new RuntimeError('the body must be a JSON object of inputs, e.g. {"name": "Ada"}', {
        code: 'REQUEST_INVALID',
      })
    }
    const revision = optionalInt(c.req.query('revision'), 'revision')
    const labels = Object.fromEntries(
      (c.req.queries('labels') ?? []).map((label) => {
        const at = label.indexOf(':')
        if (at < 1) {
          throw new RuntimeError(`label "${label}" must be key:value`, { code: 'REQUEST_INVALID' })
        }
        return [label.slice(0, at), label.slice(at + 1)]
      }),
    )
    const execution = await engine.start({
      namespace,
      flowId: id,
      inputs: inputs as Record<string, unknown>,
      labels,
      ...(revision === undefined ? {} : { revision }),
    })
    return c.json(executionJson(await maybeWait(c, execution.id, execution)))
  })

  api.get('/executions/:id', async (c) => {
    const execution = await engine.getExecution(c.req.param('id'))
    if (!execution) throw notFound(c.req.param('id'))
    return c.json(executionJson(execution))
  })

  api.get('/executions/:id/logs', async (c) => {
    const id = c.req.param('id')
    if (!(await engine.getExecution(id))) throw notFound(id)
    const minLevel = c.req.query('minLevel')?.toLowerCase()
    if (minLevel !== undefined && !LOG_LEVELS.includes(minLevel as (typeof LOG_LEVELS)[number])) {
      throw new RuntimeError(`minLevel must be one of ${LOG_LEVELS.join(', ')}`, {
        code: 'REQUEST_INVALID',
      })
    }
    const logs = await store.listLogs(id, {
      ...(minLevel ? { minLevel: minLevel as (typeof LOG_LEVELS)[number] } : {}),
      ...(c.req.query('taskId') ? { taskId: c.req.query('taskId') } : {}),
    })
    return c.json(logs)
  })

  api.get('/executions/:id/file', async (c) => {
    const id = c.req.param('id')
    const execution = await engine.getExecution(id)
    if (!execution) throw notFound(id)
    const uri = c.req.query('uri') ?? ''
    const prefix = `${STORAGE_SCHEME}${executionPrefix(execution.namespace, execution.flowId, id)}/`
    if (!uri.startsWith(prefix)) {
      throw new RuntimeError(`uri must be a file of this execution (${prefix}...)`, {
        code: 'REQUEST_INVALID',
      })
    }
    const data = await runtime.storage.get(uri)
    return c.body(new Uint8Array(data), 200, { 'content-type': 'application/octet-stream' })
  })

  api.get('/executions/:id/follow', async (c) => {
    const id = c.req.param('id')
    const first = await engine.getExecution(id)
    if (!first) throw notFound(id)
    return streamSSE(c, async (stream) => {
      const queue: EngineEvent[] = []
      let wake: (() => void) | undefined
      let closed = false
      const unsubscribe = engine.subscribe(id, (event) => {
        queue.push(event)
        wake?.()
      })
      stream.onAbort(() => {
        closed = true
        wake?.()
      })
      try {
        const sentLogs = new Set<string>()
        const logKey = (entry: { timestamp: string; taskRunId?: string; message: string }) =>
          `${entry.timestamp}|${entry.taskRunId ?? ''}|${entry.message}`
        await engine.flushLogs(id)
        for (const entry of await store.listLogs(id)) {
          sentLogs.add(logKey(entry))
          await stream.writeSSE({ event: 'log', data: JSON.stringify(entry) })
        }
        let current = await engine.getExecution(id)
        await stream.writeSSE({ event: 'execution', data: JSON.stringify(executionJson(current!)) })
        while (!closed && current && !TERMINAL_EXECUTION_STATES.has(current.state.current)) {
          if (queue.length === 0) {
            await new Promise<void>((resolve) => {
              wake = resolve
              setTimeout(resolve, 15_000).unref()
            })
            wake = undefined
            if (queue.length === 0) {
              await stream.writeSSE({ event: 'ping', data: '{}' })
              continue
            }
          }
          let changed = false
          for (const event of queue.splice(0)) {
            if (event.type === 'log') {
              if (sentLogs.has(logKey(event.entry))) continue
              await stream.writeSSE({ event: 'log', data: JSON.stringify(event.entry) })
            } else {
              changed = true
            }
          }
          if (changed) {
            current = await engine.getExecution(id)
            if (current) {
              await stream.writeSSE({
                event: 'execution',
                data: JSON.stringify(executionJson(current)),
              })
            }
          }
        }
        if (!closed)
          await stream.writeSSE({
            event: 'end',
            data: JSON.stringify({ state: current?.state.current }),
          })
      } finally {
        unsubscribe()
      }
    })
  })

  registerTriggerRoutes(api, runtime)
  api.route('/', createPluginRoutes({ runtime }))
  app.route('/api/v1', api)

  async function maybeWait<T>(c: Context, id: string, created: T) {
    if (c.req.query('wait') !== 'true') return created
    return engine.waitFor(id, { untilPaused: true })
  }

  return app
}

const EXECUTION_STATES: readonly ExecutionState[] = [
  'CREATED',
  'RUNNING',
  'PAUSED',
  'KILLING',
  'SUCCESS',
  'WARNING',
  'FAILED',
  'KILLED',
]

function notFound(id: string): RuntimeError {
  return new RuntimeError(`execution "${id}" not found`, { code: 'EXECUTION_NOT_FOUND' })
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new RuntimeError(`the body is not valid JSON: ${messageOf(error)}`, {
      code: 'REQUEST_INVALID',
    })
  }
}

function parseJsonOr(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

function optionalInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined
  const number = Number(value)
  if (!Number.isInteger(number)) {
    throw new RuntimeError(`${name} must be an integer, got "${value}"`, {
      code: 'REQUEST_INVALID',
      issues: [{ path: name, message: `must be an integer, got "${value}"` }],
    })
  }
  return number
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${Number((bytes / 1024 / 1024).toFixed(1))} MiB`
    : `${Math.round(bytes / 1024)} KiB`
}
