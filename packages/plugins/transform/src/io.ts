import { KiteError, type RunContext, z } from '@kite/sdk'

/** A `kite:///` URI of a file in internal storage. */
export const storageUri = z.string().startsWith('kite:///', 'must be a kite:/// URI')

/** How a stored file holding JSON is read. */
export const JsonFileFormat = z.enum(['AUTO', 'JSON', 'JSON_LINES'])
export type JsonFileFormat = z.infer<typeof JsonFileFormat>

export const jsonFileFormatProperty = JsonFileFormat.default('AUTO').describe(
  'How `from` is read: JSON (one document), JSON_LINES (one value a line, read as a list), or AUTO: JSON Lines for `.jsonl`/`.ndjson` files, JSON for `.json` files, otherwise JSON when the whole file parses and JSON Lines if not.',
)

/** Outputs of a task that returns a result inline or stores it: `value` xor `uri`. */
export function valueOrUriOutputs(valueDescription: string, uriDescription: string) {
  return z
    .object({
      value: z.unknown().optional().describe(valueDescription),
      uri: z.string().optional().describe(uriDescription),
    })
    .meta({ exclusive: [['value', 'uri']] })
}

export const storeProperty = z
  .boolean()
  .default(false)
  .describe('Write the result to internal storage and output its `uri` instead of `value`.')

const decoder = new TextDecoder('utf-8')

/** Reads a stored file as UTF-8 text (a leading byte-order mark is dropped). */
export async function readStoredText(ctx: RunContext, uri: string): Promise<string> {
  const bytes = await ctx.storage.get(uri)
  return decoder.decode(bytes)
}

/**
 * Picks the one input a task was given: an inline property or a stored file `from`. Exactly one
 * must be set; `inline` is the inline property's name, for the error message.
 */
export function requireOneInput<T>(
  inline: { name: string; value: T | undefined },
  from: string | undefined,
): { kind: 'inline'; value: T } | { kind: 'from'; uri: string } {
  if (inline.value !== undefined && from !== undefined) {
    throw new KiteError(`give either \`${inline.name}\` or \`from\`, not both`, {
      code: 'INPUT_AMBIGUOUS',
      kind: 'user',
    })
  }
  if (from !== undefined) return { kind: 'from', uri: from }
  if (inline.value !== undefined) return { kind: 'inline', value: inline.value }
  throw new KiteError(
    `nothing to read: give \`${inline.name}\` (inline) or \`from\` (a kite:/// URI)`,
    { code: 'INPUT_MISSING', kind: 'user' },
  )
}

/**
 * Reads text from the inline property `name` or the stored file `from` (exactly one), with how
 * errors name where it came from: `label` for the inline text, the URI for a file.
 */
export async function readTextInput<K extends string>(
  ctx: RunContext,
  props: { [key in K]?: string } & { from?: string },
  name: K,
  label: string,
): Promise<{ text: string; source: string }> {
  const value: string | undefined = props[name]
  const input = requireOneInput({ name, value }, props.from)
  if (input.kind === 'inline') return { text: input.value, source: label }
  return { text: await readStoredText(ctx, input.uri), source: input.uri }
}

/** Parses the text of a stored JSON or JSON Lines file. */
export function parseJsonFile(text: string, uri: string, format: JsonFileFormat): unknown {
  const lines = format === 'JSON_LINES' || (format === 'AUTO' && /\.(jsonl|ndjson)$/i.test(uri))
  if (lines) return parseJsonLines(text, uri)
  if (format === 'JSON' || /\.json$/i.test(uri)) return parseJson(text, uri)
  try {
    return JSON.parse(text)
  } catch {
    return parseJsonLines(text, uri)
  }
}

function parseJson(text: string, uri: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new KiteError(`${uri} is not valid JSON: ${(error as Error).message}`, {
      code: 'INPUT_INVALID',
      kind: 'user',
      cause: error,
    })
  }
}

function parseJsonLines(text: string, uri: string): unknown[] {
  const rows: unknown[] = []
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue
    try {
      rows.push(JSON.parse(line))
    } catch (error) {
      throw new KiteError(
        `${uri} is not valid JSON Lines: line ${index + 1}: ${(error as Error).message}`,
        { code: 'INPUT_INVALID', kind: 'user', cause: error },
      )
    }
  }
  return rows
}

/** Reads a JSON value from `value` or from the stored JSON / JSON Lines file `from`. */
export async function readJsonInput(
  ctx: RunContext,
  props: { value?: unknown; from?: string; fromFormat: JsonFileFormat },
): Promise<unknown> {
  const input = requireOneInput({ name: 'value', value: props.value }, props.from)
  if (input.kind === 'inline') return input.value
  return parseJsonFile(await readStoredText(ctx, input.uri), input.uri, props.fromFormat)
}
