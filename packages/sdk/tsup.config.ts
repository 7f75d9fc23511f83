import { defineConfig } from 'tsup'
import { defineKiteConfig } from '../../tsup.config.base'

export default [
  defineKiteConfig({
    index: 'src/index.ts',
    host: 'src/host/index.ts',
    testing: 'src/testing/index.ts',
    build: 'src/build/index.ts',
    tarball: 'src/tarball/index.ts',
    states: 'src/states.ts',
    'line-diff': 'src/line-diff.ts',
    cli: 'src/build/cli.ts',
  }),
  /**
   * What plugin workers load (the `kite-plugin-worker` export condition, which the runtime sets
   * for its plugin threads and sandbox processes): the entry and `/host` with zod bundled in, one
   * shared chunk. zod is ~95 small modules; one file loads in ~55 ms instead of ~85 on these
   * machines, and a new plugin version's first task waits for that load. Whitespace and syntax
   * are minified, names kept (stack traces still read). Only plugin workers use it: the runtime
   * process and every other consumer share the one external zod.
   */
  defineConfig({
    entry: { index: 'src/index.ts', host: 'src/host/index.ts' },
    outDir: 'dist-worker',
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    dts: false,
    sourcemap: false,
    clean: true,
    splitting: true,
    treeshake: true,
    noExternal: [/^zod(\/|$)/],
    minifyWhitespace: true,
    minifySyntax: true,
  }),
]
