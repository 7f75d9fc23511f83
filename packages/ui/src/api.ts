// The runtime's HTTP API as the UI uses it: same origin, the session cookie, `X-Kite-Csrf: 1` on
// every request (auth contract), and a 401 sends the user to the login page.

import { TERMINAL_EXECUTION_STATES } from '@kite/sdk/states'
import { navigate } from './router'

export interface Issue {
  path: string
  message: string
  line?: number
  column?: number
  taskId?: string
}

/** An answer of the API that is not 2xx, with its `{ message, code, errors }`. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly body: { errors?: Issue[]; flows?: string[]; [key: string]: unknown },
  ) {
    super(message)
    this.name = 'ApiError'
  }
  get errors(): Issue[] {
    return this.body.errors ?? []
  }
}

export const API = '/api/v1'

export interface RequestOptions {
  method?: string
  /** JSON-encoded unless a string (sent as YAML). */
  body?: unknown
  query?: Record<string, string | undefined>
  /** 404 answers `fallback` instead of throwing (routes other branches add). */
  fallback?: unknown
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const query = new URLSearchParams()
  for (const [key, value] of Object.entries(options.query ?? {})) {
    if (value !== undefined && value !== '') query.set(key, value)
  }
  const headers: Record<string, string> = { 'X-Kite-Csrf': '1', accept: 'application/json' }
  let body: string | undefined
  if (typeof options.body === 'string') {
    headers['content-type'] = 'application/x-yaml'
    body = options.body
  } else if (options.body !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(options.body)
  }
  const response = await fetch(`${API}${path}${query.size > 0 ? `?${query}` : ''}`, {
    method: options.method ?? 'GET',
    headers,
    credentials: 'same-origin',
    ...(body === undefined ? {} : { body }),
  })
  if (response.status === 404 && 'fallback' in options) return options.fallback as T
  if (response.status === 204) return undefined as T
  const text = await response.text()
  let json: Record<string, unknown> = {}
  try {
    json = text ? JSON.parse(text) : {}
  } catch {
    json = { message: text }
  }
  if (!response.ok) {
    if (response.status === 401 && !path.startsWith('/auth/')) {
      navigate(`/login?next=${encodeURIComponent(location.hash.slice(1) || '/flows')}`)
    }
    const message =
      typeof json.message === 'string' ? json.message : `${response.status} ${response.statusText}`
    throw new ApiError(message, response.status, String(json.code ?? response.status), json)
  }
  return json as T
}

/** The `results` of a list route (`/flows`, `/triggers`, ...). */
export const results = async <T>(path: string, options?: RequestOptions): Promise<T[]> =>
  (await api<{ results: T[] }>(path, options)).results

export const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error)

// --- shapes (the runtime's schemas.ts, as far as the UI reads them) ----------------------------

export interface FlowPlugin {
  taskId: string
  type: string
  package: string
  version: string
  versionSpec: string
  decidedBy: string
}

export interface FlowInput {
  id: string
  type: string
  description?: string
  displayName?: string
  required?: boolean
  defaults?: unknown
  values?: string[]
}

export interface Flow {
  namespace: string
  id: string
  revision: number
  description?: string
  disabled?: boolean
  inputs?: FlowInput[]
  tasks?: number
  triggers?: Array<{ id: string; type: string }>
  updated: string
  source: string
  plugins?: FlowPlugin[]
}

export interface FlowRevision {
  revision: number
  updated: string
  deleted: boolean
  source: string
}

export interface StateInfo {
  current: string
  histories: Array<{ state: string; date: string }>
  startDate: string
  endDate?: string
  duration?: number
}

export interface ExecutionPlugin {
  type: string
  kind: string
  package: string
  version: string
  decidedBy: string
  taskIds: string[]
}

export interface TaskRun {
  id: string
  taskId: string
  type: string
  pluginVersion?: string
  parentTaskRunId?: string
  value?: unknown
  state: StateInfo
  attempts: Array<{ state: StateInfo; error?: string }>
  outputs?: Record<string, unknown>
  error?: string
}

export interface Execution {
  id: string
  namespace: string
  flowId: string
  flowRevision: number
  state: StateInfo
  inputs: Record<string, unknown>
  outputs?: Record<string, unknown>
  plugins: ExecutionPlugin[]
  taskRunList?: TaskRun[]
  error?: string
}

export interface LogEntry {
  id: number
  taskId?: string
  attemptNumber?: number
  level: string
  message: string
  timestamp: string
}

export interface InstalledPlugin {
  name: string
  group?: string
  latestInstalled?: string
  latestAvailable?: string
  updateAvailable: boolean
  versions: Array<{
    version: string
    origin: string
    types: Array<{ type: string; kind: string }>
    /** Saved flows (`namespace/id`) resolving to this version. */
    flows: string[]
  }>
}

export interface PluginList {
  registry: string | null
  sync: string
  connected: boolean
  results: InstalledPlugin[]
}

export interface User {
  name: string
  role: 'viewer' | 'admin'
}

export interface Me {
  user: User | null
  authRequired: boolean
}

export { EXECUTION_STATES } from '@kite/sdk/states'

/** The execution states after which nothing more happens (a set of plain strings for lookups). */
export const FINAL_STATES: ReadonlySet<string> = new Set<string>(TERMINAL_EXECUTION_STATES)

export interface UserInfo extends User {
  createdAt: string
}

export interface ApiToken {
  id: string
  name: string
  owner: string
  role: User['role']
  createdAt: string
  lastUsedAt?: string
  revokedAt?: string
}
