import { connect, createServer, type Server, type Socket } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { echo, flowYaml, slow } from '../../test/fixtures/flows.js'
import { createTestDatabase } from '../../test/fixtures/postgres.js'
import {
  createTestRuntime,
  runStates,
  type TestRuntime,
  waitUntil,
} from '../../test/fixtures/test-runtime.js'
import { isConnectionLost } from './kysely-store.js'

// PostgreSQL going away under a running runtime — every connection dropped by the server, or the
// server out of reach for a while (a restart, a failover) — must delay executions, not fail or
// lose them, and must not end the process. The runtime reaches the real server through a TCP
// proxy on loopback that the test cuts.

/** A TCP proxy to PostgreSQL: `cut()` drops every connection and refuses new ones until `mend()`. */
async function startProxy(target: URL) {
  const sockets = new Set<Socket>()
  let refusing = false
  const server: Server = createServer((client) => {
    if (refusing) return client.destroy()
    const socket = connect(Number(target.port || 5432), target.hostname)
    sockets.add(client).add(socket)
    const drop = () => {
      client.destroy()
      socket.destroy()
      sockets.delete(client)
      sockets.delete(socket)
    }
    client.on('error', drop).on('close', drop)
    socket.on('error', drop).on('close', drop)
    client.pipe(socket).pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    port,
    cut() {
      refusing = true
      for (const socket of sockets) socket.destroy()
      sockets.clear()
    },
    mend() {
      refusing = false
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

let database: Awaited<ReturnType<typeof createTestDatabase>>
let proxy: Awaited<ReturnType<typeof startProxy>>
let t: TestRuntime
beforeEach(async () => {
  database = await createTestDatabase()
  const url = new URL(database.url)
  proxy = await startProxy(url)
  const through = new URL(database.url)
  through.port = String(proxy.port)
  t = await createTestRuntime({ config: { store: { url: through.toString() } } })
})
afterEach(async () => {
  await t?.close()
  await proxy?.close()
  await database?.drop()
})

const FLOW = flowYaml('steady', 'test.outage', [
  echo('a', 1),
  slow('nap', 20),
  echo('b', 2),
  slow('nap2', 20),
  echo('c', 3),
])

async function startMany(stopAfter: Promise<void>) {
  const ids: string[] = []
  const errors: string[] = []
  let stopped = false
  void stopAfter.then(() => {
    stopped = true
  })
  while (!stopped) {
    try {
      ids.push((await t.runtime.engine.start({ namespace: 'test.outage', flowId: 'steady' })).id)
    } catch (error) {
      errors.push((error as Error).message)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
  return { ids, errors }
}

async function statesOf(ids: string[]) {
  const states: Record<string, number> = {}
  for (const id of ids) {
    const state = (await t.runtime.store.getExecution(id))?.state.current ?? 'MISSING'
    states[state] = (states[state] ?? 0) + 1
  }
  return states
}

describe('a runtime on PostgreSQL when the database goes away (PostgreSQL)', () => {
  it('finishes every execution when the connections drop again and again, or the server is out of reach for 2 s', async () => {
    await t.runtime.engine.saveFlow(FLOW)
    const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
    const outages = (async () => {
      await sleep(300)
      // Every connection dropped, ten times, a tenth of a second apart.
      for (let round = 0; round < 10; round++) {
        proxy.cut()
        proxy.mend()
        await sleep(100)
      }
      // Out of reach for two seconds: connections dropped, new ones refused.
      proxy.cut()
      await sleep(2000)
      proxy.mend()
      await sleep(300)
    })()
    const { ids, errors } = await startMany(outages)
    // Starts while the server was out of reach waited for it: none failed.
    expect(errors).toEqual([])
    expect(ids.length).toBeGreaterThan(20)
    await waitUntil(async () => (await statesOf(ids)).SUCCESS === ids.length, 30_000).catch(
      async () => {
        const unfinished: string[] = []
        for (const id of ids) {
          const execution = await t.runtime.store.getExecution(id)
          if (execution?.state.current !== 'SUCCESS') {
            unfinished.push(`${id} ${execution ? runStates(execution) : 'missing'}`)
          }
        }
        throw new Error(
          `not all SUCCESS: ${JSON.stringify(await statesOf(ids))}; ${unfinished.slice(0, 5).join('; ')}`,
        )
      },
    )
    // Every task of every execution succeeded once; an attempt before that can only be one whose
    // claim was lost with its connection, recorded as a lost worker's.
    for (const id of ids) {
      const execution = await t.runtime.store.getExecution(id)
      expect(execution?.taskRunList.map((run) => run.taskId)).toEqual([
        'a',
        'nap',
        'b',
        'nap2',
        'c',
      ])
      for (const run of execution?.taskRunList ?? []) {
        expect(run.attempts.filter((attempt) => attempt.state.current === 'SUCCESS')).toHaveLength(
          1,
        )
        expect(run.attempts.slice(0, -1).every((attempt) => attempt.workerLost === true)).toBe(true)
      }
    }
    // And it still serves: a new execution runs.
    expect((await t.run(FLOW)).state.current).toBe('SUCCESS')
  }, 60_000)
})

describe('isConnectionLost', () => {
  it('tells a lost connection from a failed query', () => {
    const coded = (code: string) => Object.assign(new Error('x'), { code })
    for (const code of [
      '57P01',
      '57P02',
      '57P03',
      '08006',
      '08001',
      'ECONNREFUSED',
      'ECONNRESET',
    ]) {
      expect(isConnectionLost(coded(code)), code).toBe(true)
    }
    expect(isConnectionLost(new Error('Connection terminated unexpectedly'))).toBe(true)
    expect(
      isConnectionLost(new Error('Client has encountered a connection error and is not queryable')),
    ).toBe(true)
    // A unique violation, a syntax error, Kite's own codes, nothing at all: not lost.
    for (const code of ['23505', '42601', 'EXECUTION_EXISTS', '08']) {
      expect(isConnectionLost(coded(code)), code).toBe(false)
    }
    expect(isConnectionLost(new Error('duplicate key value violates unique constraint'))).toBe(
      false,
    )
    expect(isConnectionLost(undefined)).toBe(false)
    expect(isConnectionLost('Connection terminated')).toBe(false)
  })
})
