import {
  defineTrigger,
  fetchOutputs,
  fetchTypeProperty,
  KiteError,
  toFetchOutputs,
  z,
} from '@kite/sdk'
import { openDatabase, resolveDatabasePath, runScript } from './database.js'
import { databaseProperty, sqlProperty } from './properties.js'

const CURSOR_KEY = 'cursor'
const cursorValue = z.union([z.number(), z.string()])
type CursorValue = z.infer<typeof cursorValue>

export const trigger = defineTrigger({
  name: 'Trigger',
  title: 'Poll a SQLite query',
  description:
    'Runs a query at every poll and starts the flow once with the rows when it returns at least one. With `cursorColumn`, the trigger remembers the greatest value of that column it has seen, passes it to the SQL as `:cursor`, and only emits rows beyond it, so each row starts a flow once. Read-only: a query that changes the database fails.',
  properties: z.object({
    database: databaseProperty,
    sql: sqlProperty,
    parameters: z
      .record(z.string(), z.unknown())
      .default({})
      .describe('Values for named placeholders (`:name`). `:cursor` is set by the trigger.'),
    cursorColumn: z
      .string()
      .min(1)
      .optional()
      .describe(
        'A column that grows with every new row (an id or an ISO timestamp). Only rows with a greater value than the last one emitted are emitted.',
      ),
    initialCursor: cursorValue
      .optional()
      .describe('The `:cursor` of the first poll (default null: write `:cursor IS NULL OR ...`).'),
    fetchType: fetchTypeProperty('FETCH'),
  }),
  outputs: fetchOutputs(),
  interval: 'PT1M',
  examples: [
    {
      title: 'Start a flow for every new order',
      code: `database: /var/lib/kite/data/shop.db
sql: SELECT id, customer, total FROM orders WHERE id > :cursor ORDER BY id LIMIT 100
cursorColumn: id
initialCursor: 0
interval: PT30S`,
    },
    {
      title: 'Fire while a queue table has rows',
      code: `database: /var/lib/kite/data/queue.db
sql: SELECT * FROM jobs WHERE status = :status
parameters:
  status: pending
fetchType: STORE`,
    },
  ],
  async poll(props, ctx) {
    const path = await resolveDatabasePath(props.database, ctx.pluginConfig)
    if (props.cursorColumn !== undefined && 'cursor' in props.parameters) {
      throw new KiteError(
        '`parameters` sets "cursor", which the trigger sets itself from `cursorColumn`',
        { code: 'PARAMETERS_INVALID', kind: 'user' },
      )
    }
    const stored = cursorValue.safeParse(await ctx.state.get(CURSOR_KEY))
    const cursor = stored.success ? stored.data : (props.initialCursor ?? null)
    const parameters =
      props.cursorColumn === undefined ? props.parameters : { ...props.parameters, cursor }
    const opened = await openDatabase(path, { mustExist: true })
    let rows: Record<string, unknown>[]
    try {
      const result = await runScript(opened.db, props.sql, parameters, {
        signal: ctx.signal,
        // The cursor is offered to every query; one that does not use it is fine.
        onUnusedParameters: (names) => {
          const others = names.filter((name) => name !== 'cursor')
          if (others.length) ctx.logger.warn(`parameters not used by the SQL: ${others.join(', ')}`)
        },
      })
      if (result.rowsAffected > 0) {
        throw new KiteError(
          `the trigger's SQL changed ${result.rowsAffected} row(s); a trigger only reads (its changes are not saved). Use a kite.sqlite.Query task in the flow to change data.`,
          { code: 'TRIGGER_READ_ONLY', kind: 'user' },
        )
      }
      rows = result.rows
    } finally {
      opened.close()
    }
    if (props.cursorColumn !== undefined) {
      rows = afterCursor(rows, props.cursorColumn, cursor)
      const last = rows.reduce<CursorValue | null>((greatest, row) => {
        const value = cursorOf(row, props.cursorColumn ?? '')
        return greatest === null || compare(value, greatest) > 0 ? value : greatest
      }, null)
      if (last !== null) await ctx.state.set(CURSOR_KEY, last)
    }
    if (rows.length === 0) return []
    ctx.logger.info(`${rows.length} row(s) from ${path}`)
    return toFetchOutputs(props.fetchType, rows, ctx)
  },
})

function afterCursor(
  rows: Record<string, unknown>[],
  column: string,
  cursor: CursorValue | null,
): Record<string, unknown>[] {
  if (rows.length > 0 && !(column in (rows[0] ?? {}))) {
    throw new KiteError(
      `cursorColumn "${column}" is not a column of the query's rows (they have: ${Object.keys(rows[0] ?? {}).join(', ')})`,
      { code: 'CURSOR_INVALID', kind: 'user' },
    )
  }
  return cursor === null ? rows : rows.filter((row) => compare(cursorOf(row, column), cursor) > 0)
}

function cursorOf(row: Record<string, unknown>, column: string): CursorValue {
  const value = row[column]
  if (typeof value === 'number' || typeof value === 'string') return value
  throw new KiteError(
    `cursorColumn "${column}" holds ${value === null ? 'NULL' : typeof value} in a row; it must be a number or text in every row`,
    { code: 'CURSOR_INVALID', kind: 'user' },
  )
}

/** Numbers compare as numbers, anything else as text (ISO timestamps sort as text). */
function compare(a: CursorValue, b: CursorValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b
  const [x, y] = [String(a), String(b)]
  return x < y ? -1 : x > y ? 1 : 0
}
