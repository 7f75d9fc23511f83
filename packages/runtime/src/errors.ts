/** Who has to act on an error: the flow or plugin author, the operator, or us. */
export type ErrorKind = 'user' | 'operational' | 'internal'

/** Every code the runtime raises; the HTTP API and the CLI map them to status and exit codes. */
export type RuntimeErrorCode =
  | 'FLOW_INVALID'
  | 'FLOW_NOT_FOUND'
  | 'FLOW_EXISTS'
  | 'FLOW_DISABLED'
  | 'INPUTS_INVALID'
  | 'CONFIG_INVALID'
  | 'EXECUTION_NOT_FOUND'
  | 'EXECUTION_STATE'
  | 'EXECUTION_EXISTS'
  | 'PLUGIN_NOT_FOUND'
  | 'PLUGIN_VERSION'
  | 'PLUGIN_INVALID'
  | 'PLUGIN_CONFLICT'
  /** A plugin version asks for permissions `plugins.permissions` does not grant. */
  | 'PLUGIN_PERMISSION'
  | 'PROPERTIES_INVALID'
  | 'EXPRESSION'
  | 'TASK_FAILED'
  | 'TASK_TIMEOUT'
  | 'TASK_KILLED'
  | 'WORKER_LOST'
  | 'SECRET_NOT_FOUND'
  | 'STORAGE'
  | 'REQUEST_INVALID'
  | 'NOT_FOUND'
  | 'REGISTRY_UNAVAILABLE'
  | 'BODY_TOO_LARGE'
  | 'UNAUTHORIZED'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'LOGIN_FAILED'
  | 'RATE_LIMITED'
  | 'USER_EXISTS'
  | 'USER_NOT_FOUND'
  | 'TOKEN_NOT_FOUND'
  | 'LAST_ADMIN'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'INTERNAL'

/** One problem in a flow, inputs or a request: where (`tasks[2].retry.maxAttempts`) and what. */
export interface ValidationIssue {
  path: string
  message: string
  /** 1-based line in the flow's YAML, when the issue is about a flow. */
  line?: number
  /** 1-based column of the offending value (or key) on that line. */
  column?: number
  /** For plugin resolution and property problems: which task, type and version were involved. */
  taskId?: string
  type?: string
  versionSpec?: string
  decidedBy?: string
  version?: string
  /** For plugin resolution problems: the resolver's code (a missing plugin may be installed later). */
  code?: RuntimeErrorCode
}

export interface RuntimeErrorOptions {
  code: RuntimeErrorCode
  kind?: ErrorKind
  cause?: unknown
  /** For validation errors: every problem found, not only the first. */
  issues?: ValidationIssue[]
}

/**
 * The one error class of `@kite/runtime`. Messages name the thing (`task "get": ...`); `issues`
 * lists every problem of a validation error.
 *
 * @example
 * throw new RuntimeError('flow "company.team/hello" not found', { code: 'FLOW_NOT_FOUND' })
 */
export class RuntimeError extends Error {
  readonly code: RuntimeErrorCode
  readonly kind: ErrorKind
  readonly issues: ValidationIssue[]

  constructor(message: string, options: RuntimeErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'RuntimeError'
    this.code = options.code
    this.kind = options.kind ?? 'user'
    this.issues = options.issues ?? []
  }
}

/**
 * A commit refused because another executor holds the execution now (its lease passed while this
 * one was silent): the runner stops without writing more, the new holder carries on (SPEC 9).
 */
export class LeaseLostError extends RuntimeError {
  constructor(executionId: string, executorId: string) {
    super(
      `execution ${executionId} is no longer held by executor ${executorId}: another executor took it over`,
      { code: 'EXECUTION_STATE', kind: 'operational' },
    )
  }
}

/** True for a RuntimeError (from any copy of this package). */
export function isRuntimeError(error: unknown): error is RuntimeError {
  return (
    error instanceof RuntimeError ||
    (error instanceof Error &&
      error.name === 'RuntimeError' &&
      typeof (error as Partial<RuntimeError>).code === 'string' &&
      Array.isArray((error as Partial<RuntimeError>).issues))
  )
}

/** The message of anything thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** A one-line-per-issue rendering of a validation error, for the CLI and logs. */
export function formatValidationIssues(issues: readonly ValidationIssue[]): string[] {
  return issues.map((issue) => {
    const where = issue.line === undefined ? issue.path : `${issue.path} (line ${issue.line})`
    return where ? `${where}: ${issue.message}` : issue.message
  })
}
