import { z } from '@hono/zod-openapi'
import { streamSSE } from 'hono/streaming'
import { RuntimeError } from '../errors.js'
import {
  type Execution,
  type ExecutionState,
  TERMINAL_EXECUTION_STATES,
} from '../executor/execution-model.js'
import type { EngineEvent } from '../executor/execution-runner.js'
import { executionPrefix, STORAGE_SCHEME } from '../storage/internal-storage.js'
import { errorAnswer, found, jsonAnswer, type RouteContext, resource } from './router.js'
import {
  ExecutionPage,
  ExecutionParams,
  Execution as ExecutionSchema,
  ExecutionState as ExecutionStateSchema,
  FlowParams,
  LogEntry,
  LogLevel,
  queryBoolean,
  queryInt,
  ReplayBody,
} from './schemas.js'
import { executionJson } from './serialize.js'
import { formInputs, isMultipart } from './uploads.js'

const MAX_PAGE_SIZE = 500
const { route, router } = resource('Executions')
/** A query parameter that may repeat (`?state=A&state=B`). */
const repeated = z.union([z.string(), z.array(z.string())]).optional()
const listOf = (value: string | string[] | undefined): string[] =>
  (value === undefined ? [] : [value].flat()).flatMap((item) => item.split(',')).filter(Boolean)

/** An optional date-time query parameter (ISO 8601 with an offset). */
const queryInstant = (description: string) =>
  z.iso
    .datetime({
      offset: true,
      message: 'is not an ISO 8601 date-time with an offset (2026-12-02T10:00:00Z)',
    })
    .optional()
    .openapi({ description })

/** A date-time as the store writes it (`toISOString()`), so text order is time order. */
const storedInstant = (value: string) => new Date(value).toISOString()

/** `key:value` query labels (repeated or comma-separated) as a map; 400 on one without a key. */
const labelsOf = (value: string | string[] | undefined): Record<string, string> =>
  Object.fromEntries(
    listOf(value).map((label) => {
      const at = label.indexOf(':')
      if (at < 1) {
        throw new RuntimeError(`label "${label}" must be key:value`, {
          code: 'REQUEST_INVALID',
          issues: [{ path: 'query.labels', message: `"${label}" is not key:value` }],
        })
      }
      return [label.slice(0, at), label.slice(at + 1)]
    }),
  )

export const waitQuery = queryBoolean('true: answer when the execution ends (or pauses).')

const list = route('get', '/executions', {
  summary: 'Search executions, newest first',
  request: {
    query: z.object({
      namespace: z.string().optional().openapi({ description: 'Namespace (and below).' }),
      flowId: z.string().optional().openapi({ description: 'Flow id.' }),
      state: repeated.openapi({
        description: `States, repeated or comma-separated: ${ExecutionStateSchema.options.join(', ')}.`,
      }),
      labels: repeated.openapi({
        description: '`key:value`, repeated or comma-separated: executions carrying every one.',
      }),
      startDate: queryInstant('Started at or after this date-time (ISO 8601 with an offset).'),
      endDate: queryInstant('Started before this date-time (ISO 8601 with an offset).'),
      page: queryInt('From 1.'),
      size: queryInt(`From 1 to ${MAX_PAGE_SIZE} (default 25).`),
    }),
  },
  responses: {
    200: jsonAnswer(ExecutionPage, 'A page of executions (without task runs).'),
    400: errorAnswer('Bad paging, state, label or date.'),
  },
})

