import type { KiteApp } from '@kite/runtime'
import {
  type ClientRequestOptions,
  type ClientResponse,
  hc,
  type InferResponseType,
} from 'hono/client'
import type { SuccessStatusCode } from 'hono/utils/http-status'
import { KiteClientError } from './errors.js'
import { readEvents } from './follow.js'

/** The `/api/v1` part of the `hc` client typed from the runtime's app. */
function createApiClient(server: string, options: ClientRequestOptions) {
  return hc<KiteApp>(server, options).api.v1
}
type Api = ReturnType<typeof createApiClient>
// biome-ignore lint/suspicious/noExplicitAny: any answer of the typed client
type AnyResponse = ClientResponse<any, number, string>
/** The body of the 2xx answers a route declares. */
type SuccessBody<R> =
  R extends ClientResponse<infer T, infer S, string>
    ? S extends SuccessStatusCode
      ? T
      : never
    : never

/** A flow as the runtime answers it (with the plugin version each task resolved to). */
export type Flow = InferResponseType<Api['flows']['$post'], 200>
/** One saved revision of a flow. */
export type FlowRevision = InferResponseType<
  Api['flows'][':namespace'][':id']['revisions']['$get'],
  200
>[number]
/** A valid flow's validation answer. */
export type FlowValidation = InferResponseType<Api['flows']['validate']['$post'], 200>
/** An execution with its task runs. */
export type Execution = InferResponseType<Api['executions'][':id']['$get'], 200>
/** A page of executions (without task runs), newest first. */
export type ExecutionPage = InferResponseType<Api['executions']['$get'], 200>
export type ExecutionState = Execution['state']['current']
export type TaskRun = Execution['taskRunList'][number]
/** One log line of an execution. */
export type LogEntry = InferResponseType<Api['executions'][':id']['logs']['$get'], 200>[number]
/** The installed plugins, their versions and types. */
export type PluginList = InferResponseType<Api['plugins']['$get'], 200>
export type PluginInstallResult = InferResponseType<Api['plugins']['install']['$post'], 200>
export type PluginUninstallResult = InferResponseType<Api['plugins']['uninstall']['$delete'], 200>
export type PluginResolveResult = InferResponseType<Api['plugins']['resolve']['$post'], 200>
/** The upgrade assistant's report: per flow and task, unchanged / migrated / blocked. */
export type PluginUpgradeResult = InferResponseType<Api['plugins']['upgrade']['$post'], 200>
export type PluginDefaults = InferResponseType<
  Api['namespaces'][':namespace']['plugin-defaults']['$get'],
  200
>
export type TriggerList = InferResponseType<Api['triggers']['$get'], 200>
export type Trigger = TriggerList['results'][number]
export type Health = InferResponseType<Api['health']['$get'], 200>
/** The live nodes sharing the runtime's store, the active scheduler and the plugin set. */
export type Cluster = InferResponseType<Api['cluster']['$get'], 200>
export type ClusterNode = Cluster['nodes'][number]

/** JSON inputs, or multipart/form-data when one of them is a file (`Blob`). */
function inputsBody(
  inputs: Record<string, unknown>,
): { json: Record<string, unknown> } | { form: Record<string, string | Blob> } {
  if (!Object.values(inputs).some((value) => value instanceof Blob)) return { json: inputs }
  const form: Record<string, string | Blob> = {}
  for (const [key, value] of Object.entries(inputs)) {
    if (value === undefined) continue
    form[key] = value instanceof Blob || typeof value === 'string' ? value : JSON.stringify(value)
  }
  return { form }
}

function bothBodies(body: ReturnType<typeof inputsBody>) {
  return 'json' in body
    ? { json: body.json, form: {} }
    : { form: body.form, json: undefined as unknown as Record<string, unknown> }
}

/** What a replay starts from: `POST /executions/{id}/replay`'s body. */
export interface ReplayOptions {
  taskRunId?: string
  revision?: number
  keepPlugins?: boolean
}
/** A user who may log in (never the password). */
export type User = InferResponseType<Api['users']['$get'], 200>[number]
export type UserRole = User['role']
/** An API token as listed (never the token itself). */
export type ApiToken = InferResponseType<Api['tokens']['$get'], 200>[number]
/** A new API token, with the token itself shown this once. */
export type CreatedToken = InferResponseType<Api['tokens']['$post'], 201>
/** Who is logged in, and whether the runtime asks for a login. */
export type Me = InferResponseType<Api['auth']['me']['$get'], 200>

/** What `follow()` yields: each log line, and the execution after each change of state. */
export type FollowEvent =
  | { type: 'log'; log: LogEntry }
  | { type: 'state'; state: ExecutionState; execution: Execution }

