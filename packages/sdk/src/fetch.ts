import { z } from 'zod'
import type { RunContext } from './context.js'
import { KiteError } from './errors.js'
import type { JsonSchema } from './json-schema.js'

/**
 * How a task hands over the rows it read: `FETCH_ONE` the first as `value`, `FETCH` all as
 * `value`, `STORE` all into internal storage as `uri` (JSON Lines), `NONE` only the count.
 */
export const FetchType = z.enum(['FETCH_ONE', 'FETCH', 'STORE', 'NONE'])
export type FetchType = z.infer<typeof FetchType>

/** The `fetchType` property, with the same meaning in every plugin. */
export function fetchTypeProperty(defaultValue: FetchType = 'NONE') {
  return FetchType.default(defaultValue).describe(
    'FETCH_ONE outputs the first row as `value`, FETCH all rows as `value`, STORE writes them to internal storage and outputs its `uri`, NONE outputs only `size`.',
  )
}

/** Paging limits shared by every plugin that reads rows. */
export const pagingProperties = {
  fetchSize: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('How many rows to read per round trip, where the source supports it.'),
  limit: z.number().int().positive().optional().describe('The most rows to read in all.'),
}

const fetchOutputsShape = {
  value: z.unknown().optional().describe('The row (FETCH_ONE) or rows (FETCH).'),
  uri: z.string().optional().describe('The `kite:///` URI of the stored rows (STORE).'),
  size: z.number().int().describe('How many rows were read.'),
}
type FetchOutputsShape = typeof fetchOutputsShape

/**
 * Outputs of a fetching task: `value` or `uri` (never both), and `size`, plus any `extra` fields.
 * The runtime makes reading the absent one an error that names the one that exists.
 */
export function fetchOutputs(): z.ZodObject<FetchOutputsShape>
export function fetchOutputs<S extends z.ZodRawShape>(extra: S): z.ZodObject<FetchOutputsShape & S>
export function fetchOutputs(extra: z.ZodRawShape = {}) {
  return z.object({ ...fetchOutputsShape, ...extra }).meta({ exclusive: [['value', 'uri']] })
}

/** Turns rows into the outputs of a fetching task for the given fetchType. */
export async function toFetchOutputs(
  fetchType: FetchType,
  rows: readonly unknown[],
  ctx: Pick<RunContext, 'storage'>,
  fileName = 'rows.jsonl',
): Promise<{ value?: unknown; uri?: string; size: number }> {
  switch (fetchType) {
    case 'FETCH_ONE':
      return { value: rows[0] ?? null, size: rows.length === 0 ? 0 : 1 }
    case 'FETCH':
      return { value: [...rows], size: rows.length }
    case 'STORE': {
      const text = rows.map((row) => JSON.stringify(row)).join('\n')
      return {
        uri: await ctx.storage.put(fileName, rows.length ? `${text}\n` : ''),
        size: rows.length,
      }
    }
    case 'NONE':
      return { size: rows.length }
  }
}

/**
 * Exposes a task's outputs to expressions. For each `$exclusive` group of the outputs schema, reading
 * a member the task did not set throws an error naming the member that exists.
 */
export function guardOutputs(
  outputs: Record<string, unknown>,
  schema: JsonSchema | undefined,
  taskId: string,
): Record<string, unknown> {
  const groups = schema?.$exclusive ?? []
  if (groups.length === 0) return outputs
  const guarded = { ...outputs }
  for (const group of groups) {
    const present = group.filter((key) => outputs[key] !== undefined)
    for (const key of group.filter((member) => outputs[member] === undefined)) {
      const instead = present.length
        ? `it produced ${present.map((name) => `"${name}"`).join(', ')} instead`
        : `it produced none of ${group.map((name) => `"${name}"`).join(', ')}`
      Object.defineProperty(guarded, key, {
        enumerable: false,
        get() {
          throw new KiteError(`outputs.${taskId}.${key} does not exist: ${instead}`, {
            code: 'OUTPUT_ABSENT',
            kind: 'user',
          })
        },
      })
    }
  }
  return guarded
}
