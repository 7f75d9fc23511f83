import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { greetFlow as greet } from '../../test/greeting-server.js'
import { createPluginCatalog } from '../plugins/plugin-catalog.js'
import { loadPluginDirectory } from '../plugins/plugin-sources.js'
import { flowJsonSchema, schemaTypesOf } from './flow-json-schema.js'

const root = fileURLToPath(new URL('../../../..', import.meta.url))
const catalog = createPluginCatalog()
for (const dir of [
  'packages/plugins/core',
  'packages/plugins/http',
  'packages/plugins/transform',
  'packages/plugins/sqlite',
  'examples/plugins/greeting',
  'examples/plugins/greeting/v2',
]) {
  catalog.add(await loadPluginDirectory(join(root, dir)))
}
const schema = flowJsonSchema(schemaTypesOf(catalog))
const ajv = new Ajv2020({ allErrors: true, strict: false })
const validate = ajv.compile(schema)

const errorsOf = (yaml: string) => {
  const valid = validate(parse(yaml))
  return valid ? [] : (validate.errors ?? [])
}

describe('flowJsonSchema', () => {
  it('is a draft 2020-12 schema with one branch per type and version', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema')
    const task = (schema.$defs as Record<string, { allOf: Array<{ then: unknown }> }>).task
    const hello = task?.allOf.find((branch) =>
      JSON.stringify(branch).includes('"const":"acme.greeting.Hello"'),
    )
    expect(JSON.stringify(hello?.then)).toContain('"title":"acme.greeting.Hello 1.0.0"')
    expect(JSON.stringify(hello?.then)).toContain('"title":"acme.greeting.Hello 2.0.0"')
  })

  it('accepts every example flow', async () => {
    const dir = join(root, 'examples/flows')
    const files = (await readdir(dir)).filter((file) => file.endsWith('.yml'))
    expect(files.length).toBeGreaterThan(5)
    for (const file of files) {
      const errors = errorsOf(await readFile(join(dir, file), 'utf8'))
      expect({ file, errors }).toEqual({ file, errors: [] })
    }
  })

  it('applies the properties of the pinned version only', () => {
    expect(errorsOf(greet('    version: "1.0.0"\n    name: Ada'))).toEqual([])
    expect(errorsOf(greet('    version: "2.0.0"\n    who: Ada'))).toEqual([])
    // `name` exists in 1.0.0 only, `who` in 2.0.0 only.
    expect(errorsOf(greet('    version: "2.0.0"\n    name: Ada')).length).toBeGreaterThan(0)
    expect(errorsOf(greet('    version: "1.0.0"\n    who: Ada')).length).toBeGreaterThan(0)
    // Without an exact version, a task fitting any installed version is valid.
    expect(errorsOf(greet('    version: "^1"\n    name: Ada'))).toEqual([])
    expect(errorsOf(greet('    name: Ada'))).toEqual([])
  })

  it('accepts expressions for any declared type, and refuses wrong values and unknown types', () => {
    expect(errorsOf(greet('    version: "1.0.0"\n    name: "{{ inputs.who }}"'))).toEqual([])
    expect(errorsOf(greet('    version: "1.0.0"\n    name: [1, 2]')).length).toBeGreaterThan(0)
    expect(
      errorsOf('id: x\nnamespace: demo\ntasks:\n  - id: a\n    type: acme.greeting.Nope\n').length,
    ).toBeGreaterThan(0)
    expect(errorsOf('id: x\nnamespace: demo\ntaks: []\ntasks: []\n').length).toBeGreaterThan(0)
  })

  it('checks nested tasks, triggers and their conditions', () => {
    const flow = `id: nested
namespace: demo
tasks:
  - id: each
    type: kite.flow.ForEach
    values: [a, b]
    tasks:
      - id: hello
        type: acme.greeting.Hello
        version: "2.0.0"
        who: "{{ taskrun.value }}"
triggers:
  - id: visitors
    type: acme.greeting.Visitors
    conditions:
      - type: acme.greeting.NameMatches
        version: "1.0.0"
        CONDITION
`
    expect(errorsOf(flow.replace('CONDITION', 'pattern: "^A"'))).toEqual([])
    expect(errorsOf(flow.replace('CONDITION', 'nonsense: Ada')).length).toBeGreaterThan(0)
    expect(
      errorsOf(flow.replace('who:', 'name:').replace('CONDITION', 'pattern: "^A"')).length,
    ).toBeGreaterThan(0)
  })

  it('is the same schema for the same types (a pure function)', () => {
    expect(flowJsonSchema(schemaTypesOf(catalog))).toEqual(schema)
    const empty = flowJsonSchema([])
    expect(
      ajv.validate(
        empty,
        parse('id: x\nnamespace: demo\ntasks:\n  - id: a\n    type: kite.flow.Pause\n'),
      ),
    ).toBe(true)
  })
})