const start = route('post', '/executions/{namespace}/{id}', {
  summary: 'Start an execution',
  request: {
    params: FlowParams,
    query: z.object({
      wait: waitQuery,
      revision: queryInt('A flow revision (latest by default).'),
      labels: repeated.openapi({ description: '`key:value`, repeated.' }),
    }),
    body: {
      required: false,
      description:
        'The inputs, as a JSON object (none: `{}`), or as multipart/form-data: each field an input, each file part a FILE input (stored in internal storage; its `kite:///` URI goes in `inputs`; a file for another type is read as text).',
      content: {
        'application/json': { schema: z.record(z.string(), z.unknown()) },
        'multipart/form-data': {
          schema: z.record(
            z.string(),
            z.union([z.string(), z.instanceof(File).openapi({ type: 'string', format: 'binary' })]),
          ),
        },
      },
    },
  },
  responses: {
    200: jsonAnswer(ExecutionSchema, 'The execution (CREATED, or final with wait=true).'),
    400: errorAnswer(
      'The body is not a JSON object or valid multipart, or a label is not key:value.',
    ),
    413: errorAnswer('An upload is larger than executions.maxUploadBytes (nothing is stored).'),
    404: errorAnswer('No such flow.'),
    409: errorAnswer('The flow is disabled.'),
    415: errorAnswer('The body is not JSON.'),
    422: errorAnswer('Invalid inputs, or the flow no longer validates.'),
  },
})

const get = route('get', '/executions/{id}', {
  summary: 'Get an execution with its task runs',
  request: { params: ExecutionParams },
  responses: {
    200: jsonAnswer(ExecutionSchema, 'The execution.'),
    404: errorAnswer('No such execution.'),
  },
})

const logs = route('get', '/executions/{id}/logs', {
  summary: 'Logs of an execution (secrets masked)',
  request: {
    params: ExecutionParams,
    query: z.object({
      minLevel: z
        .string()
        .toLowerCase()
        .pipe(LogLevel)
        .optional()
        .openapi({ description: `${LogLevel.options.join(', ')}` }),
      taskId: z.string().optional().openapi({ description: 'Only this task.' }),
    }),
  },
  responses: {
    200: jsonAnswer(z.array(LogEntry), 'Oldest first.'),
    404: errorAnswer('No such execution.'),
  },
})

const follow = route('get', '/executions/{id}/follow', {
  summary: 'Follow an execution (Server-Sent Events)',
  description:
    'Events: `log` (a LogEntry), `execution` (the whole execution, after each change), `ping`, and `end` (`{ state }`) when it reaches a final state.',
  request: { params: ExecutionParams },
  responses: {
    200: {
      description: 'An event stream.',
      content: { 'text/event-stream': { schema: z.string() } },
    },
    404: errorAnswer('No such execution.'),
  },
})

const file = route('get', '/executions/{id}/file', {
  summary: "Download one of the execution's files",
  request: {
    params: ExecutionParams,
    query: z.object({
      uri: z.string().openapi({ description: 'A kite:/// URI of this execution.' }),
    }),
  },
  responses: {
    200: {
      description: 'The file.',
      content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } },
    },
    400: errorAnswer('The URI is not a file of this execution.'),
    404: errorAnswer('No such file.'),
  },
})

const kill = route('post', '/executions/{id}/kill', {
  summary: 'Kill an execution',
  description:
    'In a cluster any node accepts it: a node that does not hold the execution records the kill for the executor that does (or takes it over), and answers once that executor has committed KILLING (at most 2 s; then the state as stored).',
  request: { params: ExecutionParams },
  responses: {
    202: jsonAnswer(ExecutionSchema, 'Killing (KILLING, then KILLED).'),
    404: errorAnswer('No such execution.'),
    409: errorAnswer('The execution already ended.'),
  },
})

const resume = route('post', '/executions/{id}/resume', {
  summary: 'Resume a paused execution (kite.flow.Pause)',
  description:
    "The body gives the Pause's `onResume` inputs, validated like flow inputs and read downstream as `outputs.<pause>.onResume.<input>`. In a cluster any node accepts it: the inputs are checked there (422, nothing recorded), then the executor that holds the execution resumes it.",
  request: {
    params: ExecutionParams,
    body: {
      required: false,
      description: 'The `onResume` inputs, as a JSON object (none: `{}`).',
      content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
    },
  },
  responses: {
    200: jsonAnswer(ExecutionSchema, 'Resumed.'),
    400: errorAnswer('The body is not a JSON object.'),
    404: errorAnswer('No such execution.'),
    409: errorAnswer('Not paused.'),
    415: errorAnswer('The body is not JSON.'),
    422: errorAnswer('Invalid onResume inputs.'),
  },
})

