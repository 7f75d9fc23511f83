import { defineConfig, type Options } from 'tsup'

/**
 * The one tsup configuration every library package builds with: ESM only, bundled per entry,
 * declarations emitted, dependencies left external (tsup's default for `dependencies`).
 */
export function defineKiteConfig(entry: Record<string, string>, overrides: Options = {}) {
  return defineConfig({
    entry,
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    dts: true,
    sourcemap: true,
    clean: true,
    splitting: true,
    treeshake: true,
    ...overrides,
  })
}
