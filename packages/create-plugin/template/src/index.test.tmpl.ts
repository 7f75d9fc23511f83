import { describe, expect, it } from 'vitest'
import { __CONDITION_VAR__ } from './__CONDITION_FILE__.js' // #if condition
import { __TASK_VAR__ } from './__TASK_FILE__.js'
import { __TRIGGER_VAR__ } from './__TRIGGER_FILE__.js' // #if trigger
import plugin from './index.js'

describe('the plugin', () => {
  it('provides its types in group __GROUP__', () => {
    expect(plugin.group).toBe('__GROUP__')
    expect(plugin.find('__GROUP__.__TASK_NAME__')).toBe(__TASK_VAR__)
    expect(plugin.find('__GROUP__.__TRIGGER_NAME__')).toBe(__TRIGGER_VAR__) // #if trigger
    expect(plugin.find('__GROUP__.__CONDITION_NAME__')).toBe(__CONDITION_VAR__) // #if condition
  })
})
