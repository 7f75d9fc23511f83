/**
 * Links from the browse UI to the docs site's reference page of a plugin version or type. The
 * docs (apps/docs/scripts/generate-reference.mjs) write one folder per plugin, named after its
 * group, and answer every version at `v<version>/`; apps/docs/test/reference.test.ts checks that
 * each URL made here names a page the docs generate.
 */

/** Where the docs site is and which packages it has reference pages for. */
export interface DocsLinks {
  /** The docs site, e.g. `http://127.0.0.1:5173/`. */
  url: string
  /** Package names (exact, or `@scope/*`) the docs have reference pages for. */
  reference: readonly string[]
}

/** What the docs site carries unless the registry is told otherwise: the first-party plugins. */
export const DEFAULT_DOCS_REFERENCE: readonly string[] = ['@kite/*']

/** `kite.http` → `kite-http` (the docs' folder of a plugin). */
export const pluginSlug = (group: string): string => group.replaceAll('.', '-')

/** `kite.core.log.Log` in group `kite.core` → `log-log` (the docs' page of a type). */
export const typeSlug = (group: string, type: string): string =>
  type
    .slice(group.length + 1)
    .replaceAll('.', '-')
    .toLowerCase()

/** Whether `name` is one of `patterns` (exact names, or `@scope/*` for a whole scope). */
export function coveredBy(patterns: readonly string[], name: string): boolean {
  return patterns.some((pattern) =>
    pattern.endsWith('/*') ? name.startsWith(pattern.slice(0, -1)) : pattern === name,
  )
}

/**
 * The docs' reference page of `name@version` (or of one of its types), or undefined when there
 * is no docs site or it has no reference pages for that package.
 */
export function docsReferenceUrl(
  links: DocsLinks | undefined,
  plugin: { name: string; group: string; version: string },
  type?: string,
): string | undefined {
  if (!links || !coveredBy(links.reference, plugin.name)) return undefined
  const base = links.url.endsWith('/') ? links.url : `${links.url}/`
  const folder = `${base}reference/${pluginSlug(plugin.group)}/v${encodeURIComponent(plugin.version)}/`
  return type ? `${folder}${typeSlug(plugin.group, type)}` : folder
}