const restart = route('post', '/executions/{id}/restart', {
  summary: 'Restart a failed or killed execution from its failed task runs',
  description:
    'Runs the execution again on the same flow revision and plugin versions, keeping its successful task runs; each failed task run gains an attempt.',
  request: { params: ExecutionParams },
  responses: {
    200: jsonAnswer(ExecutionSchema, 'Restarted (RUNNING).'),
    404: errorAnswer('No such execution, or its flow revision is gone.'),
    409: errorAnswer('The execution is not FAILED or KILLED.'),
  },
})

const replay = route('post', '/executions/{id}/replay', {
  summary: 'Replay an ended execution from one of its task runs, as a new execution',
  description:
    "A new execution (linked by `replayOf`) that keeps the outputs of the task runs created before `taskRunId` and runs that task and everything after it again (the whole flow without `taskRunId`). Plugin versions are resolved again unless `keepPlugins`; the answer's `plugins` lists the versions it uses.",
  request: {
    params: ExecutionParams,
    body: {
      required: false,
      description: '`{ taskRunId?, revision?, keepPlugins? }` (none: replay the whole flow).',
      content: { 'application/json': { schema: ReplayBody } },
    },
  },
  responses: {
    200: jsonAnswer(ExecutionSchema, 'The new execution (CREATED or RUNNING).'),
    400: errorAnswer('The body is not a replay request.'),
    404: errorAnswer('No such execution, task run or flow revision.'),
    409: errorAnswer('The execution has not ended (running, paused...).'),
    415: errorAnswer('The body is not JSON.'),
    422: errorAnswer('The flow revision no longer validates with these plugin versions.'),
  },
})

/** The answer of a start: at once, or when the execution ends (or pauses) with `?wait=true`. */
export async function startedAnswer(
  context: RouteContext,
  wait: 'true' | 'false' | undefined,
  created: Execution,
) {
  const execution =
    wait === 'true'
      ? await context.runtime.engine.waitFor(created.id, { untilPaused: true })
      : created
  return executionJson(execution)
}

