import { randomUUID } from 'node:crypto'
import { chmod, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises'
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { KiteError, z } from '@kite/sdk'
import type { Database, SqlJsStatic, SqlValue, Statement } from 'sql.js'
import { scanPlaceholders } from './placeholders.js'
import { loadSqlEngine } from './sql-engine.js'

export const MEMORY = ':memory:'

/** `plugins.configurations` for `@kite/plugin-sqlite` in kite.yaml. */
const PluginConfig = z.object({
  allowedRoots: z
    .array(z.string().refine(isAbsolute, 'must be an absolute path'))
    .optional()
    .describe('Directories database files must be in; any absolute path when unset.'),
})

/**
 * Resolves `database` to an absolute file path (or `:memory:`). Relative paths are refused (a
 * task's working directory is temporary); with `allowedRoots` configured, the file must be inside
 * one of them once symbolic links are followed.
 */
export async function resolveDatabasePath(
  database: string,
  pluginConfig: Record<string, unknown>,
): Promise<string> {
  if (database === MEMORY) return MEMORY
  if (!isAbsolute(database)) {
    throw new KiteError(
      `database "${database}" is not an absolute path: give the full path of the SQLite file (or ":memory:")`,
      { code: 'DATABASE_PATH_INVALID', kind: 'user' },
    )
  }
  const config = PluginConfig.safeParse(pluginConfig)
  if (!config.success) {
    throw new KiteError(
      `the sqlite plugin configuration is invalid: ${config.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
      { code: 'PLUGIN_CONFIG_INVALID', kind: 'operational' },
    )
  }
  const path = resolve(database)
  const roots = config.data.allowedRoots
  if (roots === undefined) return path
  const real = await realpathOfNearest(path)
  for (const root of roots) {
    const realRoot = await realpathOfNearest(resolve(root))
    const inside = relative(realRoot, real)
    if (inside !== '' && !inside.startsWith(`..${sep}`) && inside !== '..' && !isAbsolute(inside)) {
      return path
    }
  }
  throw new KiteError(
    `database "${database}" is outside the allowed roots (${roots.join(', ')}); the instance configuration \`plugins.configurations\` of @kite/plugin-sqlite sets them`,
    { code: 'DATABASE_PATH_FORBIDDEN', kind: 'user' },
  )
}

/** The real path of `path`, following links in its longest existing ancestor. */
async function realpathOfNearest(path: string): Promise<string> {
  let existing = path
  const rest: string[] = []
  for (;;) {
    try {
      return join(await realpath(existing), ...rest)
    } catch {
      const parent = dirname(existing)
      if (parent === existing) return path
      rest.unshift(basename(existing))
      existing = parent
    }
  }
}

interface FileSnapshot {
  bytes: Uint8Array
  /** Identity of the file when it was read; undefined when it did not exist. */
  identity?: string
  mode?: number
}

/** A SQLite database loaded from a file (or in memory), written back atomically on `save`. */
export interface OpenDatabase {
  db: Database
  path: string
  /** Writes the database back to its file if it changed. Returns whether it wrote. */
  save(): Promise<boolean>
  close(): void
}

// Tasks of one thread that write the same file take turns (load → run → save).
const fileQueues = new Map<string, Promise<unknown>>()

/** Runs `work` once every earlier `withFileTurn` on the same path has finished. */
export async function withFileTurn<T>(path: string, work: () => Promise<T>): Promise<T> {
  const previous = fileQueues.get(path) ?? Promise.resolve()
  const turn = previous.catch(() => undefined).then(work)
  fileQueues.set(path, turn)
  try {
    return await turn
  } finally {
    if (fileQueues.get(path) === turn) fileQueues.delete(path)
  }
}

/**
 * Loads the database. sql.js runs SQLite on an in-memory copy of the file: `save` writes the
 * copy back (to a temporary file renamed over the original) only if it changed, and refuses if
 * the file changed on disk meanwhile rather than lose that write.
 */
export async function openDatabase(
  path: string,
  options: { mustExist: boolean },
): Promise<OpenDatabase> {
  const SQL = await loadSqlEngine()
  const snapshot = path === MEMORY ? { bytes: new Uint8Array() } : await readSnapshot(path, options)
  let db: Database
  try {
    db = new SQL.Database(snapshot.bytes.length > 0 ? snapshot.bytes : null)
    // A file that is not SQLite is only noticed on first use.
    db.exec('SELECT count(*) FROM sqlite_schema')
  } catch (error) {
    throw new KiteError(`${path} is not a SQLite database: ${messageOf(error)}`, {
      code: 'DATABASE_INVALID',
      kind: 'user',
      cause: error,
    })
  }
  return {
    db,
    path,
    async save() {
      if (path === MEMORY) return false
      const bytes = db.export()
      // A file that did not exist is only created when the script left something in it.
      const before = snapshot.identity === undefined ? emptyDatabase(SQL) : snapshot.bytes
      if (sameBytes(bytes, before)) return false
      const now = await identityOf(path)
      if (now !== snapshot.identity) {
        throw new KiteError(
          `${path} changed on disk while the query ran; nothing was written. Run the task again (a \`retry\` on the task does it).`,
          { code: 'DATABASE_CHANGED', kind: 'operational' },
        )
      }
      const temporary = join(dirname(path), `.${basename(path)}.${randomUUID()}.tmp`)
      try {
        await writeFile(temporary, bytes)
        if (snapshot.mode !== undefined) await chmod(temporary, snapshot.mode)
        await rename(temporary, path)
      } catch (error) {
        await rm(temporary, { force: true })
        throw new KiteError(`could not write ${path}: ${messageOf(error)}`, {
          code: 'DATABASE_WRITE_FAILED',
          kind: 'operational',
          cause: error,
        })
      }
      return true
    },
    close: () => db.close(),
  }
}

async function readSnapshot(path: string, options: { mustExist: boolean }): Promise<FileSnapshot> {
  let bytes: Uint8Array
  try {
    bytes = new Uint8Array(await readFile(path))
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') {
      throw new KiteError(`could not read ${path}: ${messageOf(error)}`, {
        code: 'DATABASE_READ_FAILED',
        kind: 'operational',
        cause: error,
      })
    }
    if (options.mustExist) {
      throw new KiteError(`database file ${path} does not exist`, {
        code: 'DATABASE_NOT_FOUND',
        kind: 'user',
      })
    }
    try {
      if (!(await stat(dirname(path))).isDirectory()) throw new Error('not a directory')
    } catch {
      throw new KiteError(`cannot create ${path}: the directory ${dirname(path)} does not exist`, {
        code: 'DATABASE_NOT_FOUND',
        kind: 'user',
      })
    }
    return { bytes: new Uint8Array() }
  }
  // Pages still in a write-ahead log are not in the main file, which is all sql.js reads.
  const wal = await stat(`${path}-wal`).catch(() => undefined)
  if (wal && wal.size > 0) {
    throw new KiteError(
      `${path} has a write-ahead log (${path}-wal) with changes not yet in the database file; checkpoint it first (PRAGMA wal_checkpoint(TRUNCATE), or close the program using it)`,
      { code: 'DATABASE_WAL', kind: 'user' },
    )
  }
  const info = await stat(path)
  return { bytes, identity: await identityOf(path), mode: info.mode & 0o777 }
}

async function identityOf(path: string): Promise<string | undefined> {
  const info = await stat(path).catch(() => undefined)
  return info && `${info.ino}:${info.size}:${info.mtimeMs}`
}

let emptyBytes: Uint8Array | undefined

/** What an empty database exports as (a file with only its header page). */
function emptyDatabase(SQL: SqlJsStatic): Uint8Array {
  if (emptyBytes === undefined) {
    const db = new SQL.Database()
    emptyBytes = db.export()
    db.close()
  }
  return emptyBytes
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b)
}

