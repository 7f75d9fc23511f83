// Issue 14's "Done means" for roles: a cluster of separate `kite server <role>` processes over one
// PostgreSQL database and a real registry — 1 api, 2 executors, 2 workers, 2 schedulers — runs
// hundreds of executions (Parallel, ForEach, Subflow) and a Schedule firing every second while a
// worker, an executor and the active scheduler are killed with SIGKILL; every execution ends
// SUCCESS, no schedule date starts twice, and a version published mid-run reaches every node.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRegistry, type Registry } from '@kite/registry'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase } from '../../../runtime/test/fixtures/postgres.js'
import { createUser, writeAndPublish, writeNpmrc } from '../../../runtime/test/plugin-publishing.js'
import { type RunningKite, runKite, startKite, stopAllKites } from '../../test/kite.js'

const PLUGIN = '@acme/kite-plugin-cluster'
const NAMESPACE = 'acme.cluster'
/** Executions of `main`: before the new version is published, before the kills, after them. */
const FIRST = 40
const BEFORE_KILLS = 60
const AFTER_KILLS = 100
/** Executions pinned to the version published mid-run. */
const PINNED = 24

let work: string
let registry: Registry
let userconfig: string
let database: Awaited<ReturnType<typeof createTestDatabase>>

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kite-cluster-'))
  database = await createTestDatabase()
  registry = await createRegistry({ port: 0, storage: join(work, 'registry') })
  userconfig = join(work, 'user.npmrc')
  await writeNpmrc(userconfig, registry.url, await createUser(registry.url, 'cluster'))
}, 60_000)

afterAll(async () => {
  await stopAllKites()
  await registry?.close()
  await database?.drop()
  await rm(work, { recursive: true, force: true })
}, 60_000)

/** A plugin whose task naps, then says which version and which process (worker) ran it. */
const bundle = (version: string) => `import { definePlugin, defineTask, z } from '@kite/sdk'
export default definePlugin({
  group: 'acme.cluster',
  title: 'Cluster',
  description: 'Naps for the cluster test (${version}).',
  tasks: [
    defineTask({
      name: 'Nap',
      title: 'Nap',
      description: 'Sleeps, then says which version and process ran it.',
      properties: z.object({ ms: z.number().default(30) }),
      outputs: z.object({ version: z.string(), pid: z.number() }),
      async run(props) {
        await new Promise((resolve) => setTimeout(resolve, props.ms))
        // Plugin code runs in a sandbox process started by the worker node: its parent is the node.
        return { version: '${version}', pid: process.ppid }
      },
    }),
  ],
  triggers: [],
  conditions: [],
})
`

async function publish(version: string): Promise<void> {
  await writeAndPublish(
    join(work, `plugin-${version}`),
    { name: PLUGIN, version, bundle: bundle(version) },
    registry.url,
    userconfig,
  )
}

const CHILD = `id: child
namespace: ${NAMESPACE}
tasks:
  - id: nap
    type: acme.cluster.Nap
`
const MAIN = `id: main
namespace: ${NAMESPACE}
tasks:
  - id: both
    type: kite.flow.Parallel
    tasks:
      - id: left
        type: acme.cluster.Nap
      - id: right
        type: acme.cluster.Nap
  - id: each
    type: kite.flow.ForEach
    values: '[1, 2, 3]'
    tasks:
      - id: step
        type: acme.cluster.Nap
  - id: call
    type: kite.flow.Subflow
    namespace: ${NAMESPACE}
    flowId: child
  - id: last
    type: acme.cluster.Nap
    ms: 200
`
const TICK = `id: tick
namespace: ${NAMESPACE}
triggers:
  - id: every-second
    type: kite.trigger.Schedule
    cron: "* * * * * *"
tasks:
  - id: nap
    type: acme.cluster.Nap
    ms: 5
`
const PINNED_FLOW = `id: pinned
namespace: ${NAMESPACE}
tasks:
  - id: nap
    type: acme.cluster.Nap
    version: "1.1.0"
    ms: 150
`

interface Node {
  role: string
  kite: RunningKite
  pid: number
}

interface ExecutionJson {
  id: string
  state: { current: string }
  taskRunList: Array<{ taskId: string; outputs?: { version?: string; pid?: number } }>
}

