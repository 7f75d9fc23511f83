/** Who has to act: the caller (bad input), the operator (server down), or us. */
export type ClientErrorKind = 'user' | 'operational' | 'internal'

/** One problem of a validation error: where (`tasks[2].retry`, `body.plugins.0`) and what. */
export interface ClientIssue {
  path: string
  message: string
  line?: number
  [key: string]: unknown
}

export interface KiteClientErrorOptions {
  /** The runtime's error code (`FLOW_INVALID`, `NOT_FOUND`, ...) or `UNREACHABLE`/`BAD_ANSWER`. */
  code: string
  kind: ClientErrorKind
  /** The HTTP status, when the runtime answered. */
  status?: number
  errors?: ClientIssue[]
  cause?: unknown
}

/**
 * The one error class of `@kite/client`: the runtime's `{ message, code, errors[] }` answer, or a
 * runtime that could not be reached.
 */
export class KiteClientError extends Error {
  readonly code: string
  readonly kind: ClientErrorKind
  readonly status: number | undefined
  readonly errors: ClientIssue[]

  constructor(message: string, options: KiteClientErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'KiteClientError'
    this.code = options.code
    this.kind = options.kind
    this.status = options.status
    this.errors = options.errors ?? []
  }
}

/** True for a KiteClientError (from any copy of this package). */
export function isKiteClientError(error: unknown): error is KiteClientError {
  return error instanceof Error && error.name === 'KiteClientError' && 'code' in error
}
