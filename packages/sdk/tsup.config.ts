import { defineKiteConfig } from '../../tsup.config.base'

export default defineKiteConfig({
  index: 'src/index.ts',
  host: 'src/host/index.ts',
  testing: 'src/testing/index.ts',
  build: 'src/build/index.ts',
  tarball: 'src/tarball/index.ts',
  states: 'src/states.ts',
  'line-diff': 'src/line-diff.ts',
  cli: 'src/build/cli.ts',
})
