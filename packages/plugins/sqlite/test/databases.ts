import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runTask } from '@kite/sdk/testing'
import { afterAll, beforeAll } from 'vitest'
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
  let dir = ''
  let counter = 0
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix))
  })
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })
  return {
    get dir() {
      return dir
    },
    async create(name, sql) {
      const database = join(dir, `${name}-${++counter}.db`)
      await runTask(query, { database, sql })
      return database
    },
  }
}
