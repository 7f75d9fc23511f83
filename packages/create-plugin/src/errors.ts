/** What went wrong while scaffolding; the CLI prints the message and exits with 1. */
export type ScaffoldErrorCode =
  | 'USAGE'
  | 'DIR_NOT_EMPTY'
  | 'GROUP_INVALID'
  | 'PACKAGE_NAME_INVALID'
  | 'NAME_INVALID'
  | 'NAME_TAKEN'
  | 'REGISTRY_INVALID'
  | 'NOT_INTERACTIVE'
  | 'CANCELLED'
  | 'TEMPLATE_INVALID'
  | 'WRITE_FAILED'

export type ScaffoldErrorKind = 'user' | 'operational' | 'internal'

export interface ScaffoldErrorOptions {
  code: ScaffoldErrorCode
  kind?: ScaffoldErrorKind
  cause?: unknown
}

/** The one error class of create-kite-plugin: a one-line message that says what to do. */
export class ScaffoldError extends Error {
  readonly code: ScaffoldErrorCode
  readonly kind: ScaffoldErrorKind

  constructor(message: string, options: ScaffoldErrorOptions) {
    super(message, { cause: options.cause })
    this.name = 'ScaffoldError'
    this.code = options.code
    this.kind = options.kind ?? 'user'
  }
}

export function isScaffoldError(error: unknown): error is ScaffoldError {
  return error instanceof ScaffoldError
}
