import { createSharedContext, runTask } from '@kite/sdk/testing'
import { describe, expect, it } from 'vitest'
import { jsonToYaml, yamlToJson } from './yaml.js'

describe('JsonToYaml', () => {
  it('writes a value as YAML text', async () => {
    const { outputs } = await runTask(jsonToYaml, {
      value: { name: 'Ada', languages: ['en', 'fr'], born: 1815, note: 'yes' },
    })
    expect(outputs).toEqual({
      value: 'name: Ada\nlanguages:\n  - en\n  - fr\nborn: 1815\nnote: "yes"\n',
    })
  })

  it('sorts keys, indents and stores the file', async () => {
    const { outputs, context } = await runTask(jsonToYaml, {
      value: { b: { d: 1, c: 2 }, a: true },
      sortKeys: true,
      indent: 4,
      store: true,
    })
    expect(outputs.value).toBeUndefined()
    expect(await context.readStorage(String(outputs.uri))).toBe('a: true\nb:\n    c: 2\n    d: 1\n')
  })

  it('reads stored JSON Lines as a list', async () => {
    const { store, run } = await createSharedContext()
    const from = await store('rows.jsonl', '{"id":1}\n{"id":2}\n')
    expect(await run(jsonToYaml, { from })).toEqual({ value: '- id: 1\n- id: 2\n' })
  })
})

describe('YamlToJson', () => {
  it('parses YAML with anchors and merge keys, keeping yes and dates as text', async () => {
    const { outputs } = await runTask(yamlToJson, {
      yaml: 'base: &base { retries: 3 }\nprod:\n  <<: *base\n  enabled: yes\n  since: 2024-01-02\n  count: 0x10\n',
    })
    expect(outputs).toEqual({
      value: {
        base: { retries: 3 },
        prod: { retries: 3, enabled: 'yes', since: '2024-01-02', count: 16 },
      },
    })
  })

  it('reads a stored multi-document file with allDocuments and stores JSON', async () => {
    const { store, run, context } = await createSharedContext()
    const from = await store('docs.yaml', 'a: 1\n---\n- x\n- y\n')
    await expect(run(yamlToJson, { from })).rejects.toMatchObject({
      code: 'YAML_INVALID',
      message: expect.stringMatching(/docs\.yaml holds 2 documents; set `allDocuments: true`/),
    })
    const stored = await run(yamlToJson, { from, allDocuments: true, store: true })
    expect(await context.readStorage(String(stored.uri))).toBe('[{"a":1},["x","y"]]\n')
  })

  it('returns null for an empty document', async () => {
    expect((await runTask(yamlToJson, { yaml: '' })).outputs).toEqual({ value: null })
  })

  it('fails invalid YAML naming the line and column', async () => {
    await expect(runTask(yamlToJson, { yaml: 'ok: 1\nlist: [1, 2\n' })).rejects.toMatchObject({
      code: 'YAML_INVALID',
      message: expect.stringMatching(/^the YAML is not valid YAML: .* at line \d+, column \d+$/),
    })
  })

  it('refuses an alias bomb', async () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for (let level = 1; level < 8; level++) {
      const previous = String.fromCharCode(96 + level)
      const name = String.fromCharCode(97 + level)
      levels.push(`${name}: &${name} [${Array(10).fill(`*${previous}`).join(',')}]`)
    }
    await expect(runTask(yamlToJson, { yaml: levels.join('\n') })).rejects.toMatchObject({
      code: 'YAML_INVALID',
      message: expect.stringContaining('resource exhaustion'),
    })
  })
})
