import { createSharedContext, runTask } from '@kite/sdk/testing'
import { describe, expect, it } from 'vitest'
import { csvToJson, jsonToCsv } from './csv.js'

describe('CsvToJson', () => {
  it('parses inline CSV into objects keyed by the header row', async () => {
    const { outputs } = await runTask(csvToJson, {
      csv: 'name;age;city\nAda;36;London\n\nGrace;45;"New York; NY"\n',
      delimiter: ';',
      cast: true,
      fetchType: 'FETCH',
    })
    expect(outputs).toEqual({
      value: [
        { name: 'Ada', age: 36, city: 'London' },
        { name: 'Grace', age: 45, city: 'New York; NY' },
      ],
      size: 2,
    })
    expect(outputs.uri).toBeUndefined()
  })

  it('reads rows as lists without a header, fields as text', async () => {
    const { outputs } = await runTask(csvToJson, {
      csv: "a,'b,c',007\n d , e ,f",
      header: false,
      quote: "'",
      trim: true,
      fetchType: 'FETCH',
    })
    expect(outputs.value).toEqual([
      ['a', 'b,c', '007'],
      ['d', 'e', 'f'],
    ])
  })

  it('stores a file with a byte-order mark, CRLF and quoted newlines as JSON Lines', async () => {
    const { store, run, context } = await createSharedContext()
    const from = await store(
      'people.csv',
      '\uFEFFid,note\r\n1,"two\r\nlines"\r\n2,"say ""hi"""\r\n',
    )
    const outputs = await run(csvToJson, { from })
    expect(outputs).toMatchObject({
      size: 2,
      uri: expect.stringMatching(/^kite:\/\/\/.*data\.jsonl$/),
    })
    expect(outputs.value).toBeUndefined()
    expect(await context.readStorage(String(outputs.uri))).toBe(
      '{"id":"1","note":"two\\r\\nlines"}\n{"id":"2","note":"say \\"hi\\""}\n',
    )
  })

  it('honours FETCH_ONE and NONE', async () => {
    const csv = 'x\n1\n2\n3'
    expect((await runTask(csvToJson, { csv, fetchType: 'FETCH_ONE' })).outputs).toEqual({
      value: { x: '1' },
      size: 1,
    })
    expect((await runTask(csvToJson, { csv, fetchType: 'NONE' })).outputs).toEqual({ size: 3 })
  })

  it('fails clearly on an unclosed quote', async () => {
    await expect(runTask(csvToJson, { csv: 'a,b\n1,"2\n3,4' })).rejects.toMatchObject({
      code: 'CSV_INVALID',
      message:
        'the CSV is not valid CSV: Quote Not Closed: the parsing is finished with an opening quote at line 3 (CSV_QUOTE_NOT_CLOSED)',
    })
  })

  it('fails on a row with the wrong number of fields unless relaxed', async () => {
    const csv = 'a,b\n1,2,3\n4'
    await expect(runTask(csvToJson, { csv })).rejects.toThrow(
      /Invalid Record Length: columns length is 2, got 3 on line 2/,
    )
    const { outputs } = await runTask(csvToJson, {
      csv,
      relaxColumnCount: true,
      fetchType: 'FETCH',
    })
    expect(outputs.value).toEqual([{ a: '1', b: '2' }, { a: '4' }])
  })

  it('refuses a header that names a column twice', async () => {
    await expect(runTask(csvToJson, { csv: 'id,name,id\n1,a,2' })).rejects.toMatchObject({
      code: 'CSV_HEADER_INVALID',
      message: expect.stringContaining('names column "id" twice'),
    })
  })

  it('refuses a delimiter longer than one character', async () => {
    await expect(runTask(csvToJson, { csv: 'a', delimiter: '::' })).rejects.toThrow(
      /delimiter: delimiter must be exactly one character/,
    )
  })
})

describe('JsonToCsv', () => {
  it('writes object rows with every key, quoting and JSON for nested values', async () => {
    const { outputs, context } = await runTask(jsonToCsv, {
      value: [
        { id: 1, name: 'Ada, Countess', active: true },
        { id: 2, tags: ['x', 'y'], active: false, name: null },
        { id: 3, name: 'say "hi"' },
      ],
    })
    expect(outputs.size).toBe(3)
    expect(await context.readStorage(outputs.uri)).toBe(
      'id,name,active,tags\n1,"Ada, Countess",true,\n2,,false,"[""x"",""y""]"\n3,"say ""hi""",,\n',
    )
  })

  it('follows columns, delimiter and CRLF line endings', async () => {
    const { outputs, context } = await runTask(
      jsonToCsv,
      {
        value: '{{ outputs.query.value }}',
        columns: ['name', 'id'],
        delimiter: ';',
        lineEnding: 'CRLF',
      },
      {
        outputs: {
          query: {
            value: [
              { id: 1, name: 'Ada', email: 'ada@example.com' },
              { id: 2, name: 'Grace' },
            ],
          },
        },
      },
    )
    expect(await context.readStorage(outputs.uri)).toBe('name;id\r\nAda;1\r\nGrace;2\r\n')
  })

  it('writes list rows, with a header only when columns are given', async () => {
    const rows = [
      [1, 'a'],
      [2, 'b'],
    ]
    const plain = await runTask(jsonToCsv, { value: rows })
    expect(await plain.context.readStorage(plain.outputs.uri)).toBe('1,a\n2,b\n')
    const named = await runTask(jsonToCsv, { value: rows, columns: ['n', 'letter'] })
    expect(await named.context.readStorage(named.outputs.uri)).toBe('n,letter\n1,a\n2,b\n')
  })

  it('round-trips a stored CSV file through JSON Lines', async () => {
    const { store, run, context } = await createSharedContext()
    const original = 'id,city,note\n1,London,"a, b"\n2,Paris,"line\nbreak"\n'
    const parsed = await run(csvToJson, { from: await store('in.csv', original) })
    const written = await run(jsonToCsv, { from: parsed.uri })
    expect(written.size).toBe(2)
    expect(await context.readStorage(String(written.uri))).toBe(original)
  })

  it('refuses rows that mix objects and other values', async () => {
    await expect(runTask(jsonToCsv, { value: [{ a: 1 }, 'oops'] })).rejects.toMatchObject({
      code: 'INPUT_INVALID',
      message: 'row 2 is "oops": rows must be all objects or all lists',
    })
  })

  it('refuses a stored file holding a single object', async () => {
    const { store, run } = await createSharedContext()
    const from = await store('one.json', '{"a":1}')
    await expect(run(jsonToCsv, { from })).rejects.toThrow(/holds one JSON value, not rows/)
  })
})