/** A value bound to a placeholder. */
export type ParameterValue = unknown
export type Parameters = ParameterValue[] | Record<string, ParameterValue>

export interface ScriptResult {
  /** Column names of the last statement that returns rows. */
  columns: string[]
  /** Rows of the last statement that returns rows. */
  rows: Record<string, unknown>[]
  /** Rows inserted, updated or deleted by the whole script. */
  rowsAffected: number
  statements: number
}

/**
 * Runs every statement of `sql` in order. A list of parameters binds the placeholders of the
 * whole script in order; a record binds named placeholders by name (with or without `:`, `@`,
 * `$`). The rows are those of the last statement that returns rows.
 */
export async function runScript(
  db: Database,
  sql: string,
  parameters: Parameters | undefined,
  options: { signal: AbortSignal; onUnusedParameters?: (names: string[]) => void },
): Promise<ScriptResult> {
  const changesBefore = totalChanges(db)
  const statements: Statement[] = []
  let result: { columns: string[]; rows: Record<string, unknown>[] } = { columns: [], rows: [] }
  let offset = 0
  const used = new Set<string>()
  try {
    const iterator = db.iterateStatements(sql)
    for (;;) {
      let next: IteratorResult<Statement>
      try {
        next = iterator.next()
      } catch (error) {
        throw sqlError(error, iterator.getRemainingSQL(), statements.length + 1)
      }
      if (next.done) break
      const statement = next.value
      statements.push(statement)
      const text = statement.getSQL()
      const placeholders = scanPlaceholders(text)
      const binding = bindingFor(placeholders, parameters, offset, statements.length, used)
      offset += Array.isArray(parameters) ? placeholders.count : 0
      try {
        if (binding !== null) statement.bind(binding)
        const columns = statement.getColumnNames()
        const rows: Record<string, unknown>[] = []
        while (statement.step()) {
          if (columns.length > 0) rows.push(toRow(columns, readRow(statement)))
          // Let timers run now and then, so a timeout can abort a long read.
          if (rows.length % 1000 === 999) await new Promise((done) => setImmediate(done))
          throwIfAborted(options.signal)
        }
        if (columns.length > 0) result = { columns, rows }
      } catch (error) {
        if (error instanceof KiteError) throw error
        throw sqlError(error, text, statements.length)
      }
      throwIfAborted(options.signal)
    }
  } finally {
    for (const statement of statements) statement.free()
  }
  if (Array.isArray(parameters) && offset !== parameters.length) {
    throw new KiteError(
      `the SQL has ${offset} parameter placeholder(s) but ${parameters.length} parameter(s) were given`,
      { code: 'PARAMETERS_INVALID', kind: 'user' },
    )
  }
  if (parameters !== undefined && !Array.isArray(parameters)) {
    const unused = Object.keys(parameters).filter((key) => !used.has(bareName(key)))
    if (unused.length > 0) options.onUnusedParameters?.(unused)
  }
  return {
    ...result,
    rowsAffected: totalChanges(db) - changesBefore,
    statements: statements.length,
  }
}

