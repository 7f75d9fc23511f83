import { testCondition } from '@kite/sdk/testing'
import { describe, expect, it } from 'vitest'
import { __CONDITION_VAR__ } from './__CONDITION_FILE__.js'

describe('__CONDITION_NAME__', () => {
  it('passes only when the text contains the search', async () => {
    const passes = async (properties: Record<string, unknown>) =>
      (await testCondition(__CONDITION_VAR__, properties)).result
    expect(await passes({ text: 'black cat', search: 'cat' })).toBe(true)
    expect(await passes({ text: 'black dog', search: 'cat' })).toBe(false)
    expect(await passes({ text: 'Black Cat', search: 'cat' })).toBe(false)
    expect(await passes({ text: 'Black Cat', search: 'cat', ignoreCase: true })).toBe(true)
  })
})
