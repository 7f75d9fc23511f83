import { defineKiteConfig } from '../../tsup.config.base'

// kysely ships hundreds of small ES modules (~350 ms to import on these machines); bundled and
// tree-shaken it loads in a fraction of that, which keeps `kite server local` quick to start.
export default defineKiteConfig(
  {
    index: 'src/index.ts',
    testing: 'src/testing.ts',
    'plugin-worker': 'src/plugins/plugin-worker.ts',
    'plugin-sandbox': 'src/plugins/sandbox-entry.ts',
  },
  { noExternal: ['kysely'] },
)