export interface KiteClientOptions {
  /** The runtime, e.g. `http://127.0.0.1:8080` (without `/api/v1`). */
  server: string
  /**
   * Sent as `Authorization: Bearer <token>` (every route once the runtime has users). Default:
   * `KITE_TOKEN` from the environment, when there is one (Node).
   */
  token?: string
  /** A fetch to use instead of the global one. */
  fetch?: typeof fetch
}

export interface StartOptions {
  /**
   * The inputs. With a `Blob` (or `File`) among them they go as multipart/form-data: each Blob a
   * file part (a FILE input's upload), other values as text (JSON text for objects).
   */
  inputs?: Record<string, unknown>
  /** Answer when the execution ends (or pauses) instead of at once. */
  wait?: boolean
  /** A flow revision (latest by default). */
  revision?: number
  labels?: Record<string, string>
}

export interface ListExecutionsOptions {
  namespace?: string
  flowId?: string
  state?: ExecutionState | ExecutionState[]
  /** Labels every execution listed carries (`{ env: 'prod' }`). */
  labels?: Record<string, string>
  page?: number
  size?: number
}

/**
 * A typed client for the Kite runtime's HTTP API (`/api/v1`), typed from the runtime's own app.
 * Every failure is a `KiteClientError` with the runtime's `code`, `status` and `errors`.
 *
 * @example
 * const kite = createKiteClient({ server: 'http://127.0.0.1:8080' })
 * await kite.flows.save(readFileSync('hello.yml', 'utf8'))
 * const execution = await kite.executions.start('company.team', 'hello', { wait: true })
 * for await (const event of kite.executions.follow(execution.id)) console.log(event)
 */
