import {
  defineTask,
  fetchOutputs,
  fetchTypeProperty,
  KiteError,
  toFetchOutputs,
  z,
} from '@kite/sdk'
import { isPlainObject } from '@kite/sdk/host'
import { CsvError, parse } from 'csv-parse/sync'
import { stringify } from 'csv-stringify/sync'
import {
  jsonFileFormatProperty,
  parseJsonFile,
  readStoredText,
  readTextInput,
  requireOneInput,
  storageUri,
} from './io.js'

const singleCharacter = (what: string) =>
  z.string().length(1, `${what} must be exactly one character`)

const csvFormat = {
  delimiter: singleCharacter('delimiter')
    .default(',')
    .describe('The character between fields, e.g. `;` or a tab (`"\\t"`).'),
  quote: singleCharacter('quote').default('"').describe('The character that quotes a field.'),
}

export const csvToJson = defineTask({
  name: 'CsvToJson',
  title: 'CSV to JSON',
  description:
    'Parses CSV, from a stored file (`from`) or inline text (`csv`), into rows: objects keyed by the header row, or lists of fields when `header` is false. Fields stay text unless `cast` is on. Rows are stored as JSON Lines by default (`fetchType: STORE`) or returned inline.',
  properties: z.object({
    from: storageUri.optional().describe('The CSV file (a kite:/// URI). Set this or `csv`.'),
    csv: z.string().optional().describe('The CSV text itself. Set this or `from`.'),
    ...csvFormat,
    header: z
      .boolean()
      .default(true)
      .describe(
        'The first row names the columns and each row becomes an object; false: every row becomes a list of fields.',
      ),
    skipEmptyLines: z.boolean().default(true).describe('Ignore empty lines instead of failing.'),
    trim: z.boolean().default(false).describe('Remove spaces around fields.'),
    cast: z
      .boolean()
      .default(false)
      .describe('Turn fields that look like numbers into numbers (`"42"` → `42`).'),
    relaxColumnCount: z
      .boolean()
      .default(false)
      .describe('Accept rows with more or fewer fields than the header instead of failing.'),
    fetchType: fetchTypeProperty('STORE'),
  }),
  outputs: fetchOutputs(),
  examples: [
    {
      title: 'Convert a downloaded CSV file to stored JSON Lines',
      code: 'from: "{{ outputs.download.uri }}"\ndelimiter: ";"',
    },
    {
      title: 'Parse inline CSV into a list of objects',
      code: 'csv: |\n  name,age\n  Ada,36\n  Grace,45\ncast: true\nfetchType: FETCH',
    },
  ],
  async run(props, ctx) {
    const { text, source } = await readTextInput(ctx, props, 'csv', 'the CSV')
    let rows: unknown[]
    try {
      rows = parse(text, {
        delimiter: props.delimiter,
        quote: props.quote,
        columns: props.header ? checkHeader : false,
        skip_empty_lines: props.skipEmptyLines,
        trim: props.trim,
        cast: props.cast,
        relax_column_count: props.relaxColumnCount,
        bom: true,
      })
    } catch (error) {
      if (error instanceof KiteError) throw error
      const detail = error instanceof CsvError ? `${error.message} (${error.code})` : String(error)
      throw new KiteError(`${source} is not valid CSV: ${detail}`, {
        code: 'CSV_INVALID',
        kind: 'user',
        cause: error,
      })
    }
    ctx.logger.info(`parsed ${rows.length} row(s) from ${source}`)
    return toFetchOutputs(props.fetchType, rows, ctx, 'data.jsonl')
  },
})

/** Header names must be unique and non-empty: a repeated name would silently drop a column. */
function checkHeader(names: string[]): string[] {
  const seen = new Set<string>()
  for (const [index, name] of names.entries()) {
    if (name === '') {
      throw new KiteError(
        `column ${index + 1} of the header row has no name; set \`header: false\` to read rows as lists`,
        { code: 'CSV_HEADER_INVALID', kind: 'user' },
      )
    }
    if (seen.has(name)) {
      throw new KiteError(
        `the header row names column "${name}" twice; set \`header: false\` to read rows as lists`,
        { code: 'CSV_HEADER_INVALID', kind: 'user' },
      )
    }
    seen.add(name)
  }
  return names
}

