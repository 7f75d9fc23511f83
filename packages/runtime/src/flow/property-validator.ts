import { createRequire } from 'node:module'
import type { ExpressionEngine } from '@kite/expressions'
import { isDuration } from '@kite/sdk'
import type { JsonSchema } from '@kite/sdk/host'
import type { Ajv2020, ErrorObject, ValidateFunction } from 'ajv/dist/2020.js'
import { closest, formatPath, type PathSegment } from './parse-flow.js'

// ajv and its formats are ~90 files: loaded at the first validation, not at start-up (a runtime
// with no flows yet starts without them).
const require = createRequire(import.meta.url)
let ajv: Ajv2020 | undefined
function theAjv(): Ajv2020 {
  if (!ajv) {
    const { Ajv2020 } = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js')
    const addFormats = require('ajv-formats') as typeof import('ajv-formats').default
    ajv = new Ajv2020({ allErrors: true, strict: false, logger: false, validateFormats: true })
    addFormats(ajv)
    // Kite's durations (`PT0.5S` allowed, years and months refused), not ajv-formats' stricter own.
    ajv.addFormat('duration', { type: 'string', validate: isDuration })
  }
  return ajv
}
const compiled = new WeakMap<JsonSchema, ValidateFunction>()

function validatorFor(schema: JsonSchema): ValidateFunction {
  let validate = compiled.get(schema)
  if (!validate) {
    const { $schema: _ignored, ...rest } = schema
    validate = theAjv().compile(rest)
    compiled.set(schema, validate)
  }
  return validate
}

/** One problem with a property: where under the properties (`items[0].name`) and what. */
export interface PropertyProblem {
  /** Path under the task's properties; empty for the properties as a whole. */
  path: PathSegment[]
  message: string
  /** For expression syntax errors: the 1-based place inside the string. */
  at?: { line: number; column: number }
  /** The key itself is wrong (an unknown property), not its value. */
  atKey?: boolean
}

/** Another installed version of the same type, for messages about properties it knows. */
export interface OtherVersion {
  package: string
  version: string
  properties: JsonSchema
}

export interface PropertyCheckOptions {
  /** The version being checked, for messages that compare it with `otherVersions`. */
  version?: string
  otherVersions?: readonly OtherVersion[]
}

/**
 * Checks a task's (unrendered) properties against its version's JSON Schema, as saving a flow
 * does. Values holding a `{{ }}` expression are known only at run time: they are checked for
 * expression syntax alone. Unknown properties are refused unless the schema allows extra keys.
 * Returns one message per problem, `name: expected string, got number`.
 */
export function checkProperties(
  properties: Record<string, unknown>,
  schema: JsonSchema,
  expressions: Pick<ExpressionEngine, 'check' | 'hasExpression'>,
  options: PropertyCheckOptions = {},
): string[] {
  return findPropertyProblems(properties, schema, expressions, options).map((problem) =>
    problem.path.length > 0 ? `${formatPath(problem.path)}: ${problem.message}` : problem.message,
  )
}

