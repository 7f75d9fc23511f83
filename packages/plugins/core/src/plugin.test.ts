import { readFile } from 'node:fs/promises'
import type { PluginDefinition } from '@kite/sdk'
import { isDefinition, parseManifest } from '@kite/sdk/host'
import { runTask } from '@kite/sdk/testing'
import { describe, expect, it } from 'vitest'
import plugin from './index.js'

describe('the plugin', () => {
  it('provides its tasks and conditions under kite.core', () => {
    expect(plugin.group).toBe('kite.core')
    expect(plugin.tasks.map((task) => `kite.core.${task.name}`)).toEqual([
      'kite.core.log.Log',
      'kite.core.debug.Return',
      'kite.core.output.OutputValues',
      'kite.core.execution.Fail',
      'kite.core.execution.Labels',
      'kite.core.flow.Sleep',
    ])
    expect(plugin.conditions.map((condition) => condition.name)).toEqual([
      'condition.ExecutionStatus',
      'condition.ExecutionFlow',
      'condition.ExecutionNamespace',
      'condition.DayOfWeek',
      'condition.TimeBetween',
      'condition.Expression',
      'condition.Not',
      'condition.Or',
    ])
  })
})

describe('the built package', () => {
  const dist = new URL('../dist/', import.meta.url)

  it('has a valid manifest (npm test builds before testing)', async () => {
    const manifest = parseManifest(
      JSON.parse(await readFile(new URL('kite-plugin.json', dist), 'utf8')),
    )
    expect(manifest).toMatchObject({ name: '@kite/plugin-core', group: 'kite.core' })
    expect(manifest.tasks.length + manifest.conditions.length).toBe(14)
  })

  it('runs a task from the bundle', async () => {
    const built = (await import(new URL('index.js', dist).href)) as { default: PluginDefinition }
    const task = built.default.find('kite.core.debug.Return')
    if (!isDefinition(task, 'task')) throw new Error('debug.Return is missing from the bundle')
    const { outputs } = await runTask(task, { format: 'v{{ 1 + 1 }}' })
    expect(outputs).toEqual({ value: 'v2' })
  })
})
