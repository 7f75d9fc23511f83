import runtimePackage from '@kite/runtime/package.json' with { type: 'json' }
import sdkPackage from '@kite/sdk/package.json' with { type: 'json' }

/**
 * The `@kite/sdk` range new plugins depend on: the SDK version of this monorepo, read when
 * create-kite-plugin is built (the JSON is inlined into the bundle).
 */
export const SDK_RANGE = `^${sdkPackage.version}`

/** The `@kite/runtime` range new plugins test their flows with (`@kite/runtime/testing`, dev only). */
export const RUNTIME_RANGE = `^${runtimePackage.version}`

/**
 * Exact versions for the new package's devDependencies: the ones Kite itself builds and tests
 * with on Node 20 (newer vitest and typescript majors need Node 22 or break tsup); versions.test.ts
 * keeps them equal to the monorepo's.
 */
export const TYPESCRIPT_VERSION = '5.9.3'
export const VITEST_VERSION = '4.1.12'