/** `checkProperties` with each problem's path kept apart, so callers can place it in the YAML. */
export function findPropertyProblems(
  properties: Record<string, unknown>,
  schema: JsonSchema,
  expressions: Pick<ExpressionEngine, 'check' | 'hasExpression'>,
  options: PropertyCheckOptions = {},
): PropertyProblem[] {
  const problems: PropertyProblem[] = []
  const known = Object.keys(schema.properties ?? {})
  if (schema.additionalProperties === undefined || schema.additionalProperties === false) {
    for (const key of Object.keys(properties)) {
      if (known.includes(key)) continue
      problems.push({ path: [key], atKey: true, message: unknownProperty(key, known, options) })
    }
  }
  for (const [key, value] of Object.entries(properties)) {
    if (schema.properties?.[key]?.$dynamic === false) continue
    problems.push(...expressionSyntaxProblems(value, [key], expressions))
  }
  const validate = validatorFor(schema)
  if (!validate(properties)) {
    for (const error of validate.errors ?? []) {
      if (error.keyword === 'additionalProperties' && error.instancePath === '') continue
      if (holdsExpression(properties, error.instancePath, expressions)) continue
      problems.push(describe(error, properties))
    }
  }
  const seen = new Set<string>()
  return problems.filter((problem) => {
    const key = `${formatPath(problem.path)}\u0000${problem.message}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/**
 * `unknown property`, with a did-you-mean, and — when another installed version of the type
 * knows the property — which version and what to do.
 */
function unknownProperty(key: string, known: string[], options: PropertyCheckOptions): string {
  const elsewhere = (options.otherVersions ?? []).filter(
    (other) =>
      other.version !== options.version && Object.hasOwn(other.properties.properties ?? {}, key),
  )
  const hint = closest(key, known)
  const knownList = `known${options.version ? ` in ${options.version}` : ''}: ${known.join(', ') || 'none'}`
  if (elsewhere.length > 0) {
    const newest = elsewhere.at(-1)!
    const versions = elsewhere.map((other) => other.version).join(', ')
    return `unknown property${options.version ? ` in version ${options.version}` : ''}; "${key}" exists in ${newest.package} ${versions}: pin version "${newest.version}" or update the flow${hint ? ` (did you mean "${hint}"?)` : ''}; ${knownList}`
  }
  return `unknown property${hint ? ` (did you mean "${hint}"?)` : ''}; ${knownList}`
}

/** Expression syntax problems in every string of a value. */
export function syntaxProblems(
  value: unknown,
  path: string,
  expressions: Pick<ExpressionEngine, 'check' | 'hasExpression'>,
): string[] {
  return expressionSyntaxProblems(value, [], expressions).map(
    (problem) => `${joinPath(path, problem.path)}: ${problem.message}`,
  )
}

function joinPath(base: string, path: PathSegment[]): string {
  const rest = formatPath(path)
  if (!base) return rest
  if (!rest) return base
  return rest.startsWith('[') ? `${base}${rest}` : `${base}.${rest}`
}

/** Expression syntax problems in every string of a value, each with its path under `path`. */
export function expressionSyntaxProblems(
  value: unknown,
  path: PathSegment[],
  expressions: Pick<ExpressionEngine, 'check' | 'hasExpression'>,
): PropertyProblem[] {
  if (typeof value === 'string') {
    if (!expressions.hasExpression(value)) return []
    try {
      expressions.check(value)
      return []
    } catch (error) {
      const { line, column } = error as { line?: unknown; column?: unknown }
      return [
        {
          path,
          message: (error as Error).message,
          ...(typeof line === 'number'
            ? { at: { line, column: typeof column === 'number' ? column : 1 } }
            : {}),
        },
      ]
    }
  }
  if (Array.isArray(value)) {
    return value.flatMap((item, index) =>
      expressionSyntaxProblems(item, [...path, index], expressions),
    )
  }
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, item]) =>
      expressionSyntaxProblems(item, [...path, key], expressions),
    )
  }
  return []
}

function segments(pointer: string): string[] {
  return pointer === ''
    ? []
    : pointer
        .slice(1)
        .split('/')
        .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
}

/** True when the value at the pointer, or one of its containers, is an expression string. */
function holdsExpression(
  root: unknown,
  pointer: string,
  expressions: Pick<ExpressionEngine, 'hasExpression'>,
): boolean {
  let node = root
  for (const part of segments(pointer)) {
    if (typeof node === 'string') return expressions.hasExpression(node)
    if (typeof node !== 'object' || node === null) return false
    node = (node as Record<string, unknown>)[part]
  }
  return typeof node === 'string' && expressions.hasExpression(node)
}

function describe(error: ErrorObject, root: unknown): PropertyProblem {
  const path: PathSegment[] = segments(error.instancePath).map((part) =>
    /^\d+$/.test(part) ? Number(part) : part,
  )
  const params = error.params as Record<string, unknown>
  switch (error.keyword) {
    case 'required':
      return { path: [...path, String(params.missingProperty)], message: 'is required' }
    case 'type': {
      const value = valueAt(root, error.instancePath)
      return { path, message: `expected ${String(params.type)}, got ${typeName(value)}` }
    }
    case 'enum':
      return {
        path,
        message: `must be one of ${(params.allowedValues as unknown[]).map((item) => JSON.stringify(item)).join(', ')}`,
      }
    case 'format':
      if (params.format === 'duration') {
        return { path, message: 'must be an ISO-8601 duration such as PT30S, PT5M or PT1H' }
      }
      return { path, message: error.message ?? 'is invalid' }
    case 'additionalProperties':
      return {
        path: [...path, String(params.additionalProperty)],
        atKey: true,
        message: 'unknown property',
      }
    default:
      return { path, message: error.message ?? 'is invalid' }
  }
}

function valueAt(root: unknown, pointer: string): unknown {
  let node = root
  for (const part of segments(pointer)) {
    if (typeof node !== 'object' || node === null) return undefined
    node = (node as Record<string, unknown>)[part]
  }
  return node
}

function typeName(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number')
    return Number.isInteger(value) ? `integer ${value}` : `number ${value}`
  if (typeof value === 'string')
    return `string "${value.length > 40 ? `${value.slice(0, 39)}…` : value}"`
  return typeof value
}
