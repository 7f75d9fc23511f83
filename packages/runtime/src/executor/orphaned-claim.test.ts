import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { useRestartableRuntimes, waitUntil } from '../../test/fixtures/test-runtime.js'

// A claim whose answer is lost with its connection (PostgreSQL going away as it commits) leaves an
// entry claimed by this node that its worker never got. The executor runs such an attempt again
// instead of waiting for it for ever. The lost answer is played here by claiming the entry in the
// database behind the runtime's back.

const BLOCKER = `
id: blocker
namespace: test.orphan
tasks:
  - id: hold
    type: test.fixtures.Attempt
    ms: 1500
`
const ECHO = `
id: echo
namespace: test.orphan
tasks:
  - id: say
    type: test.fixtures.Echo
    value: hello
`

describe('an attempt claimed by this node but never run', () => {
  const runtimes = useRestartableRuntimes('kite-orphaned-claim-')

  it('is recorded lost and run again once the worker is free', async () => {
    // One slot, taken by the blocker: `say` waits in the queue.
    const t = await runtimes.start({ worker: { slots: 1 } })
    await t.runtime.engine.saveFlow(BLOCKER)
    await t.runtime.engine.saveFlow(ECHO)
    await t.runtime.engine.start({ namespace: 'test.orphan', flowId: 'blocker' })
    const started = await t.runtime.engine.start({ namespace: 'test.orphan', flowId: 'echo' })
    const db = new Database(join(runtimes.dataDir, 'kite.db'))
    try {
      db.pragma('busy_timeout = 5000')
      await waitUntil(async () => {
        const claimed = db
          .prepare(
            "UPDATE task_queue SET state = 'RUNNING', node_id = ?, claimed_at = ? WHERE state = 'QUEUED' AND execution_id = ?",
          )
          .run(t.runtime.nodeId, new Date().toISOString(), started.id)
        return claimed.changes === 1
      })
    } finally {
      db.close()
    }
    const done = await t.runtime.engine.waitFor(started.id)
    expect(done.state.current).toBe('SUCCESS')
    const attempts = t.taskRun(done, 'say').attempts
    expect(attempts.map((attempt) => attempt.state.current)).toEqual(['FAILED', 'SUCCESS'])
    expect(attempts[0]).toMatchObject({ workerLost: true, worker: t.runtime.nodeId })
    expect(await t.logs(started.id)).toContainEqual(
      expect.stringMatching(/attempt 1: .*worker lost/),
    )
  }, 20_000)
})
