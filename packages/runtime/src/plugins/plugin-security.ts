/** `plugins.security` of `kite.yaml`: names or glob patterns (`*` matches anything). */
export interface PluginSecurity {
  includes: readonly string[]
  excludes: readonly string[]
}

/**
 * Whether a package may be installed, saved in a flow and run: it must match an include (or
 * there are none) and no exclude; an exclude wins.
 *
 * @example
 * isPluginAllowed('@acme/kite-plugin-x', { includes: ['@acme/*'], excludes: [] }) // true
 */
export function isPluginAllowed(name: string, security: PluginSecurity): boolean {
  if (security.excludes.some((pattern) => matchesPattern(pattern, name))) return false
  return (
    security.includes.length === 0 ||
    security.includes.some((pattern) => matchesPattern(pattern, name))
  )
}

/** Whether a package name matches a name or a `*` glob. */
export function matchesPattern(pattern: string, name: string): boolean {
  if (!pattern.includes('*')) return pattern === name
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
    .join('.*')
  return new RegExp(`^${source}$`).test(name)
}