/** `/executions`: start, search, read, logs, follow (SSE), files, kill and resume. */
export function createExecutionRoutes(context: RouteContext) {
  const existing = async (id: string) =>
    found(
      await context.runtime.engine.getExecution(id),
      () => new RuntimeError(`execution "${id}" not found`, { code: 'EXECUTION_NOT_FOUND' }),
    )

  // kill, resume, restart and replay come before start: `/executions/{id}/kill` also fits
  // `{namespace}/{id}` (a flow with such an id gets a warning: `EXECUTION_ACTIONS`).
  return router()
    .openapi(kill, async (c) => {
      return c.json(executionJson(await context.runtime.engine.kill(c.req.valid('param').id)), 202)
    })
    .openapi(resume, async (c) => {
      return c.json(
        executionJson(
          await context.runtime.engine.resume(c.req.valid('param').id, c.req.valid('json')),
        ),
        200,
      )
    })
    .openapi(restart, async (c) => {
      return c.json(
        executionJson(await context.runtime.engine.restart(c.req.valid('param').id)),
        200,
      )
    })
    .openapi(replay, async (c) => {
      const execution = await context.runtime.engine.replay(
        c.req.valid('param').id,
        c.req.valid('json'),
      )
      return c.json(executionJson(execution), 200)
    })
    .openapi(list, async (c) => {
      const query = c.req.valid('query')
      const page = query.page ?? 1
      const size = query.size ?? 25
      if (page < 1 || size < 1 || size > MAX_PAGE_SIZE) {
        throw new RuntimeError(`page must be ≥ 1 and size between 1 and ${MAX_PAGE_SIZE}`, {
          code: 'REQUEST_INVALID',
          issues: [{ path: page < 1 ? 'query.page' : 'query.size', message: 'out of range' }],
        })
      }
      const states = listOf(query.state).map((state) => {
        const parsed = ExecutionStateSchema.safeParse(state)
        if (parsed.success) return parsed.data
        throw new RuntimeError(
          `unknown state "${state}"; use one of ${ExecutionStateSchema.options.join(', ')}`,
          {
            code: 'REQUEST_INVALID',
            issues: [{ path: 'query.state', message: `unknown state "${state}"` }],
          },
        )
      })
      const labels = labelsOf(query.labels)
      const result = await context.runtime.store.listExecutions(
        {
          ...(query.namespace ? { namespace: query.namespace } : {}),
          ...(query.flowId ? { flowId: query.flowId } : {}),
          ...(states.length > 0 ? { states: states satisfies ExecutionState[] } : {}),
          ...(Object.keys(labels).length > 0 ? { labels } : {}),
          ...(query.startDate ? { startedFrom: storedInstant(query.startDate) } : {}),
          ...(query.endDate ? { startedBefore: storedInstant(query.endDate) } : {}),
        },
        page,
        size,
      )
      return c.json({ ...result, results: result.results.map(executionJson) }, 200)
    })
    .openapi(start, async (c) => {
      const { namespace, id } = c.req.valid('param')
      const query = c.req.valid('query')
      const labels = labelsOf(query.labels)
      const execution = await context.runtime.engine.start({
        namespace,
        flowId: id,
        inputs: isMultipart(c.req) ? await formInputs(c.req.valid('form')) : c.req.valid('json'),
        labels,
        ...(query.revision === undefined ? {} : { revision: query.revision }),
      })
      return c.json(await startedAnswer(context, query.wait, execution), 200)
    })
    .openapi(get, async (c) => {
      return c.json(executionJson(await existing(c.req.valid('param').id)), 200)
    })
    .openapi(logs, async (c) => {
      const { id } = c.req.valid('param')
      await existing(id)
      const { minLevel, taskId } = c.req.valid('query')
      const entries = await context.runtime.store.listLogs(id, {
        ...(minLevel ? { minLevel } : {}),
        ...(taskId ? { taskId } : {}),
      })
      return c.json(entries, 200)
    })
    .openapi(file, async (c) => {
      const { id } = c.req.valid('param')
      const execution = await existing(id)
      const { uri } = c.req.valid('query')
      const prefix = `${STORAGE_SCHEME}${executionPrefix(execution.namespace, execution.flowId, id)}/`
      if (!uri.startsWith(prefix)) {
        throw new RuntimeError(`uri must be a file of this execution (${prefix}...)`, {
          code: 'REQUEST_INVALID',
          issues: [{ path: 'query.uri', message: `not under ${prefix}` }],
        })
      }
      const data = await context.runtime.storage.get(uri)
      return c.body(new Uint8Array(data), 200, { 'content-type': 'application/octet-stream' })
    })
    .openapi(follow, async (c) => {
      const { id } = c.req.valid('param')
      await existing(id)
      return streamSSE(c, async (stream) => {
        const { engine, store } = context.runtime
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
          if (current) {
            await stream.writeSSE({
              event: 'execution',
              data: JSON.stringify(executionJson(current)),
            })
          }
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
              if (event.type !== 'log') changed = true
              else if (!sentLogs.has(logKey(event.entry))) {
                await stream.writeSSE({ event: 'log', data: JSON.stringify(event.entry) })
              }
            }
            if (changed) {
              current = await engine.getExecution(id)
              if (current) {
                const data = JSON.stringify(executionJson(current))
                await stream.writeSSE({ event: 'execution', data })
              }
            }
          }
          if (!closed) {
            const data = JSON.stringify({ state: current?.state.current })
            await stream.writeSSE({ event: 'end', data })
          }
        } finally {
          unsubscribe()
        }
      })
    })
}
