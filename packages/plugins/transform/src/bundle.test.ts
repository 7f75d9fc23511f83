import { createTestContext, runBundle } from '@kite/sdk/testing'
import { describe, expect, it } from 'vitest'

// npm test builds every package before testing; by hand: npx turbo run build --filter=@kite/plugin-transform
const packageDir = new URL('..', import.meta.url)

describe('the built bundle, in a plain node process', () => {
  it('runs its bundled jsonata, csv-parse, csv-stringify and yaml', async () => {
    const jsonata = await runBundle(packageDir, 'kite.transform.Jsonata', {
      value: [1, 2, 3],
      expression: '$sum($)',
    })
    expect(jsonata.manifest).toMatchObject({
      name: '@kite/plugin-transform',
      group: 'kite.transform',
    })
    expect(jsonata.manifest.tasks.map((task) => task.type).sort()).toEqual([
      'kite.transform.CsvToJson',
      'kite.transform.JsonToCsv',
      'kite.transform.JsonToYaml',
      'kite.transform.Jsonata',
      'kite.transform.YamlToJson',
    ])
    expect(
      jsonata.manifest.tasks.find((task) => task.type.endsWith('Jsonata'))?.properties.properties,
    ).toMatchObject({ expression: { $dynamic: false } })
    expect(jsonata.value).toEqual({ value: 6 })
    const csv = await runBundle(packageDir, 'kite.transform.CsvToJson', {
      csv: 'a\n1',
      fetchType: 'FETCH',
    })
    expect(csv.value).toEqual({ value: [{ a: '1' }], size: 1 })
    const shared = await createTestContext()
    try {
      const written = await runBundle(
        packageDir,
        'kite.transform.JsonToCsv',
        { value: [{ a: 1 }] },
        { context: shared },
      )
      expect(await shared.readStorage((written.value as { uri: string }).uri)).toBe('a\n1\n')
    } finally {
      await shared.cleanup()
    }
    const yaml = await runBundle(packageDir, 'kite.transform.YamlToJson', { yaml: 'a: [1]' })
    expect(yaml.value).toEqual({ value: { a: [1] } })
  })
})
