import { join } from 'node:path'
import { runTask } from '@kite/sdk/testing'
import { useTempDir } from '../../../sdk/test/scratch.js'
import { query } from '../src/query.js'

/**
 * SQLite files for one test file, in a directory named after `prefix` that is made before its
 * tests and removed after them. `create(name, sql)` makes a fresh `<name>-<n>.db` set up by `sql`
 * (run by the Query task itself).
 */
export function useDatabases(prefix: string): {
  readonly dir: string
  create(name: string, sql: string): Promise<string>
} {
  const dir = useTempDir(prefix)
  let counter = 0
  return {
    get dir() {
      return dir()
    },
    async create(name, sql) {
      const database = join(dir(), `${name}-${++counter}.db`)
      await runTask(query, { database, sql })
      return database
    },
  }
}
