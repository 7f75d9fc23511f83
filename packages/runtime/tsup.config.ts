import { defineKiteConfig } from '../../tsup.config.base'

/**
 * Pure-JS packages the runtime loads before it is ready, bundled and tree-shaken: kysely ships
 * hundreds of small ES modules (~350 ms to import on these machines), yaml and semver dozens of
 * CommonJS files (each read, wrapped and, imported from ESM, lexed for its exports), hono and
 * @hono/zod-openapi dozens more. One bundle loads in a fraction of that, which keeps
 * `kite server local` quick to start. @hono/zod-openapi goes in with hono (its OpenAPIHono extends
 * Hono: two copies would be two classes). Left out: zod (plugins, the SDK and the runtime must
 * share one zod, so it comes from the SDK's), native better-sqlite3, and what loads lazily
 * (pacote, pg, ajv).
 */
const BUNDLED = [
  'kysely',
  'yaml',
  'semver',
  'hono',
  '@hono/node-server',
  '@hono/zod-openapi',
  'croner',
  'eventsource-parser',
]

export default defineKiteConfig(
  {
    index: 'src/index.ts',
    testing: 'src/testing.ts',
    'plugin-worker': 'src/plugins/plugin-worker.ts',
    'plugin-sandbox': 'src/plugins/sandbox-entry.ts',
  },
  {
    noExternal: BUNDLED.map((name) => new RegExp(`^${name}(/|$)`)),
    external: ['zod', /^zod\//],
    esbuildOptions(options) {
      // A package's ES build over its CommonJS one where it has both (@asteasolutions/
      // zod-to-openapi): its `import 'zod'` then shares the ES zod instead of loading zod's CJS copy.
      options.mainFields = ['module', 'main']
    },
    // yaml and semver are CommonJS: bundled into ES modules, their `require` of Node built-ins
    // needs a real `require` (esbuild's shim throws without one). esbuild's own tree shaking
    // only: tsup's extra rollup pass drops this banner's `require` as unused.
    treeshake: false,
    banner: {
      js: "import { createRequire as __kiteCreateRequire } from 'node:module'; const require = __kiteCreateRequire(import.meta.url);",
    },
  },
)
