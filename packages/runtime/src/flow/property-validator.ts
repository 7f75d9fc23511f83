import type { ExpressionEngine } from '@kite/expressions'
import type { JsonSchema } from '@kite/sdk/host'
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { closest } from './parse-flow.js'

const ajv = new Ajv2020({ allErrors: true, strict: false, logger: false, validateFormats: true })
addFormats(ajv)
const compiled = new WeakMap<JsonSchema, ValidateFunction>()

function validatorFor(schema: JsonSchema): ValidateFunction {
  let validate = compiled.get(schema)
  if (!validate) {
    const { $schema: _ignored, ...rest } = schema
    validate = ajv.compile(rest)
    compiled.set(schema, validate)
  }
  return validate
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
): string[] {
  const problems: string[] = []
  const known = Object.keys(schema.properties ?? {})
  if (schema.additionalProperties === undefined || schema.additionalProperties === false) {
    for (const key of Object.keys(properties)) {
      if (known.includes(key)) continue
      const hint = closest(key, known)
      problems.push(
        `${key}: unknown property${hint ? ` (did you mean "${hint}"?)` : ''}; known: ${known.join(', ') || 'none'}`,
      )
    }
  }
  for (const [key, value] of Object.entries(properties)) {
    if (schema.properties?.[key]?.$dynamic === false) continue
    for (const problem of syntaxProblems(value, key, expressions)) problems.push(problem)
  }
  const validate = validatorFor(schema)
  if (!validate(properties)) {
    for (const error of validate.errors ?? []) {
      if (error.keyword === 'additionalProperties' && error.instancePath === '') continue
      if (holdsExpression(properties, error.instancePath, expressions)) continue
      problems.push(describe(error, properties))
    }
  }
  return [...new Set(problems)]
}

/** Expression syntax problems in every string of a value. */
export function syntaxProblems(
  value: unknown,
  path: string,
  expressions: Pick<ExpressionEngine, 'check' | 'hasExpression'>,
): string[] {
  if (typeof value === 'string') {
    if (!expressions.hasExpression(value)) return []
    try {
      expressions.check(value)
      return []
    } catch (error) {
      return [`${path}: ${(error as Error).message}`]
    }
  }
  if (Array.isArray(value)) {
    return value.flatMap((item, index) => syntaxProblems(item, `${path}[${index}]`, expressions))
  }
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, item]) =>
      syntaxProblems(item, `${path}.${key}`, expressions),
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

function describe(error: ErrorObject, root: unknown): string {
  const path = segments(error.instancePath)
    .map((part, index) => (/^\d+$/.test(part) ? `[${part}]` : index === 0 ? part : `.${part}`))
    .join('')
  const at = (suffix: string) => (path ? `${path}${suffix}` : suffix.replace(/^\./, ''))
  const params = error.params as Record<string, unknown>
  switch (error.keyword) {
    case 'required':
      return `${at(`.${String(params.missingProperty)}`)}: is required`
    case 'type': {
      const value = valueAt(root, error.instancePath)
      return `${path || '(properties)'}: expected ${String(params.type)}, got ${typeName(value)}`
    }
    case 'enum':
      return `${path}: must be one of ${(params.allowedValues as unknown[]).map((item) => JSON.stringify(item)).join(', ')}`
    case 'additionalProperties':
      return `${at(`.${String(params.additionalProperty)}`)}: unknown property`
    default:
      return `${path || '(properties)'}: ${error.message ?? 'is invalid'}`
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
