import { defineConfig } from 'vitest/config'

// An explicit config, so a vitest config in a parent directory never applies to this package.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
  },
})
