import { PLUGIN_API_ROUTES, PLUGIN_OPENAPI_PATHS } from './plugins-routes.js'
import { TRIGGER_API_ROUTES, TRIGGER_OPENAPI_PATHS } from './triggers-routes.js'

/** A JSON value, for the hand-written OpenAPI document. */
type Json = string | number | boolean | null | Json[] | { [key: string]: Json }

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` })
const json = (schema: Json, description: string): Json => ({
  description,
  content: { 'application/json': { schema } },
})
const error = (description: string): Json => json(ref('Error'), description)
const pathParam = (name: string, description: string): Json => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string' },
})
const queryParam = (
  name: string,
  description: string,
  schema: Json = { type: 'string' },
): Json => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
})
const yamlBody: Json = {
  required: true,
  description: 'The flow, as YAML (SPEC section 3).',
  content: { 'application/x-yaml': { schema: { type: 'string' } } },
}
const flowRef = [pathParam('namespace', 'The flow namespace.'), pathParam('id', 'The flow id.')]
const executionId = [pathParam('id', 'The execution id.')]
const waitParam = queryParam('wait', 'true: answer when the execution ends (or pauses).', {
  type: 'boolean',
})

const STATES = ['CREATED', 'RUNNING', 'PAUSED', 'KILLING', 'SUCCESS', 'WARNING', 'FAILED', 'KILLED']
const TASK_RUN_STATES = [
  'CREATED',
  'RUNNING',
  'PAUSED',
  'SUCCESS',
  'WARNING',
  'FAILED',
  'KILLED',
  'SKIPPED',
]

const stateSchema = (states: string[]): Json => ({
  type: 'object',
  required: ['current', 'histories', 'startDate'],
  properties: {
    current: { type: 'string', enum: states },
    histories: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          state: { type: 'string', enum: states },
          date: { type: 'string', format: 'date-time' },
        },
      },
    },
    startDate: { type: 'string', format: 'date-time' },
    endDate: { type: 'string', format: 'date-time' },
    duration: { type: 'number', description: 'Milliseconds, once ended.' },
  },
})

/** Every route of the API with its method, for the document and for the test that checks it. */
export const API_ROUTES: ReadonlyArray<readonly [method: string, path: string]> = [
  ['get', '/api/v1/health'],
  ['get', '/api/v1/openapi.json'],
  ['get', '/api/v1/flows'],
  ['post', '/api/v1/flows'],
  ['post', '/api/v1/flows/validate'],
  ['get', '/api/v1/flows/{namespace}/{id}'],
  ['put', '/api/v1/flows/{namespace}/{id}'],
  ['delete', '/api/v1/flows/{namespace}/{id}'],
  ['get', '/api/v1/flows/{namespace}/{id}/revisions'],
  ['get', '/api/v1/executions'],
  ['post', '/api/v1/executions/{namespace}/{id}'],
  ['post', '/api/v1/executions/webhook/{namespace}/{id}/{key}'],
  ['get', '/api/v1/executions/{id}'],
  ['get', '/api/v1/executions/{id}/logs'],
  ['get', '/api/v1/executions/{id}/follow'],
  ['get', '/api/v1/executions/{id}/file'],
  ['post', '/api/v1/executions/{id}/kill'],
  ['post', '/api/v1/executions/{id}/resume'],
  ...TRIGGER_API_ROUTES,
  ...PLUGIN_API_ROUTES,
]

/** The OpenAPI 3.1 document served at `/api/v1/openapi.json`. */
export function createOpenApiDocument(version: string): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Kite runtime API',
      version,
      description:
        'Flows, executions, logs and their live stream. Every error is JSON with a `message`, a `code` and, for validation errors, `errors: [{ path, message, line? }]`.',
    },
    paths: {
      ...TRIGGER_OPENAPI_PATHS,
      ...PLUGIN_OPENAPI_PATHS,
      '/api/v1/health': {
        get: {
          summary: 'Health check',
          responses: { '200': json({ type: 'object' }, 'The runtime is up.') },
        },
      },
      '/api/v1/openapi.json': {
        get: {
          summary: 'This document',
          responses: { '200': json({ type: 'object' }, 'OpenAPI 3.1') },
        },
      },
      '/api/v1/flows': {
        get: {
          summary: 'List flows (latest revision of each)',
          parameters: [queryParam('namespace', 'Only this namespace and the ones below it.')],
          responses: {
            '200': json(
              {
                type: 'object',
                properties: {
                  results: { type: 'array', items: ref('Flow') },
                  total: { type: 'integer' },
                },
              },
              'The flows.',
            ),
          },
        },
        post: {
          summary: 'Create a flow',
          description:
            'Parses the YAML, resolves every task to an installed plugin version and validates its properties against that version (422 with one error per task otherwise).',
          requestBody: yamlBody,
          responses: {
            '200': json(
              ref('Flow'),
              'The saved flow and the plugin version each task resolved to.',
            ),
            '409': error('A flow with this namespace and id exists (use PUT).'),
            '413': error('The body is too large.'),
            '422': error('The flow is invalid.'),
          },
        },
      },
      '/api/v1/flows/validate': {
        post: {
          summary: 'Validate a flow without saving it',
          requestBody: yamlBody,
          responses: {
            '200': json(
              {
                type: 'object',
                properties: {
                  valid: { const: true },
                  plugins: { type: 'array', items: ref('FlowPlugin') },
                },
              },
              'Valid.',
            ),
            '422': error('Invalid; `errors` lists every problem.'),
          },
        },
      },
      '/api/v1/flows/{namespace}/{id}': {
        get: {
          summary: 'Get a flow',
          parameters: [
            ...flowRef,
            queryParam('revision', 'A revision (latest by default).', { type: 'integer' }),
          ],
          responses: { '200': json(ref('Flow'), 'The flow.'), '404': error('No such flow.') },
        },
        put: {
          summary: 'Update a flow (a new revision when the source changed)',
          parameters: flowRef,
          requestBody: yamlBody,
          responses: {
            '200': json(ref('Flow'), 'The saved flow.'),
            '422': error('The flow is invalid.'),
          },
        },
        delete: {
          summary: 'Delete a flow (its revisions are kept)',
          parameters: flowRef,
          responses: { '204': { description: 'Deleted.' }, '404': error('No such flow.') },
        },
      },
      '/api/v1/flows/{namespace}/{id}/revisions': {
        get: {
          summary: 'Every revision of a flow',
          parameters: flowRef,
          responses: {
            '200': json(
              {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    revision: { type: 'integer' },
                    updated: { type: 'string', format: 'date-time' },
                    deleted: { type: 'boolean' },
                    source: { type: 'string' },
                  },
                },
              },
              'Oldest first.',
            ),
            '404': error('No such flow.'),
          },
        },
      },
      '/api/v1/executions': {
        get: {
          summary: 'Search executions, newest first',
          parameters: [
            queryParam('namespace', 'Namespace (and below).'),
            queryParam('flowId', 'Flow id.'),
            queryParam('state', 'States, repeated or comma-separated.'),
            queryParam('page', 'From 1.', { type: 'integer', minimum: 1 }),
            queryParam('size', 'At most 500.', { type: 'integer', minimum: 1, maximum: 500 }),
          ],
          responses: {
            '200': json(
              {
                type: 'object',
                properties: {
                  results: { type: 'array', items: ref('ExecutionSummary') },
                  total: { type: 'integer' },
                  page: { type: 'integer' },
                  size: { type: 'integer' },
                },
              },
              'A page of executions (without task runs).',
            ),
            '400': error('Bad paging or state.'),
          },
        },
      },
      '/api/v1/executions/{namespace}/{id}': {
        post: {
          summary: 'Start an execution',
          parameters: [
            ...flowRef,
            waitParam,
            queryParam('revision', 'A flow revision (latest by default).', { type: 'integer' }),
            queryParam('labels', 'key:value, repeated.'),
          ],
          requestBody: {
            required: false,
            description: 'The inputs, as a JSON object.',
            content: { 'application/json': { schema: { type: 'object' } } },
          },
          responses: {
            '200': json(ref('Execution'), 'The execution (CREATED, or final with wait=true).'),
            '404': error('No such flow.'),
            '409': error('The flow is disabled.'),
            '422': error('Invalid inputs, or the flow no longer validates.'),
          },
        },
      },
      '/api/v1/executions/webhook/{namespace}/{id}/{key}': {
        post: {
          summary: 'Start an execution through a kite.trigger.Webhook trigger',
          parameters: [...flowRef, pathParam('key', 'The trigger key.'), waitParam],
          requestBody: { required: false, content: { '*/*': { schema: {} } } },
          responses: {
            '200': json(
              ref('Execution'),
              'The execution; the trigger variables are body (parsed when the Content-Type says JSON and it parses), headers, parameters (lists).',
            ),
            '404': error(
              'No such flow, key or enabled trigger: one answer for all, revealing nothing.',
            ),
            '413': error('The body is larger than the limit.'),
          },
        },
      },
      '/api/v1/executions/{id}': {
        get: {
          summary: 'Get an execution with its task runs',
          parameters: executionId,
          responses: {
            '200': json(ref('Execution'), 'The execution.'),
            '404': error('No such execution.'),
          },
        },
      },
      '/api/v1/executions/{id}/logs': {
        get: {
          summary: 'Logs of an execution (secrets masked)',
          parameters: [
            ...executionId,
            queryParam('minLevel', 'trace, debug, info, warn or error.'),
            queryParam('taskId', 'Only this task.'),
          ],
          responses: {
            '200': json({ type: 'array', items: ref('LogEntry') }, 'Oldest first.'),
            '404': error('No such execution.'),
          },
        },
      },
      '/api/v1/executions/{id}/follow': {
        get: {
          summary: 'Follow an execution (Server-Sent Events)',
          description:
            'Events: `log` (a LogEntry), `execution` (the whole execution, after each change), `ping`, and `end` when it reaches a final state.',
          parameters: executionId,
          responses: {
            '200': {
              description: 'An event stream.',
              content: { 'text/event-stream': { schema: { type: 'string' } } },
            },
            '404': error('No such execution.'),
          },
        },
      },
      '/api/v1/executions/{id}/file': {
        get: {
          summary: "Download one of the execution's files",
          parameters: [...executionId, queryParam('uri', 'A kite:/// URI of this execution.')],
          responses: {
            '200': {
              description: 'The file.',
              content: {
                'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
              },
            },
            '400': error('The URI is not a file of this execution.'),
            '404': error('No such file.'),
          },
        },
      },
      '/api/v1/executions/{id}/kill': {
        post: {
          summary: 'Kill an execution',
          parameters: executionId,
          responses: {
            '202': json(ref('Execution'), 'Killing (KILLING, then KILLED).'),
            '409': error('The execution already ended.'),
          },
        },
      },
      '/api/v1/executions/{id}/resume': {
        post: {
          summary: 'Resume a paused execution (kite.flow.Pause)',
          parameters: executionId,
          responses: { '200': json(ref('Execution'), 'Resumed.'), '409': error('Not paused.') },
        },
      },
    },
    components: {
      schemas: {
        Error: {
          type: 'object',
          required: ['message'],
          properties: {
            message: { type: 'string' },
            code: { type: 'string' },
            errors: {
              type: 'array',
              items: {
                type: 'object',
                required: ['path', 'message'],
                properties: {
                  path: { type: 'string', description: 'e.g. tasks[2].retry.maxAttempts' },
                  message: { type: 'string' },
                  line: { type: 'integer', description: 'Line in the YAML.' },
                  column: { type: 'integer', description: 'Column (1-based) of the value to fix.' },
                  taskId: { type: 'string' },
                  type: { type: 'string' },
                  versionSpec: { type: 'string' },
                  decidedBy: { type: 'string' },
                  version: { type: 'string' },
                },
              },
            },
          },
        },
        FlowPlugin: {
          type: 'object',
          properties: {
            taskId: { type: 'string' },
            type: { type: 'string' },
            package: { type: 'string' },
            version: { type: 'string' },
            versionSpec: { type: 'string' },
            decidedBy: {
              type: 'string',
              enum: ['task', 'flow', 'namespace', 'instance', 'defaultVersion'],
            },
            integrity: { type: 'string' },
          },
        },
        Flow: {
          type: 'object',
          properties: {
            namespace: { type: 'string' },
            id: { type: 'string' },
            revision: { type: 'integer' },
            description: { type: 'string' },
            labels: { type: 'object', additionalProperties: { type: 'string' } },
            disabled: { type: 'boolean' },
            inputs: { type: 'array', items: { type: 'object' } },
            updated: { type: 'string', format: 'date-time' },
            source: { type: 'string' },
            plugins: { type: 'array', items: ref('FlowPlugin') },
          },
        },
        ExecutionPlugin: {
          type: 'object',
          properties: {
            type: { type: 'string' },
            kind: { type: 'string', enum: ['task', 'trigger', 'condition'] },
            package: { type: 'string' },
            version: { type: 'string' },
            integrity: { type: 'string' },
            decidedBy: { type: 'string' },
            taskIds: { type: 'array', items: { type: 'string' } },
          },
        },
        TaskRun: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            taskId: { type: 'string' },
            type: { type: 'string' },
            pluginVersion: { type: 'string' },
            parentTaskRunId: { type: 'string' },
            value: { description: 'The ForEach value.' },
            state: stateSchema(TASK_RUN_STATES),
            attempts: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  state: stateSchema(TASK_RUN_STATES),
                  error: { type: 'string' },
                  metrics: { type: 'array', items: { type: 'object' } },
                },
              },
            },
            outputs: { type: 'object' },
            error: { type: 'string' },
          },
        },
        ExecutionSummary: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            namespace: { type: 'string' },
            flowId: { type: 'string' },
            flowRevision: { type: 'integer' },
            state: stateSchema(STATES),
            labels: { type: 'object', additionalProperties: { type: 'string' } },
            inputs: { type: 'object' },
            outputs: { type: 'object' },
            plugins: { type: 'array', items: ref('ExecutionPlugin') },
            trigger: { type: 'object' },
            parent: { type: 'object' },
            error: { type: 'string' },
          },
        },
        Execution: {
          allOf: [
            ref('ExecutionSummary'),
            {
              type: 'object',
              properties: { taskRunList: { type: 'array', items: ref('TaskRun') } },
            },
          ],
        },
        LogEntry: {
          type: 'object',
          properties: {
            id: { type: 'integer' },
            executionId: { type: 'string' },
            taskRunId: { type: 'string' },
            taskId: { type: 'string' },
            attemptNumber: { type: 'integer' },
            level: { type: 'string', enum: ['trace', 'debug', 'info', 'warn', 'error'] },
            message: { type: 'string' },
            timestamp: { type: 'string', format: 'date-time' },
          },
        },
      },
    },
  }
}
