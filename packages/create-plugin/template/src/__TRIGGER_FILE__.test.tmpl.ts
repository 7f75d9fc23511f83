import { pollTrigger } from '@kite/sdk/testing'
import { describe, expect, it } from 'vitest'
import { __TRIGGER_VAR__ } from './__TRIGGER_FILE__.js'

describe('__TRIGGER_NAME__', () => {
  it('emits each item once, batch by batch, keeping a cursor between polls', async () => {
    const items = ['a', 'b', 'c']
    const first = await pollTrigger(__TRIGGER_VAR__, { items, batchSize: 2 })
    expect(first.events).toEqual([
      { item: 'a', position: 1 },
      { item: 'b', position: 2 },
    ])
    const state = Object.fromEntries(first.context.state)
    const second = await pollTrigger(__TRIGGER_VAR__, { items, batchSize: 2 }, { state })
    expect(second.events).toEqual([{ item: 'c', position: 3 }])
  })
})
