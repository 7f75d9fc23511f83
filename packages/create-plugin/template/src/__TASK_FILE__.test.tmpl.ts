import { runTask } from '@kite/sdk/testing'
import { describe, expect, it } from 'vitest'
import { __TASK_VAR__ } from './__TASK_FILE__.js'

describe('__TASK_NAME__', () => {
  it('greets the world by default', async () => {
    const { outputs, logs } = await runTask(__TASK_VAR__)
    expect(outputs).toEqual({ message: 'Hello, world!' })
    expect(logs).toEqual([{ level: 'info', message: 'Hello, world!' }])
  })

  it('renders expressions in its properties, as the runtime does', async () => {
    const { outputs } = await runTask(
      __TASK_VAR__,
      { name: '{{ inputs.who }}' },
      { inputs: { who: 'Ada' } },
    )
    expect(outputs.message).toBe('Hello, Ada!')
  })

  it('refuses an empty name', async () => {
    await expect(runTask(__TASK_VAR__, { name: '' })).rejects.toThrow(/name/)
  })
})