describe('a cluster of role processes over PostgreSQL', () => {
  it('finishes every execution through SIGKILLs of a worker, an executor and the active scheduler', async () => {
    await publish('1.0.0')
    const config = join(work, 'kite.yaml')
    await writeFile(
      config,
      [
        'worker:',
        '  slots: 6',
        '  heartbeatTimeout: PT3S',
        'scheduler:',
        '  leaseTimeout: PT2S',
        'plugins:',
        '  reconcileInterval: PT2S',
        '',
      ].join('\n'),
    )
    const start = (role: string, name: string, extra: string[] = []): Node => {
      const kite = startKite(
        [
          'server',
          role,
          '--data',
          join(work, 'nodes', name),
          '--store',
          database.url,
          '--registry',
          registry.url,
          '--config',
          config,
          ...extra,
        ],
        /Press Ctrl-C to stop/,
        { cwd: work },
      )
      return { role, kite, pid: kite.child.pid ?? -1 }
    }
    await mkdir(join(work, 'nodes'), { recursive: true })
    // The api first: it runs the migrations the others then find done.
    const api = start('api', 'api', ['--port', '0'])
    await api.kite.ready
    const url = /running at (http:\/\/[\d.:]+)/.exec(api.kite.output().out)?.[1]
    expect(url).toBeDefined()
    const nodes = [
      start('executor', 'executor-1'),
      start('executor', 'executor-2'),
      start('worker', 'worker-1'),
      start('worker', 'worker-2'),
      start('scheduler', 'scheduler-1'),
      start('scheduler', 'scheduler-2'),
    ]
    await Promise.all(nodes.map((node) => node.kite.ready))
    const [executor1, , worker1, worker2] = nodes as [Node, Node, Node, Node, Node, Node]

    const call = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
      const response = await fetch(`${url}/api/v1${path}`, init)
      const text = await response.text()
      if (!response.ok)
        throw new Error(`${init.method ?? 'GET'} ${path}: ${response.status} ${text}`)
      return JSON.parse(text) as T
    }
    const cluster = () =>
      call<{
        nodes: Array<{ id: string; pid: number; roles: string[]; plugins: string[] }>
        scheduler: { nodeId: string } | null
      }>('/cluster')
    const saveFlow = (source: string) =>
      call('/flows', {
        method: 'POST',
        headers: { 'content-type': 'application/x-yaml' },
        body: source,
      })
    const startExecution = async (flowId: string) =>
      (await call<{ id: string }>(`/executions/${NAMESPACE}/${flowId}`, { method: 'POST' })).id
    const startMany = async (flowId: string, count: number) => {
      const ids: string[] = []
      // A few clients at once, as an application would call.
      for (let index = 0; index < count; index += 10) {
        const batch = Math.min(10, count - index)
        ids.push(
          ...(await Promise.all(Array.from({ length: batch }, () => startExecution(flowId)))),
        )
      }
      return ids
    }

    // Every node is live with its role; one scheduler holds the lease.
    await expect
      .poll(async () => (await cluster()).nodes.map((node) => node.roles.join()).sort(), {
        timeout: 20_000,
      })
      .toEqual(['api', 'executor', 'executor', 'scheduler', 'scheduler', 'worker', 'worker'])
    await expect
      .poll(async () => (await cluster()).scheduler?.nodeId, { timeout: 20_000 })
      .toBeTruthy()
    // `kite cluster` prints the same, through the client.
    const listed = await runKite(['cluster', '--server', String(url)], { cwd: work })
    expect(listed.code).toBe(0)
    const holder = (await cluster()).scheduler?.nodeId
    expect(listed.out).toMatch(new RegExp(`${holder} {2}scheduler {2}.*\\(active scheduler\\)`))
    expect(listed.out.match(/ {2}worker {2}/g)).toHaveLength(2)
    expect(listed.out).toContain('this node')

    await saveFlow(CHILD)
    await saveFlow(MAIN)
    await saveFlow(TICK)
    const first = await startMany('main', FIRST)

    // A version published mid-run reaches every node; pinned executions run on both workers.
    await publish('1.1.0')
    await expect
      .poll(
        async () =>
          (await cluster()).nodes.every((node) => node.plugins.includes(`${PLUGIN}@1.1.0`)),
        { timeout: 30_000, interval: 200 },
      )
      .toBe(true)
    await saveFlow(PINNED_FLOW)
    const pinned = await startMany('pinned', PINNED)
    await expect
      .poll(async () => (await executionStates(database.url, pinned)).join(), { timeout: 60_000 })
      .toBe(Array(PINNED).fill('SUCCESS').join())
    const pids = new Set<number>()
    for (const id of pinned) {
      const execution = await call<ExecutionJson>(`/executions/${id}`)
      const nap = execution.taskRunList.find((run) => run.taskId === 'nap')
      expect(nap?.outputs?.version).toBe('1.1.0')
      if (nap?.outputs?.pid !== undefined) pids.add(nap.outputs.pid)
    }
    expect([...pids].sort()).toEqual([worker1.pid, worker2.pid].sort())

    const before = await startMany('main', BEFORE_KILLS)
    // SIGKILL a worker, an executor and the active scheduler while executions are in flight.
    const active = (await cluster()).scheduler?.nodeId
    const activeNode = (await cluster()).nodes.find((node) => node.id === active)
    const scheduler = nodes.find((node) => node.pid === activeNode?.pid)
    expect(scheduler?.role).toBe('scheduler')
    await expect.poll(() => runningTaskRuns(database.url), { timeout: 20_000 }).toBeGreaterThan(0)
    await worker1.kite.stop('SIGKILL')
    await executor1.kite.stop('SIGKILL')
    await scheduler?.kite.stop('SIGKILL')
    const killedAt = Date.now()
    const after = await startMany('main', AFTER_KILLS)

    // The standby scheduler takes over within a few seconds and keeps firing.
    await expect
      .poll(async () => (await cluster()).scheduler?.nodeId, { timeout: 15_000 })
      .not.toBe(active)
    await expect
      .poll(() => tickDatesAfter(database.url, killedAt), { timeout: 15_000 })
      .toBeGreaterThan(1)

    // Every execution ends, and ends SUCCESS.
    const all = [...first, ...before, ...after]
    const ended = async () => {
      const states = await executionStates(database.url, all)
      return states.filter((state) => ['SUCCESS', 'FAILED', 'KILLED'].includes(state)).length
    }
    await expect.poll(ended, { timeout: 120_000, interval: 500 }).toBe(all.length)
    expect(await failures(database.url, all)).toEqual([])
    // Subflows ran too: one child per main execution.
    expect(await countOf(database.url, 'child')).toBe(FIRST + BEFORE_KILLS + AFTER_KILLS)

    // No schedule date started twice, and the schedule's executions end SUCCESS too.
    await call(`/flows/${NAMESPACE}/tick`, {
      method: 'PUT',
      headers: { 'content-type': 'application/x-yaml' },
      body: TICK.replace('cron: "* * * * * *"', 'cron: "0 0 1 1 *"'),
    })
    const ticks = await tickExecutions(database.url)
    expect(ticks.length).toBeGreaterThan(3)
    const dates = ticks.map((tick) => tick.date)
    expect(new Set(dates).size).toBe(dates.length)
    await expect
      .poll(
        async () =>
          (await tickExecutions(database.url)).filter(
            (tick) => !['SUCCESS', 'FAILED', 'KILLED'].includes(tick.state),
          ).length,
        { timeout: 30_000, interval: 500 },
      )
      .toBe(0)
    expect(
      await failures(
        database.url,
        ticks.map((tick) => tick.id),
      ),
    ).toEqual([])
  }, 300_000)
})

