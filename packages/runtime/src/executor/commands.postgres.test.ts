import pg from 'pg'
import { describe, expect, it } from 'vitest'
import type { Json } from '../../test/fixtures/api-calls.js'
import { useTestCluster } from '../../test/fixtures/cluster.js'
import { approvalFlow, echo, flowYaml, slow, task } from '../../test/fixtures/flows.js'
import { slowRuns } from '../../test/fixtures/plugins.js'
import { type TestRuntime, waitUntil } from '../../test/fixtures/test-runtime.js'
import type { KiteServer } from '../api/server.js'
import type { Execution } from './execution-model.js'

// Kill, resume and restart sent to an api-only node of a cluster: the executor that holds the
// execution carries them out (SPEC 9).

const cluster = useTestCluster('kite-commands-api-')
const apiNode = () => cluster.api({ scheduler: false })
const executorNode = () => cluster.node({ roles: ['executor', 'worker'] })

async function post(server: KiteServer, path: string, body?: unknown) {
  const response = await fetch(`${server.url}/api/v1${path}`, {
    method: 'POST',
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  })
  return { status: response.status, body: (await response.json()) as Json }
}

async function saveAndStart(server: KiteServer, yaml: string): Promise<Execution> {
  const saved = await server.runtime.engine.saveFlow(yaml)
  return server.runtime.engine.start({ namespace: saved.flow.namespace, flowId: saved.flow.id })
}

/** Waits until the execution, read from the store, is in one of `states`. */
async function reaches(server: KiteServer, id: string, ...states: string[]): Promise<Execution> {
  let execution: Execution | undefined
  await waitUntil(async () => {
    execution = await server.runtime.store.getExecution(id)
    return execution !== undefined && states.includes(execution.state.current)
  }, 15_000)
  return execution!
}

const commandsLeft = async (server: KiteServer) =>
  (await server.runtime.store.listCommands(cluster.nodes[0]?.runtime.nodeId ?? '')).length

const SLOW = flowYaml('slow', 'test.commands', [slow('slow', 60_000), echo('after', 'never')])
const APPROVAL = approvalFlow('test.commands')

