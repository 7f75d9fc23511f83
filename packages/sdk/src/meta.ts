import type { GlobalMeta } from 'zod'

/**
 * Kite's own keys in zod's `.meta()`, typed through zod 4's `GlobalMeta`, so a wrong value
 * (`.meta({ dynamic: 'no' })`) does not compile. zod's metadata also takes any other key (it is
 * JSON Schema: `GlobalMeta` has an index signature), so a misspelt key (`dynamc`) still compiles
 * there; `kiteMeta({...})` takes only the known keys and refuses it at compile time, and
 * `kite-plugin build` refuses it in plain `.meta()`.
 */
declare module 'zod' {
  interface GlobalMeta {
    /**
     * `false`: the runtime passes this property to the task as written, without rendering its
     * `{{ }}` expressions (a template the task renders itself, a script).
     */
    dynamic?: boolean
    /**
     * On an outputs (or properties) object: groups of fields of which at most one is ever set,
     * e.g. `[['value', 'uri']]`. Reading the absent one from a flow is an error naming the one
     * that is there.
     */
    exclusive?: ReadonlyArray<readonly [string, string, ...string[]]>
    /** `true`, or a note telling users what to use instead. */
    deprecated?: boolean
  }
}

/** The `.meta()` keys Kite reads; any other key goes into the JSON Schema as it is. */
export const KITE_META_KEYS = ['dynamic', 'exclusive', 'deprecated'] as const

/**
 * The metadata `kiteMeta` accepts: Kite's keys and the JSON Schema annotations zod writes out,
 * and nothing else, so an object literal with a misspelt key does not compile.
 */
// A type alias, not an interface: only an alias is assignable to zod's indexed metadata type.
export type KiteMeta = {
  dynamic?: boolean
  exclusive?: ReadonlyArray<readonly [string, string, ...string[]]>
  deprecated?: boolean
  id?: string
  title?: string
  description?: string
  examples?: GlobalMeta['examples']
}

/**
 * Kite's metadata, checked key by key: `.meta(kiteMeta({ dynamic: false }))`. Plain
 * `.meta({ dynamc: false })` compiles (zod's metadata is open JSON Schema); this does not.
 *
 * @example
 * z.string().describe('A script, run as written.').meta(kiteMeta({ dynamic: false }))
 */
export function kiteMeta(meta: KiteMeta): KiteMeta {
  return meta
}
