// The default ports of `npm start`, in one place: scripts/start.mjs serves on them, the docs
// site (apps/docs/.vitepress/config.mts) links to the registry on them, and the docs' Markdown
// writes them as `{{ports.registry}}`, `{{ports.runtime}}` and `{{ports.docs}}` (filled in at
// build time by apps/docs/scripts/ports-in-markdown.mjs). Each can be overridden with the
// environment variable beside it.

/** @type {Readonly<{ registry: number, runtime: number, docs: number }>} */
export const DEFAULT_PORTS = Object.freeze({ registry: 4873, runtime: 8080, docs: 5173 })

/** The ports in use: the defaults unless KITE_REGISTRY_PORT, KITE_PORT or KITE_DOCS_PORT say otherwise. */
export function resolvePorts(env = process.env) {
  return {
    registry: Number(env.KITE_REGISTRY_PORT ?? DEFAULT_PORTS.registry),
    runtime: Number(env.KITE_PORT ?? DEFAULT_PORTS.runtime),
    docs: Number(env.KITE_DOCS_PORT ?? DEFAULT_PORTS.docs),
  }
}

/**
 * Where the docs site and the registry link to each other: KITE_REGISTRY_URL and KITE_DOCS_URL,
 * else the ones `npm start` runs on loopback. Both end with `/`.
 */
export function resolveSiteUrls(env = process.env) {
  const ports = resolvePorts(env)
  const withSlash = (url) => (url.endsWith('/') ? url : `${url}/`)
  return {
    registry: withSlash(env.KITE_REGISTRY_URL ?? `http://127.0.0.1:${ports.registry}`),
    docs: withSlash(env.KITE_DOCS_URL ?? `http://127.0.0.1:${ports.docs}`),
  }
}
