import { copyFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { PACKAGE_ROOT } from '../../test/fixtures/temp-dir.js'
import { useRestartableRuntimes, waitUntil } from '../../test/fixtures/test-runtime.js'

const runtimes = useRestartableRuntimes('kite-queue-')
const { start, stop } = runtimes

/** Changes the data directory's database while no runtime has it open. */
function editDatabase(edit: (db: Database.Database) => void) {
  const db = new Database(join(runtimes.dataDir, 'kite.db'))
  try {
    edit(db)
  } finally {
    db.close()
  }
}

const flow = `
id: queued
namespace: test.queue
tasks:
  - id: work
    type: test.fixtures.Attempt
    ms: 5000
  - id: after
    type: test.fixtures.Echo
    value: "{{ outputs.work.attempt }}"
`

/**
 * Starts the flow and stops the runtime while `work` runs, its attempt claimed from the queue;
 * returns the execution id. An attempt the executor hands its own worker at once has no entry,
 * so the worker's one slot is taken first by a short task: `work` waits in the queue, then the
 * worker claims it (an entry RUNNING on this node), as a worker in another process would.
 */
async function stopMidTask(config: { worker?: Record<string, unknown> } = {}): Promise<string> {
  const before = await start({ ...config, worker: { ...config.worker, slots: 1 } })
  await before.runtime.engine.saveFlow(flow)
  await before.runtime.engine.saveFlow(BLOCKER)
  await before.runtime.engine.start({ namespace: 'test.queue', flowId: 'blocker' })
  const started = await before.runtime.engine.start({ namespace: 'test.queue', flowId: 'queued' })
  await waitUntil(async () => {
    const run = (await before.runtime.engine.getExecution(started.id))?.taskRunList[0]
    if (!run) return false
    const [entry] = await before.runtime.store.getQueueEntries([`${run.id}:1`])
    return entry?.state === 'RUNNING'
  })
  await stop(before)
  return started.id
}

/** One short task: it holds the only slot while the next attempt is queued. */
const BLOCKER = `
id: blocker
namespace: test.queue
tasks:
  - id: hold
    type: test.fixtures.Attempt
    ms: 300
`

const queueRows = () => {
  let rows: Array<{ id: string; state: string; node_id: string | null }> = []
  editDatabase((db) => {
    rows = db.prepare('SELECT id, state, node_id FROM task_queue ORDER BY seq').all() as typeof rows
  })
  return rows
}

describe('the task queue across restarts', () => {
  it('records each attempt in the queue with the node that claimed it, and empties it at the end', async () => {
    const t = await start()
    const done = await t.run(flow.replace('ms: 5000', 'ms: 1'))
    expect(done.state.current).toBe('SUCCESS')
    expect(await t.runtime.store.countQueuedTaskRuns()).toBe(0)
    const work = t.taskRun(done, 'work')
    expect(work.attempts).toHaveLength(1)
    expect(await t.runtime.store.getQueueEntries([`${work.id}:1`])).toEqual([])
    const nodes = await t.runtime.store.listNodes()
    expect(nodes.map((node) => node.id)).toEqual([work.attempts[0]?.worker])
    expect(nodes[0]).toMatchObject({ pid: process.pid, slots: 32 })
  })

  it('gives an attempt its own worker runs no queue entry; stopped, it is recorded lost and run again', async () => {
    const before = await start()
    await before.runtime.engine.saveFlow(flow.replace('ms: 5000', 'ms: 1500'))
    const started = await before.runtime.engine.start({ namespace: 'test.queue', flowId: 'queued' })
    await waitUntil(async () => {
      const run = (await before.runtime.engine.getExecution(started.id))?.taskRunList[0]
      return run?.attempts[0]?.state.current === 'RUNNING'
    })
    const running = (await before.runtime.engine.getExecution(started.id))!.taskRunList[0]!
    // Committed RUNNING with this node as its worker: that is the record, not a queue entry.
    expect(running.attempts[0]?.worker).toBe((await before.runtime.store.listNodes())[0]?.id)
    expect(await before.runtime.store.getQueueEntries([`${running.id}:1`])).toEqual([])
    await stop(before)
    expect(queueRows()).toEqual([])
    const after = await start()
    const done = await after.runtime.engine.waitFor(started.id)
    expect(done.state.current).toBe('SUCCESS')
    const work = after.taskRun(done, 'work')
    expect(work.attempts.map((attempt) => attempt.workerLost)).toEqual([true, undefined])
    expect(work.outputs).toMatchObject({ attempt: 2 })
    expect(queueRows()).toEqual([])
  }, 20_000)

  it('takes a result a worker recorded before the executor could: the task does not run again', async () => {
    const id = await stopMidTask()
    const [entry] = queueRows()
    expect(entry?.state).toBe('RUNNING')
    editDatabase((db) => {
      db.prepare("UPDATE task_queue SET state = 'DONE', result = ? WHERE id = ?").run(
        JSON.stringify({
          ok: true,
          outputs: { taskRunId: 'recorded', attempt: 1, idempotencyKey: 'k' },
        }),
        entry!.id,
      )
    })
    const after = await start()
    const done = await after.runtime.engine.waitFor(id)
    expect(done.state.current).toBe('SUCCESS')
    const work = after.taskRun(done, 'work')
    expect(work.attempts.map((attempt) => attempt.state.current)).toEqual(['SUCCESS'])
    expect(work.outputs).toEqual({ taskRunId: 'recorded', attempt: 1, idempotencyKey: 'k' })
    expect(after.taskRun(done, 'after').outputs).toEqual({ value: 1 })
    expect(queueRows()).toEqual([])
  })

  it('runs an attempt still waiting in the queue without calling its worker lost', async () => {
    // One slot: the first execution's task runs, the second's waits in the queue.
    const first = await stopMidTask({ worker: { slots: 1 } })
    const before = await start({ worker: { slots: 1 } })
    // The resumed execution takes the slot first (its resubmitted attempt claimed).
    await waitUntil(async () => {
      const resumed = await before.runtime.engine.getExecution(first)
      return resumed?.taskRunList[0]?.attempts.length === 2
    })
    await waitUntil(async () => (await before.runtime.store.countQueuedTaskRuns()) === 0)
    const second = await before.runtime.engine.start({ namespace: 'test.queue', flowId: 'queued' })
    await waitUntil(async () => (await before.runtime.store.countQueuedTaskRuns()) === 1)
    await stop(before)
    const waiting = queueRows().find((row) => row.state === 'QUEUED')
    expect(waiting?.node_id).toBeNull()
    editDatabase((db) => {
      db.prepare(
        'UPDATE task_queue SET payload = replace(payload, \'"ms":5000\', \'"ms":1\')',
      ).run()
    })
    const after = await start()
    const done = await after.runtime.engine.waitFor(second.id)
    expect(done.state.current).toBe('SUCCESS')
    const work = after.taskRun(done, 'work')
    expect(`${work.id}:1`).toBe(waiting?.id)
    expect(work.attempts.map((attempt) => attempt.state.current)).toEqual(['SUCCESS'])
    expect(work.attempts[0]?.workerLost).toBeUndefined()
    expect(work.outputs).toMatchObject({ attempt: 1 })
    expect((await after.logs(second.id)).join('\n')).not.toContain('worker lost')
    await after.runtime.engine.kill(first)
  })

  it('resubmits an attempt whose worker on another host stops heartbeating', async () => {
    const id = await stopMidTask()
    const heartbeat = new Date().toISOString()
    editDatabase((db) => {
      db.prepare(
        "INSERT INTO nodes (id, roles, host, pid, slots, slots_in_use, started_at, heartbeat_at) VALUES ('elsewhere', 'worker', 'another-host', 1, 4, 1, ?, ?)",
      ).run(heartbeat, heartbeat)
      db.prepare("UPDATE task_queue SET node_id = 'elsewhere'").run()
    })
    // Alive when the executor resumes (a fresh heartbeat): it waits, then sees it go stale.
    const after = await start({ worker: { heartbeatTimeout: 'PT2S' } })
    await waitUntil(async () => {
      const execution = await after.runtime.engine.getExecution(id)
      return (execution?.taskRunList[0]?.attempts.length ?? 0) === 2
    }, 10_000)
    const running = await after.runtime.engine.getExecution(id)
    expect(running?.taskRunList[0]?.attempts[0]).toMatchObject({ workerLost: true })
    expect(
      new Date(running!.taskRunList[0]!.attempts[0]!.state.endDate!).getTime() -
        Date.parse(heartbeat),
    ).toBeGreaterThanOrEqual(2000)
    await after.runtime.engine.kill(id)
  }, 20_000)

  it('upgrades a data directory written before the queue existed and finishes its in-flight executions', async () => {
    await mkdir(runtimes.dataDir, { recursive: true })
    await copyFile(
      join(PACKAGE_ROOT, 'test', 'fixtures', 'data-dir-v1', 'kite.db'),
      join(runtimes.dataDir, 'kite.db'),
    )
    let version = 0
    editDatabase((db) => {
      version = db.pragma('user_version', { simple: true }) as number
    })
    expect(version).toBe(1)
    const t = await start()
    const all = await t.runtime.store.listExecutions({}, 1, 50)
    expect(all.total).toBe(4)
    const inFlight = all.results.filter((execution) => execution.state.current === 'RUNNING')
    expect(inFlight).toHaveLength(2)
    for (const execution of inFlight) {
      const done = await t.runtime.engine.waitFor(execution.id)
      expect(done.state.current).toBe('SUCCESS')
      const slow = t.taskRun(done, 'slow')
      expect(slow.attempts.map((attempt) => attempt.state.current)).toEqual(['FAILED', 'SUCCESS'])
      expect(slow.attempts[0]?.error).toContain('worker lost')
      expect(t.taskRun(done, 'after').outputs).toEqual({ value: 2 })
    }
    let migrations: string[] = []
    editDatabase((db) => {
      version = db.pragma('user_version', { simple: true }) as number
      migrations = db
        .prepare('SELECT name FROM kysely_migration ORDER BY name')
        .all()
        .map((row) => (row as { name: string }).name)
    })
    expect(migrations).toEqual([
      '0001_base',
      '0002_executions_updated',
      '0003_task_queue_and_nodes',
      '0004_roles',
      '0005_users_tokens_sessions',
      '0006_execution_commands',
      '0007_task_queue_queued_index',
      '0008_trigger_state_key_index',
    ])
    expect(version).toBe(migrations.length)
    expect((await t.runtime.store.listFlows('upgrade')).map((f) => f.id)).toEqual([
      'legacy',
      'quick',
    ])
  }, 20_000)

  it('fails a task run whose queue entry cannot be read, clearly, and keeps running others', async () => {
    const garbled = await stopMidTask()
    editDatabase((db) => {
      db.prepare(
        "UPDATE task_queue SET state = 'QUEUED', node_id = NULL, payload = 'not json'",
      ).run()
    })
    const after = await start()
    const failed = await after.runtime.engine.waitFor(garbled)
    expect(failed.state.current).toBe('FAILED')
    const work = after.taskRun(failed, 'work')
    expect(work.error).toMatch(
      new RegExp(`^queued task run ${work.id}:1 cannot be read: its payload is not JSON \\(`),
    )
    const next = await after.run(flow.replace('ms: 5000', 'ms: 1'))
    expect(next.state.current).toBe('SUCCESS')
    expect(await after.runtime.store.countQueuedTaskRuns()).toBe(0)
  })

  it('refuses a queue entry that is JSON but not a task job', async () => {
    const garbled = await stopMidTask()
    editDatabase((db) => {
      db.prepare(
        `UPDATE task_queue SET state = 'QUEUED', node_id = NULL, payload = '{"executionId":1}'`,
      ).run()
    })
    const after = await start()
    const failed = await after.runtime.engine.waitFor(garbled)
    expect(after.taskRun(failed, 'work').error).toContain('its payload is not a task job')
  })

  it('runs an attempt again when its recorded result cannot be read', async () => {
    const id = await stopMidTask()
    editDatabase((db) => {
      db.prepare("UPDATE task_queue SET state = 'DONE', result = '{\"ok\":'").run()
      db.prepare(
        'UPDATE task_queue SET payload = replace(payload, \'"ms":5000\', \'"ms":1\')',
      ).run()
    })
    const after = await start()
    const done = await after.runtime.engine.waitFor(id)
    expect(done.state.current).toBe('SUCCESS')
    const work = after.taskRun(done, 'work')
    expect(work.attempts.map((attempt) => attempt.workerLost)).toEqual([true, undefined])
    expect(work.outputs).toMatchObject({ attempt: 2 })
  })
})
