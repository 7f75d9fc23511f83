import { readFile } from 'node:fs/promises'
import type { AnyTask, PluginDefinition } from '@kite/sdk'
import { parseManifest } from '@kite/sdk/host'
import { runTask } from '@kite/sdk/testing'
import { describe, expect, it } from 'vitest'

// npm test builds every package before testing; run `npx turbo run build --filter=@kite/plugin-transform` first by hand.
const dist = new URL('../dist/', import.meta.url)

describe('the built bundle', () => {
  it('has a manifest listing every task', async () => {
    const manifest = parseManifest(
      JSON.parse(await readFile(new URL('kite-plugin.json', dist), 'utf8')),
    )
    expect(manifest).toMatchObject({ name: '@kite/plugin-transform', group: 'kite.transform' })
    expect(manifest.tasks.map((task) => task.type).sort()).toEqual([
      'kite.transform.CsvToJson',
      'kite.transform.JsonToCsv',
      'kite.transform.JsonToYaml',
      'kite.transform.Jsonata',
      'kite.transform.YamlToJson',
    ])
    expect(
      manifest.tasks.find((task) => task.type.endsWith('Jsonata'))?.properties.properties,
    ).toMatchObject({ expression: { $dynamic: false } })
  })

  it('runs its bundled jsonata, csv-parse, csv-stringify and yaml', async () => {
    const plugin = ((await import(new URL('index.js', dist).href)) as { default: PluginDefinition })
      .default
    const task = (name: string): AnyTask => {
      const found = plugin.find(`kite.transform.${name}`)
      if (found?.kind !== 'task') throw new Error(`no task ${name} in the bundle`)
      return found
    }
    const jsonata = await runTask(task('Jsonata'), { value: [1, 2, 3], expression: '$sum($)' })
    expect(jsonata.outputs).toEqual({ value: 6 })
    const csv = await runTask(task('CsvToJson'), { csv: 'a\n1', fetchType: 'FETCH' })
    expect(csv.outputs).toEqual({ value: [{ a: '1' }], size: 1 })
    const written = await runTask(task('JsonToCsv'), { value: [{ a: 1 }] })
    expect(await written.context.readStorage(String(written.outputs.uri))).toBe('a\n1\n')
    const yaml = await runTask(task('YamlToJson'), { yaml: 'a: [1]' })
    expect(yaml.outputs).toEqual({ value: { a: [1] } })
  })
})
