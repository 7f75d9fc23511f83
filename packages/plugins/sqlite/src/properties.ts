import { z } from '@kite/sdk'

export const databaseProperty = z
  .string()
  .min(1)
  .describe(
    'The absolute path of the SQLite file, or `:memory:` for a database that lives only during the task. With `allowedRoots` in the plugin configuration, the file must be inside one of them.',
  )

export const sqlProperty = z
  .string()
  .min(1)
  .describe(
    'One or more SQL statements separated by `;`, run in order. The rows are those of the last statement that returns rows.',
  )

const parameterValue = z.unknown()

export const parametersProperty = z
  .union([z.array(parameterValue), z.record(z.string(), parameterValue)])
  .optional()
  .describe(
    'Values for the placeholders: a list binds `?` (and `?NNN`) across the whole script in order; a record binds named placeholders (`:name`, `@name`, `$name`) by name. Booleans are bound as 1/0, lists and objects as JSON text.',
  )