async function query<T>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query(text, values)).rows as T[]
  } finally {
    await client.end()
  }
}

async function executionStates(url: string, ids: string[]): Promise<string[]> {
  const rows = await query<{ state: string }>(
    url,
    'SELECT state FROM executions WHERE id = ANY($1)',
    [ids],
  )
  return rows.map((row) => row.state)
}

/** What went wrong in the executions that did not succeed: the execution's and tasks' errors. */
async function failures(url: string, ids: string[]): Promise<string[]> {
  const rows = await query<{ id: string; state: string; value: string }>(
    url,
    "SELECT id, state, value FROM executions WHERE id = ANY($1) AND state <> 'SUCCESS'",
    [ids],
  )
  const described: string[] = []
  for (const row of rows) {
    const runs = await query<{ value: string }>(
      url,
      "SELECT value FROM task_runs WHERE execution_id = $1 AND state <> 'SUCCESS'",
      [row.id],
    )
    const tasks = runs.map((run) => {
      const parsed = JSON.parse(run.value) as {
        taskId: string
        state: { current: string }
        error?: string
        attempts?: Array<{ error?: string }>
      }
      const attempts = (parsed.attempts ?? []).map((attempt) => attempt.error ?? 'ok').join(' | ')
      return `${parsed.taskId} ${parsed.state.current}: ${parsed.error ?? ''} [${attempts}]`
    })
    const error = (JSON.parse(row.value) as { error?: string }).error
    described.push(`${row.id} ${row.state}${error ? ` (${error})` : ''}: ${tasks.join('; ')}`)
  }
  return described
}

async function countOf(url: string, flowId: string): Promise<number> {
  const [row] = await query<{ count: string }>(
    url,
    'SELECT count(*) AS count FROM executions WHERE flow_id = $1',
    [flowId],
  )
  return Number(row?.count ?? 0)
}

async function runningTaskRuns(url: string): Promise<number> {
  const [row] = await query<{ count: string }>(
    url,
    "SELECT count(*) AS count FROM task_queue WHERE state = 'RUNNING'",
  )
  return Number(row?.count ?? 0)
}

async function tickExecutions(
  url: string,
): Promise<Array<{ id: string; date: string; state: string }>> {
  const rows = await query<{ id: string; value: string; state: string }>(
    url,
    "SELECT id, value, state FROM executions WHERE flow_id = 'tick'",
  )
  return rows.map((row) => ({
    id: row.id,
    date: String(
      (JSON.parse(row.value) as { trigger?: { variables?: { date?: string } } }).trigger?.variables
        ?.date,
    ),
    state: row.state,
  }))
}

async function tickDatesAfter(url: string, since: number): Promise<number> {
  return (await tickExecutions(url)).filter((tick) => Date.parse(tick.date) > since).length
}
