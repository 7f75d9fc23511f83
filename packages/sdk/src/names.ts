/** A plugin group: dotted lower-case segments, e.g. `kite.http`, `acme.pokemon`. */
export const GROUP_PATTERN =
  /^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*(?:\.[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*)+$/

/** A task/trigger/condition name: PascalCase, with optional dotted lower-case sub-groups. */
export const NAME_PATTERN = /^(?:[a-z][a-z0-9]*\.)*[A-Z][A-Za-z0-9]*$/

/** A full type id: a group, then a name (`acme.greeting.Hello`, `kite.core.log.Log`). */
export const TYPE_ID_PATTERN =
  /^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*(?:\.[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*)+\.[A-Z][A-Za-z0-9]*$/

/** An npm package name, scoped or not. */
export const PACKAGE_NAME_PATTERN = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/

/** A full semver version (the SDK depends on nothing but zod, so this is a plain pattern). */
export const SEMVER_PATTERN =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/

/** Builds a type id from its group and name: `kite.http` + `Request` → `kite.http.Request`. */
export function typeId(group: string, name: string): string {
  return `${group}.${name}`
}
