import { RuntimeError, type ValidationIssue } from '../errors.js'
import type { FlowInput, InputType } from '../flow/flow-model.js'
import { STORAGE_SCHEME } from '../storage/internal-storage.js'

/**
 * A file sent for an input (a multipart/form-data part, `kite flow run --input f=@path`): stored
 * in internal storage for a FILE input, read as UTF-8 text for any other type.
 */
export class UploadedFile {
  readonly name: string
  readonly content: Uint8Array
  constructor(name: string, content: Uint8Array) {
    this.name = name
    this.content = content
  }
  /** Written as its name and size (a trigger's pending firing is JSON): the bytes are not. */
  toJSON(): { name: string; size: number } {
    return { name: this.name, size: this.content.byteLength }
  }
}

/** How an input's raw value is turned into its typed value, or why it cannot be. */
type Coerced = { ok: true; value: unknown } | { ok: false; message: string }

const describe = (value: unknown): string =>
  typeof value === 'string'
    ? `"${value.length > 40 ? `${value.slice(0, 39)}…` : value}"`
    : (JSON.stringify(value) ?? String(value))

/**
 * Coerces a value to an input type. Strings are accepted for every type (the CLI's `--input k=v`
 * and form posts give text): `"42"` is a valid INT, `"true"` a valid BOOLEAN, JSON text a JSON.
 */
export function coerceInput(type: InputType, given: unknown, values?: readonly string[]): Coerced {
  if (given instanceof UploadedFile && type === 'FILE') return { ok: true, value: given }
  const value = given instanceof UploadedFile ? new TextDecoder().decode(given.content) : given
  switch (type) {
    case 'STRING':
    case 'SECRET':
      if (typeof value === 'string') return { ok: true, value }
      if (typeof value === 'number' || typeof value === 'boolean') {
        return { ok: true, value: String(value) }
      }
      return { ok: false, message: `expected a string, got ${describe(value)}` }
    case 'INT': {
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
      if (typeof number === 'number' && Number.isSafeInteger(number))
        return { ok: true, value: number }
      return { ok: false, message: `expected an integer, got ${describe(value)}` }
    }
    case 'FLOAT': {
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
      if (typeof number === 'number' && Number.isFinite(number)) return { ok: true, value: number }
      return { ok: false, message: `expected a number, got ${describe(value)}` }
    }
    case 'BOOLEAN':
      if (typeof value === 'boolean') return { ok: true, value }
      if (value === 'true' || value === 'false') return { ok: true, value: value === 'true' }
      return { ok: false, message: `expected true or false, got ${describe(value)}` }
    case 'DATETIME': {
      if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value)) {
        const date = new Date(value)
        if (!Number.isNaN(date.getTime())) return { ok: true, value: date.toISOString() }
      }
      return {
        ok: false,
        message: `expected an ISO-8601 date-time such as 2024-05-01T10:00:00Z, got ${describe(value)}`,
      }
    }
    case 'JSON':
      if (typeof value === 'string') {
        try {
          return { ok: true, value: JSON.parse(value) }
        } catch (error) {
          return { ok: false, message: `expected JSON text: ${(error as Error).message}` }
        }
      }
      return { ok: true, value }
    case 'ENUM': {
      const text =
        typeof value === 'string' || typeof value === 'number' ? String(value) : undefined
      if (text !== undefined && values?.includes(text)) return { ok: true, value: text }
      return {
        ok: false,
        message: `expected one of ${(values ?? []).map((item) => `"${item}"`).join(', ')}, got ${describe(value)}`,
      }
    }
    case 'FILE':
      if (typeof value === 'string' && value.startsWith(STORAGE_SCHEME)) return { ok: true, value }
      if (typeof value === 'string') return { ok: true, value: { content: value } }
      if (
        typeof value === 'object' &&
        value !== null &&
        typeof (value as { content?: unknown }).content === 'string'
      ) {
        return { ok: true, value }
      }
      return {
        ok: false,
        message: `expected a ${STORAGE_SCHEME} URI, the file's text, or { name, content }`,
      }
  }
}

export interface ResolveInputsOptions {
  /** Renders a default that holds an expression. */
  renderDefault: (value: unknown) => unknown
  /** Stores a FILE input's content and returns its URI. */
  storeFile: (inputId: string, name: string, content: string | Uint8Array) => Promise<string>
}

/**
 * Validates and types an execution's inputs against the flow's declarations: unknown names,
 * missing required inputs and values of the wrong type are all reported at once
 * (`INPUTS_INVALID`, one issue per input).
 */
export async function resolveInputs(
  declared: readonly FlowInput[],
  given: Record<string, unknown>,
  options: ResolveInputsOptions,
): Promise<Record<string, unknown>> {
  const issues: ValidationIssue[] = []
  const names = new Set(declared.map((input) => input.id))
  for (const key of Object.keys(given)) {
    if (!names.has(key)) {
      issues.push({
        path: `inputs.${key}`,
        message: `unknown input "${key}"; the flow declares ${[...names].map((name) => `"${name}"`).join(', ') || 'no inputs'}`,
      })
    }
  }
  const resolved: Record<string, unknown> = {}
  const files: Array<{ id: string; name: string; content: string | Uint8Array }> = []
  for (const input of declared) {
    let raw = given[input.id]
    let source = 'value'
    if (raw === undefined || raw === null) {
      if (input.defaults !== undefined) {
        try {
          raw = options.renderDefault(input.defaults)
        } catch (error) {
          issues.push({
            path: `inputs.${input.id}`,
            message: `the default does not render: ${(error as Error).message}`,
          })
          continue
        }
        source = 'default'
      } else if (input.required) {
        issues.push({ path: `inputs.${input.id}`, message: `input "${input.id}" is required` })
        continue
      } else {
        resolved[input.id] = null
        continue
      }
    }
    const coerced = coerceInput(input.type, raw, input.values)
    if (!coerced.ok) {
      issues.push({
        path: `inputs.${input.id}`,
        message: `input "${input.id}" (${input.type})${source === 'default' ? ', its default,' : ''}: ${coerced.message}`,
      })
      continue
    }
    if (input.type === 'FILE' && typeof coerced.value === 'object' && coerced.value !== null) {
      const file = coerced.value as { name?: unknown; content: string | Uint8Array }
      files.push({
        id: input.id,
        name: typeof file.name === 'string' && file.name ? file.name : input.id,
        content: file.content,
      })
      continue
    }
    resolved[input.id] = coerced.value
  }
  if (issues.length > 0) {
    throw new RuntimeError(`invalid inputs: ${issues.map((issue) => issue.message).join('; ')}`, {
      code: 'INPUTS_INVALID',
      kind: 'user',
      issues,
    })
  }
  for (const file of files) {
    resolved[file.id] = await options.storeFile(file.id, file.name, file.content)
  }
  return resolved
}