export function createKiteClient(options: KiteClientOptions) {
  const server = options.server.replace(/\/+$/, '')
  const fetcher = options.fetch ?? fetch
  const token = options.token ?? tokenFromEnv()
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {}
  const api = createApiClient(server, { headers, fetch: fetcher })

  /** The answer's body, or the runtime's error as a KiteClientError. */
  async function call<R extends AnyResponse>(
    what: string,
    request: () => Promise<R>,
  ): Promise<SuccessBody<R>> {
    let response: R
    try {
      response = await request()
    } catch (error) {
      throw unreachable(server, error)
    }
    if (!response.ok) throw await answerError(server, what, response)
    if (response.status === 204) return undefined as SuccessBody<R>
    return (await response.json()) as SuccessBody<R>
  }

  const yaml = (source: string) => ({
    headers: { ...headers, 'content-type': 'application/x-yaml' },
    init: { body: source },
  })
  const flowParam = (namespace: string, id: string) => ({ param: { namespace, id } })
  const specs = (plugins: readonly string[], force?: boolean) => ({
    json: { plugins: [...plugins], ...(force === undefined ? {} : { force }) },
  })

  const flows = {
    /** Every flow (latest revision), optionally of a namespace and those below it. */
    list: (namespace?: string) =>
      call('list flows', () => api.flows.$get({ query: namespace ? { namespace } : {} })),
    /** Creates the flow, or saves a new revision when it exists. */
    async save(source: string): Promise<Flow> {
      try {
        return await call('save the flow', () => api.flows.$post(undefined, yaml(source)))
      } catch (error) {
        if (!(error instanceof KiteClientError) || error.code !== 'FLOW_EXISTS') throw error
        const { namespace, id } = flowKey(source, error)
        const flow = api.flows[':namespace'][':id']
        return call(`save flow ${namespace}/${id}`, () =>
          flow.$put(flowParam(namespace, id), yaml(source)),
        )
      }
    },
    /** Validates a flow without saving it; throws with every problem (`errors`) when invalid. */
    validate: (source: string) =>
      call('validate the flow', () => api.flows.validate.$post(undefined, yaml(source))),
    get: (namespace: string, id: string, revision?: number) =>
      call(`get flow ${namespace}/${id}`, () =>
        api.flows[':namespace'][':id'].$get({
          ...flowParam(namespace, id),
          query: revision === undefined ? {} : { revision: String(revision) },
        }),
      ),
    delete: async (namespace: string, id: string): Promise<void> => {
      await call(`delete flow ${namespace}/${id}`, () =>
        api.flows[':namespace'][':id'].$delete(flowParam(namespace, id)),
      )
    },
    revisions: (namespace: string, id: string) =>
      call(`list revisions of ${namespace}/${id}`, () =>
        api.flows[':namespace'][':id'].revisions.$get(flowParam(namespace, id)),
      ),
    /** The JSON Schema (draft 2020-12) of a flow for the runtime's installed plugin versions. */
    schema: () => call('get the flow schema', () => api.plugins.schemas.flow.$get()),
  }

  const execution = api.executions[':id']
  const executions = {
    /** Starts an execution; with `wait: true` it answers when the execution ends (or pauses). */
    start: (namespace: string, flowId: string, start: StartOptions = {}) =>
      call(`start ${namespace}/${flowId}`, () =>
        api.executions[':namespace'][':id'].$post({
          param: { namespace, id: flowId },
          query: {
            ...(start.wait ? { wait: 'true' as const } : {}),
            ...(start.revision === undefined ? {} : { revision: String(start.revision) }),
            ...(start.labels
              ? { labels: Object.entries(start.labels).map(([key, value]) => `${key}:${value}`) }
              : {}),
          },
          // The typed client asks for both bodies of a route with two media types; it sends
          // `json` when given, so the form case leaves it undefined.
          ...bothBodies(inputsBody(start.inputs ?? {})),
        }),
      ),
    get: (id: string) => call(`get execution ${id}`, () => execution.$get({ param: { id } })),
    list: (filter: ListExecutionsOptions = {}) =>
      call('list executions', () =>
        api.executions.$get({
          query: {
            ...(filter.namespace ? { namespace: filter.namespace } : {}),
            ...(filter.flowId ? { flowId: filter.flowId } : {}),
            ...(filter.state ? { state: [filter.state].flat() } : {}),
            ...(filter.labels && Object.keys(filter.labels).length > 0
              ? { labels: Object.entries(filter.labels).map(([key, value]) => `${key}:${value}`) }
              : {}),
            ...(filter.page === undefined ? {} : { page: String(filter.page) }),
            ...(filter.size === undefined ? {} : { size: String(filter.size) }),
          },
        }),
      ),
    logs: (id: string, query: { minLevel?: LogEntry['level']; taskId?: string } = {}) =>
      call(`get logs of ${id}`, () => execution.logs.$get({ param: { id }, query })),
    kill: (id: string) => call(`kill ${id}`, () => execution.kill.$post({ param: { id } })),
    /** Resumes a paused execution, with its Pause's `onResume` inputs (422 when wrong). */
    resume: (id: string, inputs: Record<string, unknown> = {}) =>
      call(`resume ${id}`, () => execution.resume.$post({ param: { id }, json: inputs })),
    /** Runs a FAILED or KILLED execution again from its failed task runs (409 otherwise). */
    restart: (id: string) =>
      call(`restart ${id}`, () => execution.restart.$post({ param: { id } })),
    /**
     * A new execution that runs an ended one again from a task run (the whole flow without
     * `taskRunId`), with the earlier outputs; plugin versions are resolved again unless
     * `keepPlugins` (the answer's `plugins` and `replayOf` say which and from where).
     */
    replay: (id: string, options: ReplayOptions = {}) =>
      call(`replay ${id}`, () => execution.replay.$post({ param: { id }, json: options })),
    /**
     * Follows an execution: yields every log line (those already written first) and the
     * execution each time it changes, and ends when the execution reaches a final state (or
     * when the loop is left, which closes the stream).
     */
    async *follow(id: string): AsyncGenerator<FollowEvent> {
      let response: Response
      try {
        response = await execution.follow.$get({ param: { id } })
      } catch (error) {
        throw unreachable(server, error)
      }
      if (!response.ok) throw await answerError(server, `follow ${id}`, response)
      if (!response.body) {
        throw new KiteClientError(`follow ${id}: the runtime sent no stream`, {
          code: 'BAD_ANSWER',
          kind: 'internal',
        })
      }
      for await (const message of readEvents(response.body)) {
        if (message.event === 'log') yield { type: 'log', log: message.data as LogEntry }
        else if (message.event === 'execution') {
          const current = message.data as Execution
          yield { type: 'state', state: current.state.current, execution: current }
        } else if (message.event === 'end') return
      }
    },
  }

  const plugins = {
    list: () => call('list plugins', () => api.plugins.$get()),
    /** Installs versions from the registry (`name@1.2.0`, a range, `LATEST`, a dist-tag). */
    install: (list: readonly string[]) =>
      call('install plugins', () => api.plugins.install.$post(specs(list))),
    /** Uninstalls exact versions; refused while saved flows use one, unless `force`. */
    uninstall: (list: readonly string[], uninstall: { force?: boolean } = {}) =>
      call('uninstall plugins', () =>
        api.plugins.uninstall.$delete({ query: {}, ...specs(list, uninstall.force) }),
      ),
    /** What each spec chooses among the registry's and the installed versions. */
    resolve: (list: readonly string[]) =>
      call('resolve plugins', () => api.plugins.resolve.$post(specs(list))),
    /** Upgrades saved flows to an installed version: a dry run unless `apply`. */
    upgrade: (request: { plugin: string; to: string; namespace?: string; apply?: boolean }) =>
      call(`upgrade ${request.plugin} to ${request.to}`, () =>
        api.plugins.upgrade.$post({ json: request }),
      ),
  }

  const defaults = api.namespaces[':namespace']['plugin-defaults']
  const namespaces = {
    pluginDefaults: (namespace: string) =>
      call(`get plugin defaults of ${namespace}`, () => defaults.$get({ param: { namespace } })),
    setPluginDefaults: (namespace: string, pluginDefaults: Record<string, unknown>[]) =>
      call(`set plugin defaults of ${namespace}`, () =>
        defaults.$put({ param: { namespace }, json: { pluginDefaults } }),
      ),
  }

  const trigger = api.triggers[':namespace'][':flowId'][':triggerId']
  type TriggerKey = { namespace: string; flowId: string; triggerId: string }
  const triggers = {
    list: (filter: { namespace?: string; flowId?: string } = {}) =>
      call('list triggers', () => api.triggers.$get({ query: filter })),
    enable: (key: TriggerKey) =>
      call(`enable trigger ${key.triggerId}`, () => trigger.enable.$post({ param: key })),
    disable: (key: TriggerKey) =>
      call(`disable trigger ${key.triggerId}`, () => trigger.disable.$post({ param: key })),
    reset: (key: TriggerKey) =>
      call(`reset trigger ${key.triggerId}`, () => trigger.reset.$post({ param: key })),
  }

  const users = {
    list: () => call('list users', () => api.users.$get()),
    add: (user: { name: string; role: UserRole; password: string }) =>
      call(`add user ${user.name}`, () => api.users.$post({ json: user })),
    /** Removes a user; their sessions end and their tokens are revoked. */
    remove: async (name: string): Promise<void> => {
      await call(`remove user ${name}`, () => api.users[':name'].$delete({ param: { name } }))
    },
  }

  const tokens = {
    list: () => call('list tokens', () => api.tokens.$get()),
    /** Creates an API token; the answer's `token` is shown this once. */
    create: (token: { name: string; role?: UserRole }) =>
      call(`create token ${token.name}`, () => api.tokens.$post({ json: token })),
    /** Revokes a token by id (`tok_...`): it stops working at once. */
    revoke: async (id: string): Promise<void> => {
      await call(`revoke token ${id}`, () => api.tokens[':id'].$delete({ param: { id } }))
    },
  }

  return {
    server,
    health: () => call('health', () => api.health.$get()),
    /** Who this client is to the runtime (`user: null` without a login), and whether it asks for one. */
    me: () => call('who am I', () => api.auth.me.$get()),
    users,
    tokens,
    flows,
    executions,
    plugins,
    namespaces,
    triggers,
    /** The nodes sharing the runtime's store (SPEC 9): roles, heartbeats, slots, plugins. */
    cluster: () => call('read the cluster', () => api.cluster.$get()),
    /** The underlying `hc` client, for routes the methods above do not cover. */
    api,
  }
}

