/** Who has to act on an error: the publisher or caller, the operator, or us. */
export type RegistryErrorKind = 'user' | 'operational' | 'internal'

/** Every failure the registry reports, by cause. */
export type RegistryErrorCode =
  | 'BAD_REQUEST'
  | 'TARBALL_CORRUPT'
  | 'TARBALL_TOO_LARGE'
  | 'TARBALL_ENTRY_INVALID'
  | 'MANIFEST_TOO_LARGE'
  | 'NAME_INVALID'
  | 'SCOPE_OWNED'
  | 'MANIFEST_MISSING'
  | 'MANIFEST_JSON_INVALID'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_MISMATCH'
  | 'SDK_RANGE_INVALID'
  | 'GROUP_OWNED'
  | 'TYPE_OWNED'
  | 'NOT_A_PLUGIN'
  | 'VERSION_EXISTS'
  | 'NOT_MAINTAINER'
  | 'UNAUTHENTICATED'
  | 'NOT_FOUND'
  | 'STORAGE_FAILED'
  | 'START_FAILED'

export interface RegistryErrorOptions {
  code: RegistryErrorCode
  kind?: RegistryErrorKind
  cause?: unknown
}

/**
 * The one error class of `@kite/registry`. `code` says what went wrong, `kind` who must act;
 * the HTTP edge maps it to a status code.
 *
 * @example
 * throw new RegistryError('group "acme.pokemon" belongs to @acme/other', { code: 'GROUP_OWNED' })
 */
export class RegistryError extends Error {
  readonly code: RegistryErrorCode
  readonly kind: RegistryErrorKind

  constructor(message: string, options: RegistryErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'RegistryError'
    this.code = options.code
    this.kind = options.kind ?? 'user'
  }
}

const STATUS: Record<RegistryErrorCode, number> = {
  BAD_REQUEST: 400,
  TARBALL_CORRUPT: 400,
  TARBALL_TOO_LARGE: 413,
  TARBALL_ENTRY_INVALID: 400,
  MANIFEST_TOO_LARGE: 413,
  NAME_INVALID: 400,
  SCOPE_OWNED: 403,
  MANIFEST_MISSING: 400,
  MANIFEST_JSON_INVALID: 400,
  MANIFEST_INVALID: 400,
  MANIFEST_MISMATCH: 400,
  SDK_RANGE_INVALID: 400,
  GROUP_OWNED: 409,
  TYPE_OWNED: 409,
  NOT_A_PLUGIN: 400,
  VERSION_EXISTS: 409,
  NOT_MAINTAINER: 403,
  UNAUTHENTICATED: 401,
  NOT_FOUND: 404,
  STORAGE_FAILED: 500,
  START_FAILED: 500,
}

/** The HTTP status an error maps to at the edge. */
export function statusOf(error: RegistryError): number {
  return STATUS[error.code]
}
