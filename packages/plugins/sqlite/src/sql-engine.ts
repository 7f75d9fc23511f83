import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { KiteError } from '@kite/sdk'
import initSqlJs, { type SqlJsStatic } from 'sql.js'

let engine: Promise<SqlJsStatic> | undefined

/**
 * SQLite compiled to WebAssembly (sql.js), started once per thread. The bundle carries the wasm
 * bytes (`kite-plugin build` inlines `.wasm` imports); running from source, as the tests do, the
 * import of a `.wasm` file is not understood, so the bytes are read from the installed package.
 */
export function loadSqlEngine(): Promise<SqlJsStatic> {
  engine ??= wasmBytes()
    .then((bytes) => initSqlJs({ wasmBinary: new Uint8Array(bytes).buffer }))
    .catch((error: unknown) => {
      engine = undefined
      throw new KiteError(`could not start SQLite (WebAssembly): ${String(error)}`, {
        code: 'SQLITE_UNAVAILABLE',
        kind: 'internal',
        cause: error,
      })
    })
  return engine
}

async function wasmBytes(): Promise<Uint8Array> {
  try {
    return (await import('sql.js/dist/sql-wasm.wasm')).default
  } catch {
    const require = createRequire(import.meta.url)
    return new Uint8Array(await readFile(require.resolve('sql.js/dist/sql-wasm.wasm')))
  }
}
