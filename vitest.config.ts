import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: [
      'packages/**/src/**/*.test.ts',
      'packages/**/test/**/*.test.ts',
      'examples/**/src/**/*.test.ts',
      'apps/**/test/**/*.test.ts',
      'tests/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', '**/dist/**', '**/test/fixtures/**'],
    // Type-level tests (`*.test-d.ts`, `expectTypeOf` and `@ts-expect-error`) run with tsc as
    // part of every `vitest run` and count in its report like the other tests.
    typecheck: {
      enabled: true,
      include: ['packages/**/src/**/*.test-d.ts', 'examples/**/src/**/*.test-d.ts'],
      tsconfig: 'tsconfig.typecheck.json',
    },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
})