/** A client made by `createKiteClient`. */
export type KiteClient = ReturnType<typeof createKiteClient>

/** `KITE_TOKEN` where there is a process environment (not in a browser). */
function tokenFromEnv(): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env
  return env?.KITE_TOKEN || undefined
}

function unreachable(server: string, error: unknown): KiteClientError {
  const reason = error instanceof Error ? error.message : String(error)
  return new KiteClientError(`cannot reach the runtime at ${server} (${reason})`, {
    code: 'UNREACHABLE',
    kind: 'operational',
    cause: error,
  })
}

/**
 * The runtime's JSON error as a KiteClientError. An answer without one is not from the runtime's
 * API (which answers every error, 404 included, with `{ message, code }`): below 500 the message
 * says `server` does not look like a Kite runtime (5xx can be a proxy in front of one).
 */
async function answerError(
  server: string,
  what: string,
  response: Response,
): Promise<KiteClientError> {
  const text = await response.text().catch(() => '')
  let body: { message?: unknown; code?: unknown; errors?: unknown } = {}
  try {
    body = JSON.parse(text)
  } catch {
    // Not the runtime's JSON error: the status says what happened.
  }
  const notKite =
    response.status < 500
      ? ` (the server at ${server} does not look like a Kite runtime: it answered no Kite error)`
      : ''
  const message =
    typeof body.message === 'string'
      ? body.message
      : `${response.status} ${response.statusText}${notKite}`
  return new KiteClientError(`${what}: ${message}`, {
    code: typeof body.code === 'string' ? body.code : `HTTP_${response.status}`,
    kind: response.status >= 500 ? 'internal' : 'user',
    status: response.status,
    errors: Array.isArray(body.errors) ? body.errors : [],
  })
}

/** The namespace and id of a flow the runtime said exists (its message names them). */
function flowKey(source: string, error: KiteClientError): { namespace: string; id: string } {
  const field = (name: string) =>
    new RegExp(`^${name}:\\s*["']?([^"'\\s#]+)`, 'm').exec(source)?.[1]
  const namespace = field('namespace')
  const id = field('id')
  if (namespace && id) return { namespace, id }
  throw error
}