function bindingFor(
  placeholders: ReturnType<typeof scanPlaceholders>,
  parameters: Parameters | undefined,
  offset: number,
  position: number,
  used: Set<string>,
): SqlValue[] | Record<string, SqlValue> | null {
  if (placeholders.count === 0) return null
  const label = `statement ${position}`
  if (parameters === undefined) {
    throw new KiteError(
      `${label} has ${placeholders.count} parameter placeholder(s) but no \`parameters\` were given`,
      { code: 'PARAMETERS_INVALID', kind: 'user' },
    )
  }
  if (Array.isArray(parameters)) {
    if (offset + placeholders.count > parameters.length) {
      throw new KiteError(
        `${label} needs parameters ${offset + 1} to ${offset + placeholders.count} but only ${parameters.length} parameter(s) were given`,
        { code: 'PARAMETERS_INVALID', kind: 'user' },
      )
    }
    return parameters.slice(offset, offset + placeholders.count).map(toSqlValue)
  }
  if (placeholders.positional) {
    throw new KiteError(
      `${label} uses ? placeholders: give \`parameters\` as a list, or name every placeholder (:name)`,
      { code: 'PARAMETERS_INVALID', kind: 'user' },
    )
  }
  const binding: Record<string, SqlValue> = {}
  const values = new Map(Object.entries(parameters).map(([key, value]) => [bareName(key), value]))
  for (const name of placeholders.named.keys()) {
    const bare = bareName(name)
    if (!values.has(bare)) {
      throw new KiteError(
        `${label} uses the parameter ${name}, which \`parameters\` does not set (it sets: ${[...values.keys()].join(', ') || 'nothing'})`,
        { code: 'PARAMETERS_INVALID', kind: 'user' },
      )
    }
    used.add(bare)
    binding[name] = toSqlValue(values.get(bare))
  }
  return binding
}

function bareName(name: string): string {
  return /^[:@$]/.test(name) ? name.slice(1) : name
}

/** JSON values to SQLite values: booleans as 1/0, lists and objects as JSON text. */
function toSqlValue(value: unknown): SqlValue {
  if (value === null || value === undefined) return null
  if (typeof value === 'string' || typeof value === 'number') return value
  if (typeof value === 'boolean') return value ? 1 : 0
  return JSON.stringify(value)
}

function readRow(statement: Statement): unknown[] {
  // useBigInt keeps integers beyond 2^53 exact; sql.js's typings leave that option out.
  const values: unknown = Reflect.apply(statement.get, statement, [null, { useBigInt: true }])
  return Array.isArray(values) ? values : []
}

/** SQLite values to JSON values: big integers as text, BLOBs as base64 text. */
function toRow(columns: string[], values: unknown[]): Record<string, unknown> {
  const row: Record<string, unknown> = {}
  for (const [index, column] of columns.entries()) row[column] = toJsonValue(values[index])
  return row
}

function toJsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString()
  }
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64')
  return value ?? null
}

function totalChanges(db: Database): number {
  const value = db.exec('SELECT total_changes()')[0]?.values[0]?.[0]
  return typeof value === 'number' ? value : 0
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) {
    throw new KiteError('the query was stopped (timeout or kill); nothing was written', {
      code: 'ABORTED',
      kind: 'user',
    })
  }
}

function sqlError(error: unknown, sql: string, position: number): KiteError {
  const excerpt = sql.trim().replace(/\s+/g, ' ')
  return new KiteError(
    `SQLite error in statement ${position}: ${messageOf(error)}\n  ${excerpt.length > 200 ? `${excerpt.slice(0, 200)}…` : excerpt}`,
    { code: 'SQL_ERROR', kind: 'user', cause: error },
  )
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String(error.code)
    : undefined
}