export const jsonToCsv = defineTask({
  name: 'JsonToCsv',
  title: 'JSON to CSV',
  description:
    'Writes rows to a stored CSV file. Rows come inline (`value`: a list of objects or of lists) or from a stored JSON Lines or JSON file (`from`). Nested objects and lists are written as JSON text, null as an empty field.',
  properties: z.object({
    from: storageUri
      .optional()
      .describe(
        'The rows as a stored JSON Lines file (one row a line) or a JSON list (a kite:/// URI). Set this or `value`.',
      ),
    fromFormat: jsonFileFormatProperty,
    value: z
      .array(z.unknown())
      .optional()
      .describe('The rows: a list of objects, or a list of lists of fields. Set this or `from`.'),
    ...csvFormat,
    header: z
      .boolean()
      .default(true)
      .describe('Write a header row first (column names; for lists, only when `columns` is set).'),
    columns: z
      .array(z.string())
      .optional()
      .describe(
        'Which keys of object rows to write, in this order (default: every key, in order of first appearance). For list rows, the header names.',
      ),
    lineEnding: z.enum(['LF', 'CRLF']).default('LF').describe('How lines end.'),
  }),
  outputs: z.object({
    uri: z.string().describe('The kite:/// URI of the stored CSV file.'),
    size: z.number().int().describe('How many rows were written (the header not counted).'),
  }),
  examples: [
    {
      title: 'Export stored query rows as semicolon-separated CSV',
      code: 'from: "{{ outputs.query.uri }}"\ndelimiter: ";"\ncolumns: [id, name, email]',
    },
    {
      title: 'Write inline rows',
      code: 'value:\n  - { name: Ada, age: 36 }\n  - { name: Grace, age: 45 }',
    },
  ],
  async run(props, ctx) {
    const input = requireOneInput({ name: 'value', value: props.value }, props.from)
    let rows: unknown[]
    if (input.kind === 'inline') {
      rows = input.value
    } else {
      const parsed = parseJsonFile(
        await readStoredText(ctx, input.uri),
        input.uri,
        props.fromFormat,
      )
      if (!Array.isArray(parsed)) {
        throw new KiteError(`${input.uri} holds one JSON value, not rows (a list or JSON Lines)`, {
          code: 'INPUT_INVALID',
          kind: 'user',
        })
      }
      rows = parsed
    }
    const records = toRecords(rows, props.columns)
    const text = stringify(records.rows, {
      delimiter: props.delimiter,
      quote: props.quote,
      header: props.header && records.columns !== undefined,
      columns: records.columns,
      record_delimiter: props.lineEnding === 'CRLF' ? 'windows' : 'unix',
      cast: {
        boolean: (value) => String(value),
        object: (value) => JSON.stringify(value),
      },
    })
    const uri = await ctx.storage.put('data.csv', text)
    ctx.logger.info(`wrote ${rows.length} row(s) to ${uri}`)
    return { uri, size: rows.length }
  },
})

/** Checks the rows are all objects or all lists and works out the columns. */
function toRecords(
  rows: unknown[],
  columns: string[] | undefined,
): { rows: unknown[][]; columns?: string[] } {
  if (rows.length === 0) return { rows: [], columns }
  if (rows.every(Array.isArray)) return { rows, columns }
  const objects: Record<string, unknown>[] = []
  for (const [index, row] of rows.entries()) {
    if (!isPlainObject(row)) {
      throw new KiteError(
        `row ${index + 1} is ${Array.isArray(row) ? 'a list' : JSON.stringify(row)}: rows must be all objects or all lists`,
        { code: 'INPUT_INVALID', kind: 'user' },
      )
    }
    objects.push(row)
  }
  const keys = columns ?? [...new Set(objects.flatMap((row) => Object.keys(row)))]
  return { rows: objects.map((row) => keys.map((key) => row[key] ?? null)), columns: keys }
}
