import { parse } from 'yaml'
import type { z } from 'zod'
import type { AnyDefinition } from '../define.js'
import { formatIssues } from '../errors.js'
import { reservedPropertyNames } from '../flow-keys.js'

/**
 * Checks that every example of a definition parses as YAML and validates against the
 * definition's own properties schema. Values holding a `{{ }}` expression are only known at run
 * time, so issues about them are not counted. Returns one message per problem.
 */
export function validateExamples(definition: AnyDefinition): string[] {
  const problems: string[] = []
  const examples: unknown = definition.examples ?? []
  if (!Array.isArray(examples)) return [`"${definition.name}": examples must be an array`]
  const flowKeys = reservedPropertyNames(definition.kind)
  for (const [index, example] of examples.entries()) {
    const label = `"${definition.name}" example ${index + 1}${example?.title ? ` ("${example.title}")` : ''}`
    if (typeof example?.title !== 'string' || typeof example?.code !== 'string') {
      problems.push(`${label}: an example needs a title and YAML code`)
      continue
    }
    let document: unknown
    try {
      document = parse(example.code)
    } catch (error) {
      problems.push(`${label}: the YAML does not parse: ${(error as Error).message.split('\n')[0]}`)
      continue
    }
    const targets = example.full ? findTypedBlocks(document, definition.name) : [document ?? {}]
    if (example.full && targets.length === 0) {
      problems.push(`${label}: the flow never uses a type ending in ".${definition.name}"`)
    }
    for (const target of targets) {
      if (typeof target !== 'object' || target === null || Array.isArray(target)) {
        problems.push(`${label}: the YAML must be a mapping of properties`)
        continue
      }
      const properties = Object.fromEntries(
        Object.entries(target).filter(([key]) => !flowKeys.includes(key)),
      )
      const result = definition.properties.safeParse(properties)
      if (result.success) continue
      const issues = result.error.issues.filter(
        (issue: z.core.$ZodIssue) => !holdsExpression(properties, issue.path),
      )
      for (const line of formatIssues(issues)) problems.push(`${label}: ${line}`)
    }
  }
  return problems
}

function findTypedBlocks(node: unknown, name: string, found: unknown[] = []): unknown[] {
  if (Array.isArray(node)) {
    for (const item of node) findTypedBlocks(item, name, found)
  } else if (typeof node === 'object' && node !== null) {
    const type = (node as Record<string, unknown>).type
    if (typeof type === 'string' && type.endsWith(`.${name}`)) found.push(node)
    for (const value of Object.values(node)) findTypedBlocks(value, name, found)
  }
  return found
}

function holdsExpression(root: unknown, path: readonly PropertyKey[]): boolean {
  let node = root
  for (const key of path) {
    if (typeof node === 'string') break
    if (typeof node !== 'object' || node === null) return false
    node = (node as Record<PropertyKey, unknown>)[key]
  }
  return typeof node === 'string' && node.includes('{{')
}
