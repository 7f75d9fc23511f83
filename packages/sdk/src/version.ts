import pkg from '../package.json' with { type: 'json' }

/** The version of this copy of `@kite/sdk`; runtimes check plugins' `sdkRange` against it. */
export const SDK_VERSION: string = pkg.version
