/** A `name@spec` as the API, the CLI and the client take it: the package and its version spec. */
export interface PluginSpec {
  name: string
  spec?: string
}

/**
 * Splits `name@spec` (`@scope/name@^1` → name `@scope/name`, spec `^1`); the spec is an exact
 * version, a range, `LATEST`/`OLDEST` or a dist-tag, and may be missing.
 *
 * @example
 * parsePluginSpec('@acme/kite-plugin-greeting@1.0.0') // { name: '@acme/kite-plugin-greeting', spec: '1.0.0' }
 */
export function parsePluginSpec(text: string): PluginSpec {
  const at = text.indexOf('@', 1)
  if (at < 0) return { name: text }
  const spec = text.slice(at + 1)
  return { name: text.slice(0, at), ...(spec ? { spec } : {}) }
}
