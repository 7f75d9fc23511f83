import { runBundle } from '@kite/sdk/testing'
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

describe('the built package, in a plain node process', () => {
  it('runs a task from the bundle, as its manifest says (npm test builds before testing)', async () => {
    const { manifest, value } = await runBundle(
      new URL('..', import.meta.url),
      'kite.core.debug.Return',
      { format: 'v{{ 1 + 1 }}' },
    )
    expect(manifest).toMatchObject({ name: '@kite/plugin-core', group: 'kite.core' })
    expect(manifest.tasks.length + manifest.conditions.length).toBe(14)
    expect(value).toEqual({ value: 'v2' })
  })
})
