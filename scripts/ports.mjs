// The default ports of `npm start`, in one place: scripts/start.mjs serves on them and the docs
// site (apps/docs/.vitepress/config.mts) links to the registry on them. Each can be overridden
// with the environment variable beside it.

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
