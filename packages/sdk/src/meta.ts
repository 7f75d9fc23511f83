/**
 * Kite's own keys in zod's `.meta()`, typed through zod 4's `GlobalMeta`, so a wrong value
 * (`.meta({ dynamic: 'no' })`) does not compile. zod's metadata also takes any other key (it is
 * JSON Schema), which is why `kite-plugin build` refuses a misspelt Kite key.
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
