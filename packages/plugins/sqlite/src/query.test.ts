import { mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { invokeTask } from '@kite/sdk/host'
import { createTestContext, runTask } from '@kite/sdk/testing'
import { describe, expect, it } from 'vitest'
import { useDatabases } from '../test/databases.js'
import { openDatabase, runScript } from './database.js'
import { query } from './query.js'

const databases = useDatabases('kite-sqlite-')

/** A fresh database file path with a `people` table. */
const peopleDatabase = () =>
  databases.create(
    'people',
    `CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER);
     INSERT INTO people (name, age) VALUES ('Ada', 36), ('Grace', 45);`,
  )

const select = (database: string, sql = 'SELECT * FROM people ORDER BY id') =>
  runTask(query, { database, sql, fetchType: 'FETCH' }).then(({ outputs }) => outputs.value)

describe('Query', () => {
  it('creates a real SQLite file and reads it back with a second query', async () => {
    const database = join(databases.dir, 'visits.db')
    const { outputs, logs } = await runTask(
      query,
      {
        database,
        sql: `CREATE TABLE visits (id INTEGER PRIMARY KEY, name TEXT, at TEXT);
              INSERT INTO visits (name, at) VALUES (:name, :at);
              INSERT INTO visits (name, at) VALUES (@name || '!', $at);`,
        parameters: { name: '{{ inputs.name }}', at: '2024-05-01' },
      },
      { inputs: { name: 'Ada' } },
    )
    expect(outputs).toEqual({ size: 0, rowsAffected: 2 })
    expect(logs.at(-1)?.message).toMatch(
      /3 statement\(s\) on .*visits\.db: 0 row\(s\) read, 2 changed, file written/,
    )
    const header = (await readFile(database)).subarray(0, 16).toString('latin1')
    expect(header).toBe('SQLite format 3\0')
    const read = await runTask(query, {
      database,
      sql: 'SELECT id, name, at FROM visits ORDER BY id',
      fetchType: 'FETCH',
    })
    expect(read.outputs).toEqual({
      value: [
        { id: 1, name: 'Ada', at: '2024-05-01' },
        { id: 2, name: 'Ada!', at: '2024-05-01' },
      ],
      size: 2,
      rowsAffected: 0,
    })
  })

  it('binds a list of parameters across the statements of a script', async () => {
    const database = await peopleDatabase()
    const { outputs } = await runTask(query, {
      database,
      sql: "UPDATE people SET age = ? WHERE name = ?; -- a comment with a ?\nSELECT name, age FROM people WHERE age > ? AND name <> '?'",
      parameters: [37, 'Ada', 40],
      fetchType: 'FETCH',
    })
    expect(outputs).toEqual({ value: [{ name: 'Grace', age: 45 }], size: 1, rowsAffected: 1 })
    expect(await select(database, "SELECT age FROM people WHERE name = 'Ada'")).toEqual([
      { age: 37 },
    ])
  })

  it('refuses a wrong number of parameters', async () => {
    const database = await peopleDatabase()
    const sql = 'SELECT * FROM people WHERE name = ? AND age = ?'
    await expect(runTask(query, { database, sql, parameters: ['Ada'] })).rejects.toMatchObject({
      code: 'PARAMETERS_INVALID',
      message: 'statement 1 needs parameters 1 to 2 but only 1 parameter(s) were given',
    })
    await expect(
      runTask(query, { database, sql, parameters: ['Ada', 36, 'extra'] }),
    ).rejects.toMatchObject({
      message: 'the SQL has 2 parameter placeholder(s) but 3 parameter(s) were given',
    })
    await expect(runTask(query, { database, sql })).rejects.toThrow(
      /statement 1 has 2 parameter placeholder\(s\) but no `parameters` were given/,
    )
  })

  it('refuses a named parameter without a value and ? with a record', async () => {
    const database = await peopleDatabase()
    await expect(
      runTask(query, {
        database,
        sql: 'SELECT * FROM people WHERE name = :name',
        parameters: { nmae: 'Ada' },
      }),
    ).rejects.toMatchObject({
      code: 'PARAMETERS_INVALID',
      message:
        'statement 1 uses the parameter :name, which `parameters` does not set (it sets: nmae)',
    })
    await expect(
      runTask(query, { database, sql: 'SELECT * FROM people WHERE id = ?', parameters: { id: 1 } }),
    ).rejects.toThrow(/uses \? placeholders: give `parameters` as a list/)
  })

  it("fails invalid SQL with SQLite's message and leaves the file untouched", async () => {
    const database = await peopleDatabase()
    const before = await readFile(database)
    await expect(runTask(query, { database, sql: 'SELEC * FROM people' })).rejects.toMatchObject({
      code: 'SQL_ERROR',
      kind: 'user',
      message: 'SQLite error in statement 1: near "SELEC": syntax error\n  SELEC * FROM people',
    })
    await expect(
      runTask(query, {
        database,
        sql: "INSERT INTO people (name) VALUES ('Linus'); INSERT INTO missing VALUES (1)",
      }),
    ).rejects.toThrow(/SQLite error in statement 2: no such table: missing/)
    await expect(
      runTask(query, { database, sql: 'INSERT INTO people (name) VALUES (NULL)' }),
    ).rejects.toThrow(/NOT NULL constraint failed: people\.name/)
    expect((await readFile(database)).equals(before)).toBe(true)
    expect(await select(database, 'SELECT count(*) AS n FROM people')).toEqual([{ n: 2 }])
  })

  it('hands rows over by fetchType: FETCH_ONE, NONE and STORE (JSON Lines)', async () => {
    const database = await peopleDatabase()
    const sql = 'SELECT name, age FROM people ORDER BY id'
    const one = await runTask(query, { database, sql, fetchType: 'FETCH_ONE' })
    expect(one.outputs).toEqual({ value: { name: 'Ada', age: 36 }, size: 1, rowsAffected: 0 })
    const none = await runTask(query, { database, sql })
    expect(none.outputs).toEqual({ size: 2, rowsAffected: 0 })
    const stored = await runTask(query, { database, sql, fetchType: 'STORE' })
    expect(stored.outputs).toMatchObject({ size: 2, uri: expect.stringMatching(/^kite:\/\/\//) })
    expect(stored.outputs.value).toBeUndefined()
    expect(await stored.context.readStorage(String(stored.outputs.uri))).toBe(
      '{"name":"Ada","age":36}\n{"name":"Grace","age":45}\n',
    )
  })

  it('converts values: big integers as text, BLOBs as base64, booleans and objects bound', async () => {
    const { outputs } = await runTask(query, {
      database: ':memory:',
      sql: `CREATE TABLE t (big INTEGER, small INTEGER, real REAL, blob BLOB, flag INTEGER, doc TEXT, empty);
            INSERT INTO t VALUES (9007199254740993, 42, 1.5, x'cafe', ?, ?, ?);
            SELECT * FROM t`,
      parameters: [true, { a: [1] }, null],
      fetchType: 'FETCH_ONE',
    })
    expect(outputs.value).toEqual({
      big: '9007199254740993',
      small: 42,
      real: 1.5,
      blob: Buffer.from([0xca, 0xfe]).toString('base64'),
      flag: 1,
      doc: '{"a":[1]}',
      empty: null,
    })
  })

  it('runs :memory: databases without touching the disk', async () => {
    const { outputs } = await runTask(query, {
      database: ':memory:',
      sql: 'CREATE TABLE t (x); INSERT INTO t VALUES (1), (2); SELECT sum(x) AS total FROM t',
      fetchType: 'FETCH_ONE',
    })
    expect(outputs).toEqual({ value: { total: 3 }, size: 1, rowsAffected: 2 })
  })

  it('does not create a missing file for a query that changes nothing', async () => {
    const database = join(databases.dir, 'never.db')
    const { outputs } = await runTask(query, {
      database,
      sql: 'SELECT 1 AS one',
      fetchType: 'FETCH',
    })
    expect(outputs.value).toEqual([{ one: 1 }])
    await expect(stat(database)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('lets concurrent writers to one file take turns without losing a write', async () => {
    const database = await peopleDatabase()
    await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        runTask(query, {
          database,
          sql: 'INSERT INTO people (name) VALUES (?)',
          parameters: [`writer ${index}`],
        }),
      ),
    )
    expect(await select(database, 'SELECT count(*) AS n FROM people')).toEqual([{ n: 10 }])
  })

  it('refuses to overwrite a file that changed on disk while the query ran', async () => {
    const database = await peopleDatabase()
    const opened = await openDatabase(database, { mustExist: true })
    try {
      await runScript(opened.db, "INSERT INTO people (name) VALUES ('late')", undefined, {
        signal: new AbortController().signal,
      })
      const other = await openDatabase(database, { mustExist: true })
      other.db.run("INSERT INTO people (name) VALUES ('other program')")
      await other.save()
      other.close()
      await expect(opened.save()).rejects.toMatchObject({
        code: 'DATABASE_CHANGED',
        message: expect.stringContaining(
          'changed on disk while the query ran; nothing was written',
        ),
      })
    } finally {
      opened.close()
    }
    expect(await select(database, 'SELECT name FROM people WHERE id = 3')).toEqual([
      { name: 'other program' },
    ])
  })

  it('refuses a relative path, and paths outside the allowed roots', async () => {
    await expect(
      runTask(query, { database: 'data/app.db', sql: 'SELECT 1' }),
    ).rejects.toMatchObject({
      code: 'DATABASE_PATH_INVALID',
      message:
        'database "data/app.db" is not an absolute path: give the full path of the SQLite file (or ":memory:")',
    })
    const root = join(databases.dir, 'allowed')
    await mkdir(root)
    const pluginConfig = { allowedRoots: [root] }
    const inside = await runTask(
      query,
      { database: join(root, 'ok.db'), sql: 'CREATE TABLE t (x)' },
      { pluginConfig },
    )
    expect(inside.outputs.size).toBe(0)
    expect((await stat(join(root, 'ok.db'))).size).toBeGreaterThan(0)
    await expect(
      runTask(
        query,
        { database: join(databases.dir, 'outside.db'), sql: 'SELECT 1' },
        { pluginConfig },
      ),
    ).rejects.toMatchObject({ code: 'DATABASE_PATH_FORBIDDEN' })
    await expect(
      runTask(
        query,
        { database: join(root, '..', 'sneaky.db'), sql: 'SELECT 1' },
        { pluginConfig },
      ),
    ).rejects.toThrow(/is outside the allowed roots/)
    await symlink(databases.dir, join(root, 'link'))
    await expect(
      runTask(query, { database: join(root, 'link', 'x.db'), sql: 'SELECT 1' }, { pluginConfig }),
    ).rejects.toMatchObject({ code: 'DATABASE_PATH_FORBIDDEN' })
  })

  it('fails clearly on a file that is not SQLite, a missing directory and a pending WAL', async () => {
    const text = join(databases.dir, 'notes.txt')
    await writeFile(text, 'this is not a database, just some text that is long enough to matter')
    await expect(runTask(query, { database: text, sql: 'SELECT 1' })).rejects.toMatchObject({
      code: 'DATABASE_INVALID',
      message: expect.stringContaining('is not a SQLite database: file is not a database'),
    })
    await expect(
      runTask(query, {
        database: join(databases.dir, 'no', 'such', 'dir.db'),
        sql: 'SELECT 1',
      }),
    ).rejects.toThrow(/the directory .*no\/such does not exist/)
    const database = await peopleDatabase()
    await writeFile(`${database}-wal`, 'pending pages')
    await expect(runTask(query, { database, sql: 'SELECT 1' })).rejects.toMatchObject({
      code: 'DATABASE_WAL',
    })
  })

  it('stops when the run is aborted and writes nothing', async () => {
    const database = await peopleDatabase()
    const context = await createTestContext()
    context.abort('timed out')
    await expect(
      invokeTask(
        query,
        { database, sql: "INSERT INTO people (name) VALUES ('x'); SELECT * FROM people" },
        context.ctx,
      ),
    ).rejects.toMatchObject({ code: 'ABORTED' })
    await context.cleanup()
    expect(await select(database, 'SELECT count(*) AS n FROM people')).toEqual([{ n: 2 }])
  })
})
