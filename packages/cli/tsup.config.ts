import { defineKiteConfig } from '../../tsup.config.base'

// commander is a dozen CommonJS files that every `kite` command loads first: bundled, they are
// one read and no CommonJS wrapping or export lexing. As CommonJS inside an ES module it needs a
// real `require` for Node's built-ins (esbuild's shim throws without one), and only esbuild's
// tree shaking (tsup's extra rollup pass drops this banner's `require` as unused).
export default defineKiteConfig(
  { index: 'src/index.ts', bin: 'src/bin.ts' },
  {
    noExternal: ['commander'],
    treeshake: false,
    banner: {
      js: "import { createRequire as __kiteCreateRequire } from 'node:module'; const require = __kiteCreateRequire(import.meta.url);",
    },
  },
)