describe('commands through an api node of a cluster on PostgreSQL', () => {
  it('kills a running execution held by an executor node', async () => {
    const executor = await executorNode()
    const server = await apiNode()
    const started = await saveAndStart(server, SLOW)
    const running = await reaches(server, started.id, 'RUNNING')
    expect(running.taskRunList.some((run) => run.taskId === 'slow')).toBe(true)

    const killed = await post(server, `/executions/${started.id}/kill`)
    expect(killed.status).toBe(202)
    expect(['KILLING', 'KILLED']).toContain(killed.body.state.current)
    const done = await reaches(server, started.id, 'KILLED')
    expect(executor.taskRun(done, 'slow').state.current).toBe('KILLED')
    expect(done.taskRunList.some((run) => run.taskId === 'after')).toBe(false)
    await waitUntil(async () => (await commandsLeft(server)) === 0)
    // An ended execution: 409 as on one node, nothing recorded.
    expect((await post(server, `/executions/${started.id}/kill`)).status).toBe(409)
    expect((await post(server, '/executions/nope/kill')).status).toBe(404)
    expect(await commandsLeft(server)).toBe(0)
  })

  it('kills an attempt a worker node runs for an executor node without a worker', async () => {
    const executor = await cluster.node({ roles: ['executor'] })
    const worker = await cluster.node({ roles: ['worker'] })
    const server = await apiNode()
    const started = await saveAndStart(server, SLOW)
    // The attempt is claimed by the worker node (the executor has no slots of its own).
    const client = new pg.Client({ connectionString: cluster.url })
    await client.connect()
    try {
      await waitUntil(async () => {
        const { rows } = await client.query('SELECT node_id FROM task_queue')
        return rows.length === 1 && rows[0].node_id === worker.runtime.nodeId
      }, 15_000)
    } finally {
      await client.end()
    }
    expect(slowRuns.running).toBe(1)
    const claimedAt = Date.now()
    const killed = await post(server, `/executions/${started.id}/kill`)
    expect(killed.status).toBe(202)
    // The Slow task sleeps a minute unless its signal stops it: ended well before that.
    const done = await reaches(server, started.id, 'KILLED')
    expect(Date.now() - claimedAt).toBeLessThan(15_000)
    expect(executor.taskRun(done, 'slow').state.current).toBe('KILLED')
    expect(done.taskRunList.some((run) => run.taskId === 'after')).toBe(false)
    // The worker node's run stopped too: its slot is free, nothing sleeps on for a minute.
    await waitUntil(async () => slowRuns.running === 0, 5_000)
  })

  it('resumes a paused execution with onResume inputs; refuses bad ones with 422 and records nothing', async () => {
    const executor = await executorNode()
    const server = await apiNode()
    const started = await saveAndStart(server, APPROVAL)
    await reaches(server, started.id, 'PAUSED')

    const wrongType = await post(server, `/executions/${started.id}/resume`, { approved: 'maybe' })
    expect(wrongType.status).toBe(422)
    expect(wrongType.body.message).toContain('input "approved" (BOOLEAN)')
    const unknown = await post(server, `/executions/${started.id}/resume`, {
      approved: true,
      x: 1,
    })
    expect(unknown.status).toBe(422)
    expect(unknown.body.message).toContain('unknown input "x"')
    const missing = await post(server, `/executions/${started.id}/resume`, {})
    expect(missing.status).toBe(422)
    expect(missing.body.message).toContain('input "approved" is required')
    expect(await commandsLeft(server)).toBe(0)
    expect((await server.runtime.store.getExecution(started.id))?.state.current).toBe('PAUSED')

    const resumed = await post(server, `/executions/${started.id}/resume`, { approved: 'true' })
    expect(resumed.status).toBe(200)
    expect(resumed.body.state.current).not.toBe('PAUSED')
    const done = await reaches(server, started.id, 'SUCCESS', 'FAILED')
    expect(done.state.current).toBe('SUCCESS')
    expect(executor.taskRun(done, 'after').outputs).toEqual({ value: 'true-none' })
    await waitUntil(async () => (await commandsLeft(server)) === 0)
    expect((await post(server, `/executions/${started.id}/resume`, {})).status).toBe(409)
  })

  it('drops garbled commands in the store with a warning and carries out the next one', async () => {
    const executor = await executorNode()
    const server = await apiNode()
    const started = await saveAndStart(server, APPROVAL)
    await reaches(server, started.id, 'PAUSED')
    const client = new pg.Client({ connectionString: cluster.url })
    await client.connect()
    try {
      for (const [kind, inputs] of [
        ['resume', '{"approved":'],
        ['resume', '[1, 2]'],
        ['explode', null],
      ]) {
        await client.query(
          'INSERT INTO execution_commands (execution_id, kind, inputs, created_at) VALUES ($1, $2, $3, $4)',
          [started.id, kind, inputs, new Date().toISOString()],
        )
      }
    } finally {
      await client.end()
    }
    await waitUntil(async () => (await commandsLeft(server)) === 0)
    expect((await server.runtime.store.getExecution(started.id))?.state.current).toBe('PAUSED')
    const resumed = await post(server, `/executions/${started.id}/resume`, { approved: false })
    expect(resumed.status).toBe(200)
    const done = await reaches(server, started.id, 'SUCCESS', 'FAILED')
    expect(executor.taskRun(done, 'after').outputs).toEqual({ value: 'false-none' })
  })

  it('restarts a failed execution through the api node: an executor runs it again', async () => {
    const executor = await executorNode()
    const server = await apiNode()
    const started = await saveAndStart(
      server,
      flowYaml('flaky', 'test.commands', [
        task('gate', 'test.fixtures.Fail', { times: 1, key: 'commands-gate' }),
        echo('after', 'done'),
      ]),
    )
    await reaches(server, started.id, 'FAILED')
    const restarted = await post(server, `/executions/${started.id}/restart`)
    expect(restarted.status).toBe(200)
    expect(restarted.body.state.current).toBe('RUNNING')
    const done = await reaches(server, started.id, 'SUCCESS', 'FAILED', 'KILLED')
    expect(done.state.current).toBe('SUCCESS')
    expect(executor.taskRun(done, 'gate').attempts.map((attempt) => attempt.state.current)).toEqual(
      ['FAILED', 'SUCCESS'],
    )
    expect((await post(server, `/executions/${started.id}/restart`)).status).toBe(409)
  })

  it('carries out a kill recorded while the holder was down on the executor that takes it over', async () => {
    const first = await executorNode()
    const server = await apiNode()
    const started = await saveAndStart(server, SLOW)
    await reaches(server, started.id, 'RUNNING')
    await waitUntil(async () =>
      (await server.runtime.store.getExecution(started.id))!.taskRunList.some(
        (run) => run.attempts[0]?.state.current === 'RUNNING',
      ),
    )
    // The holder goes away without a word (its node record stays until it is stale).
    cluster.forget(first)
    await first.runtime.engine.close()
    const killed = await post(server, `/executions/${started.id}/kill`)
    expect(killed.status).toBe(202)
    // No live executor: the command waits, recorded.
    expect(killed.body.state.current).toBe('RUNNING')
    expect(await server.runtime.store.listCommands(first.runtime.nodeId)).toHaveLength(1)
    await first.close()
    const second = await executorNode()
    const done = await reaches(server, started.id, 'KILLED')
    expect(second.taskRun(done, 'slow').state.current).toBe('KILLED')
    expect(done.taskRunList.some((run) => run.taskId === 'after')).toBe(false)
    await waitUntil(
      async () => (await server.runtime.store.listCommands(second.runtime.nodeId)).length === 0,
    )
  })

  it('stops the attempt a worker node runs when a kill is carried out by the executor that takes over', async () => {
    const worker = await cluster.node({ roles: ['worker'] })
    const first = await cluster.node({ roles: ['executor'] })
    const server = await apiNode()
    const started = await saveAndStart(server, SLOW)
    await waitUntil(async () => slowRuns.running === 1, 15_000)
    // The holder goes away; the kill waits for the next executor, which ends the attempt killed
    // and removes its entry: the worker node, alive all along, stops running it.
    cluster.forget(first)
    await first.runtime.engine.close()
    expect((await post(server, `/executions/${started.id}/kill`)).status).toBe(202)
    await first.close()
    expect(slowRuns.running).toBe(1)
    await cluster.node({ roles: ['executor'] })
    const done = await reaches(server, started.id, 'KILLED')
    expect(worker.taskRun(done, 'slow').state.current).toBe('KILLED')
    await waitUntil(async () => slowRuns.running === 0, 5_000)
  })

  it('drops commands whose execution ended or is gone, whoever held it', async () => {
    const first = await executorNode()
    const server = await apiNode()
    const started = await saveAndStart(server, flowYaml('quick', 'test.commands', [echo('a', 1)]))
    await reaches(server, started.id, 'SUCCESS')
    // Its holder leaves; a kill recorded as the execution ended (the api read it RUNNING) and one
    // for an execution that is gone are for nobody to carry out.
    cluster.forget(first)
    await first.close()
    const client = new pg.Client({ connectionString: cluster.url })
    await client.connect()
    const count = async () =>
      Number((await client.query('SELECT count(*) AS n FROM execution_commands')).rows[0].n)
    try {
      await server.runtime.store.recordCommand({ executionId: started.id, kind: 'kill' })
      await server.runtime.store.recordCommand({ executionId: 'gone', kind: 'resume', inputs: {} })
      expect(await count()).toBe(2)
      // Before the fix they stayed for ever: only the holder of a finished execution read them.
      await executorNode()
      await waitUntil(async () => (await count()) === 0)
      expect((await server.runtime.store.getExecution(started.id))?.state.current).toBe('SUCCESS')
    } finally {
      await client.end()
    }
  })

  it('finishes a kill under way on the executor that takes over, killing the subflow child too', async () => {
    const first = await executorNode()
    const { engine, store } = first.runtime
    await engine.saveFlow(
      flowYaml('held-child', 'test.commands', [task('wait', 'kite.flow.Pause')]),
    )
    await engine.saveFlow(
      flowYaml('killing-parent', 'test.commands', [
        task('call', 'kite.flow.Subflow', { namespace: 'test.commands', flowId: 'held-child' }),
      ]),
    )
    const parent = await engine.start({ namespace: 'test.commands', flowId: 'killing-parent' })
    let childId = ''
    await waitUntil(async () => {
      const current = await store.getExecution(parent.id)
      childId = String(current?.taskRunList[0]?.outputs?.executionId ?? '')
      return childId !== '' && (await store.getExecution(childId))?.state.current === 'PAUSED'
    }, 15_000)
    const running = (await store.getExecution(parent.id))!
    // The holder stops after committing KILLING, before its kill reached the child.
    cluster.forget(first)
    await first.runtime.engine.close()
    const { taskRunList: _runs, ...summary } = running
    await store.commit({
      execution: { ...summary, state: { ...summary.state, current: 'KILLING' } },
    })
    await first.close()
    const second = await executorNode()
    const done = await reachesIn(second, parent.id, 'KILLED')
    expect(second.taskRun(done, 'call').state.current).toBe('KILLED')
    const child = await reachesIn(second, childId, 'KILLED')
    expect(second.taskRun(child, 'wait').state.current).toBe('KILLED')
  })
})

async function reachesIn(t: TestRuntime, id: string, state: string): Promise<Execution> {
  let execution: Execution | undefined
  await waitUntil(async () => {
    execution = await t.runtime.store.getExecution(id)
    return execution?.state.current === state
  }, 15_000)
  return execution!
}
