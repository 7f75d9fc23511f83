import type { z } from 'zod'

/** Who has to act on an error: the flow or plugin author, the operator, or us. */
export type ErrorKind = 'user' | 'operational' | 'internal'

/** Codes the SDK itself raises. Plugins may use their own codes too. */
export type KiteErrorCode =
  | 'DEFINITION_INVALID'
  | 'PROPERTIES_INVALID'
  | 'OUTPUTS_INVALID'
  | 'EVENT_INVALID'
  | 'MANIFEST_INVALID'
  | 'DURATION_INVALID'
  | 'OUTPUT_ABSENT'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'BUILD_FAILED'
  | 'BUNDLE_INVALID'
  | 'TASK_FAILED'
  | 'NOT_AVAILABLE'

export interface KiteErrorOptions {
  /** A stable machine-readable code; the SDK's own codes autocomplete, plugins may add theirs. */
  code: KiteErrorCode | (string & {})
  kind?: ErrorKind
  cause?: unknown
}

/**
 * The one error class of Kite plugins and the SDK. A task that throws it fails its task run with
 * its message; `kind` tells who must act.
 *
 * @example
 * throw new KiteError('the server answered 503', { code: 'HTTP_STATUS', kind: 'operational' })
 */
export class KiteError extends Error {
  readonly code: KiteErrorCode | (string & {})
  readonly kind: ErrorKind

  constructor(message: string, options: KiteErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'KiteError'
    this.code = options.code
    this.kind = options.kind ?? 'user'
  }
}

/** True for a KiteError from any copy of the SDK (an instanceof check fails across bundles). */
export function isKiteError(error: unknown): error is KiteError {
  return (
    error instanceof Error &&
    typeof (error as Partial<KiteError>).code === 'string' &&
    typeof (error as Partial<KiteError>).kind === 'string'
  )
}

/** Renders zod issues as `path: message` lines a flow author can act on. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], prefix?: string): string[] {
  return issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.')
    return path ? `${path}: ${issue.message}` : issue.message
  })
}
