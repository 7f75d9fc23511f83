import { createFlowTester, type FlowTester } from '@kite/runtime/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// Runs the flows of test/flows in a real runtime, against this package's build (`npm test`
// builds first): what `kite server local --plugin .` would do, without a server.
describe('the flows in test/flows', () => {
  let kite: FlowTester

  beforeAll(async () => {
    kite = await createFlowTester({ plugins: ['.'], flows: 'test/flows' })
  }, 60_000)

  afterAll(async () => {
    await kite?.close()
  })

  it('runs hello with an input to the end', async () => {
    const execution = await kite.run('__GROUP__', 'hello', { inputs: { who: 'Ada' } })
    expect(execution.state.current).toBe('SUCCESS')
    expect(execution.taskRun('hello').outputs).toEqual({ message: 'Hello, Ada!' })
  })
})
