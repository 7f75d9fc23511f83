import { defineKiteConfig } from '../../tsup.config.base'

// Everything (@clack/prompts, the SDK's version) is bundled: `npm create kite-plugin` installs
// one package with no dependencies, so it starts in a second or two.
export default defineKiteConfig(
  { index: 'src/index.ts', cli: 'src/cli.ts' },
  { noExternal: [/.*/], sourcemap: false },
)
