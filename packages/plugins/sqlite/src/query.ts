import { defineTask, fetchOutputs, fetchTypeProperty, toFetchOutputs, z } from '@kite/sdk'
import { MEMORY, openDatabase, resolveDatabasePath, runScript, withFileTurn } from './database.js'
import { databaseProperty, parametersProperty, sqlProperty } from './properties.js'

export const query = defineTask({
  name: 'Query',
  title: 'Query a SQLite database',
  description:
    'Runs SQL against a SQLite file and hands over the rows of the last statement that returns rows, inline or stored as JSON Lines. The script is all-or-nothing: the file is written back only when every statement succeeded and something changed. SQLite runs as WebAssembly on an in-memory copy of the file, so the task is meant for files of up to a few hundred megabytes that no other program writes at the same time.',
  properties: z.object({
    database: databaseProperty,
    sql: sqlProperty,
    parameters: parametersProperty,
    fetchType: fetchTypeProperty(),
  }),
  outputs: fetchOutputs({
    rowsAffected: z
      .number()
      .int()
      .describe('How many rows the statements inserted, updated or deleted.'),
  }),
  examples: [
    {
      title: 'Create a table and insert a row',
      code: `database: /var/lib/kite/data/app.db
sql: |
  CREATE TABLE IF NOT EXISTS visits (id INTEGER PRIMARY KEY, name TEXT, at TEXT);
  INSERT INTO visits (name, at) VALUES (:name, :at);
parameters:
  name: "{{ inputs.name }}"
  at: "{{ execution.startDate }}"`,
    },
    {
      title: 'Fetch rows',
      code: `database: /var/lib/kite/data/app.db
sql: SELECT id, name FROM visits WHERE at >= ? ORDER BY id
parameters: ["2024-01-01"]
fetchType: FETCH`,
    },
    {
      title: 'Store a large result as JSON Lines',
      code: `database: /var/lib/kite/data/app.db
sql: SELECT * FROM visits
fetchType: STORE`,
    },
  ],
  async run(props, ctx) {
    const path = await resolveDatabasePath(props.database, ctx.pluginConfig)
    const work = async () => {
      const opened = await openDatabase(path, { mustExist: false })
      try {
        const result = await runScript(opened.db, props.sql, props.parameters, {
          signal: ctx.signal,
          onUnusedParameters: (names) =>
            ctx.logger.warn(`parameters not used by the SQL: ${names.join(', ')}`),
        })
        const wrote = await opened.save()
        ctx.logger.info(
          `${result.statements} statement(s) on ${path}: ${result.rows.length} row(s) read, ${result.rowsAffected} changed${wrote ? ', file written' : ''}`,
        )
        ctx.metrics.counter('rows.read', result.rows.length)
        ctx.metrics.counter('rows.affected', result.rowsAffected)
        const outputs = await toFetchOutputs(props.fetchType, result.rows, ctx)
        return { ...outputs, rowsAffected: result.rowsAffected }
      } finally {
        opened.close()
      }
    }
    return path === MEMORY ? work() : withFileTurn(path, work)
  },
})
