import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTestDatabase } from '../../test/fixtures/postgres.js'
import { type ExecutionSummary, newState, type TaskRun } from '../executor/execution-model.js'
import { createInternalStorage } from './internal-storage.js'
import { createPostgresStore } from './postgres-store.js'
import { createSqliteStore } from './sqlite-store.js'
import type { Store } from './store.js'

// The same suite runs against every store: one code path, so one contract.
interface StoreKind {
  name: string
  /** Makes an empty store; `reopen` opens the same data again. */
  create(dir: string): Promise<{ open: () => Promise<Store>; cleanup: () => Promise<void> }>
}
const STORE_KINDS: StoreKind[] = [
  {
    name: 'SQLite',
    async create(dir) {
      return {
        open: () => createSqliteStore({ file: join(dir, 'db', 'kite.db') }),
        cleanup: async () => undefined,
      }
    },
  },
  {
    name: 'postgres',
    async create() {
      const database = await createTestDatabase()
      return { open: () => createPostgresStore({ url: database.url }), cleanup: database.drop }
    },
  },
]

let dir: string
let store: Store

describe.each(STORE_KINDS)('the $name store', (kind) => {
  let reopen: () => Promise<Store>
  let cleanup: () => Promise<void>
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kite-store-'))
    const made = await kind.create(dir)
    reopen = made.open
    cleanup = made.cleanup
    store = await reopen()
  })
  afterEach(async () => {
    await store.close()
    await cleanup()
    await rm(dir, { recursive: true, force: true })
  })

  const execution = (id: string, overrides: Partial<ExecutionSummary> = {}): ExecutionSummary => ({
    id,
    namespace: 'company.team',
    flowId: 'hello',
    flowRevision: 1,
    state: newState('CREATED', new Date().toISOString()),
    labels: {},
    inputs: {},
    plugins: [],
    ...overrides,
  })

  /** A task run `r1` of execution `e1`, running. */
  const runningTaskRun = (overrides: Partial<TaskRun> = {}): TaskRun => ({
    id: 'r1',
    executionId: 'e1',
    namespace: 'company.team',
    flowId: 'hello',
    taskId: 'a',
    type: 'x.y.Z',
    state: newState('RUNNING', new Date().toISOString()),
    attempts: [],
    sequence: 0,
    ...overrides,
  })

  describe('flows, executions, KV', () => {
    it('keeps flow revisions, skips unchanged saves, and records deletions', async () => {
      expect(await store.saveFlow({ namespace: 'a', id: 'f', source: 'v1' })).toEqual({
        revision: 1,
        changed: true,
        created: true,
      })
      expect(await store.saveFlow({ namespace: 'a', id: 'f', source: 'v1' })).toEqual({
        revision: 1,
        changed: false,
        created: false,
      })
      expect(await store.saveFlow({ namespace: 'a', id: 'f', source: 'v2' })).toMatchObject({
        revision: 2,
        created: false,
      })
      await store.saveFlow({ namespace: 'a.b', id: 'g', source: 'g1' })
      await store.saveFlow({ namespace: 'ab', id: 'h', source: 'h1' })
      expect((await store.getFlow('a', 'f'))?.source).toBe('v2')
      expect((await store.getFlow('a', 'f', 1))?.source).toBe('v1')
      expect((await store.listFlows('a')).map((flow) => `${flow.namespace}/${flow.id}`)).toEqual([
        'a/f',
        'a.b/g',
      ])
      expect(await store.deleteFlow('a', 'f')).toBe(true)
      expect(await store.deleteFlow('a', 'f')).toBe(false)
      expect(await store.getFlow('a', 'f')).toBeUndefined()
      expect(
        (await store.listFlowRevisions('a', 'f')).map((flow) => [flow.revision, flow.deleted]),
      ).toEqual([
        [1, false],
        [2, false],
        [3, true],
      ])
      expect(await store.saveFlow({ namespace: 'a', id: 'f', source: 'v2' })).toEqual({
        revision: 4,
        changed: true,
        created: true,
      })
    })

    it('commits executions, task runs and logs together, and reads them back', async () => {
      const run = runningTaskRun()
      await store.commit({
        execution: execution('e1'),
        taskRuns: [run],
        logs: [
          {
            executionId: 'e1',
            taskRunId: 'r1',
            taskId: 'a',
            level: 'debug',
            message: 'low',
            timestamp: 't1',
          },
          {
            executionId: 'e1',
            taskRunId: 'r1',
            taskId: 'a',
            level: 'error',
            message: 'high',
            timestamp: 't2',
          },
        ],
      })
      await store.commit({ taskRuns: [{ ...run, outputs: { x: 1 } }] })
      const stored = await store.getExecution('e1')
      expect(stored?.taskRunList).toEqual([{ ...run, outputs: { x: 1 } }])
      expect((await store.listLogs('e1')).map((line) => line.message)).toEqual(['low', 'high'])
      expect(
        (await store.listLogs('e1', { minLevel: 'warn' })).map((line) => line.message),
      ).toEqual(['high'])
      const first = (await store.listLogs('e1'))[0]!
      expect(
        (await store.listLogs('e1', { afterId: first.id })).map((line) => line.message),
      ).toEqual(['high'])
      expect(await store.listUnfinishedExecutions()).toHaveLength(1)
    })

    it('writes many task runs in one commit, a run listed twice as listed last', async () => {
      const run = (index: number, label = 'first'): TaskRun =>
        runningTaskRun({
          id: `r${index}`,
          taskId: `t${index}`,
          sequence: index,
          outputs: { label },
        })
      // More runs than one upsert statement writes, and r3 twice (PostgreSQL refuses a statement
      // that writes one row twice).
      const runs = Array.from({ length: 70 }, (_, index) => run(index))
      await store.commit({ execution: execution('e1'), taskRuns: [...runs, run(3, 'second')] })
      const stored = await store.getExecution('e1')
      expect(stored?.taskRunList.map((each) => each.id)).toEqual(runs.map((each) => each.id))
      expect(stored?.taskRunList[3]?.outputs).toEqual({ label: 'second' })
      expect(stored?.taskRunList[4]?.outputs).toEqual({ label: 'first' })
      // Alone too (one statement, no transaction around it), r1 twice in that one statement.
      await store.commit({ taskRuns: [run(1, 'dropped'), run(2, 'third'), run(1, 'third')] })
      const again = await store.getExecution('e1')
      expect(again?.taskRunList.slice(0, 4).map((each) => each.outputs)).toEqual([
        { label: 'first' },
        { label: 'third' },
        { label: 'third' },
        { label: 'second' },
      ])
    })

    it('refuses a commit under a lease another executor holds, and writes none of it', async () => {
      const run = runningTaskRun()
      await store.commit({ execution: execution('e1'), executorId: 'x1' })
      const lostLease = { executionId: 'e1', executorId: 'x2' }
      await expect(store.commit({ lease: lostLease, taskRuns: [run] })).rejects.toThrow(
        'execution e1 is no longer held by executor x2',
      )
      expect((await store.getExecution('e1'))?.taskRunList).toEqual([])
      await store.commit({ lease: { executionId: 'e1', executorId: 'x1' }, taskRuns: [run] })
      expect((await store.getExecution('e1'))?.taskRunList).toEqual([run])
      // A second start of one id: refused alone (one statement, no transaction around it), and
      // with a task run nothing is written.
      await expect(store.commit({ execution: execution('e1'), create: true })).rejects.toThrow(
        'execution e1 exists already',
      )
      await expect(
        store.commit({
          execution: execution('e1'),
          create: true,
          taskRuns: [{ ...run, id: 'r2', sequence: 1 }],
        }),
      ).rejects.toThrow('exists already')
      expect((await store.getExecution('e1'))?.taskRunList.map((each) => each.id)).toEqual(['r1'])
    })

    it('lists executions newest first, filtered and paged', async () => {
      for (let index = 0; index < 5; index++) {
        await store.commit({
          execution: execution(`e${index}`, {
            flowId: index % 2 === 0 ? 'even' : 'odd',
            state: {
              ...newState(
                index === 4 ? 'FAILED' : 'SUCCESS',
                new Date(Date.now() + index).toISOString(),
              ),
            },
          }),
        })
      }
      const page = await store.listExecutions({}, 1, 2)
      expect(page.total).toBe(5)
      expect(page.results.map((item) => item.id)).toEqual(['e4', 'e3'])
      expect((await store.listExecutions({}, 3, 2)).results.map((item) => item.id)).toEqual(['e0'])
      expect(
        (await store.listExecutions({ flowId: 'even' }, 1, 10)).results.map((item) => item.id),
      ).toEqual(['e4', 'e2', 'e0'])
      expect((await store.listExecutions({ states: ['FAILED'] }, 1, 10)).total).toBe(1)
      expect((await store.listExecutions({ namespace: 'company' }, 1, 10)).total).toBe(5)
      expect((await store.listExecutions({ namespace: 'comp' }, 1, 10)).total).toBe(0)
    })

    it('filters executions by labels (every one given, exact values, odd keys)', async () => {
      const labelled: Array<[string, Record<string, string>]> = [
        ['l1', { env: 'prod', team: 'a' }],
        ['l2', { env: 'prod', team: 'b' }],
        ['l3', { env: 'dev', "it's": '%_"x"' }],
        ['l4', {}],
      ]
      for (const [id, labels] of labelled) {
        await store.commit({ execution: execution(id, { labels }) })
      }
      const ids = async (labels: Record<string, string>) =>
        (await store.listExecutions({ labels }, 1, 10)).results.map((item) => item.id).sort()
      expect(await ids({ env: 'prod' })).toEqual(['l1', 'l2'])
      expect(await ids({ env: 'prod', team: 'b' })).toEqual(['l2'])
      expect(await ids({ env: 'pro' })).toEqual([])
      expect(await ids({ env: 'prod', team: 'c' })).toEqual([])
      expect(await ids({ "it's": '%_"x"' })).toEqual(['l3'])
      expect(await ids({ "it's": '%' })).toEqual([])
      expect((await store.listExecutions({ labels: { env: 'prod' } }, 1, 1)).total).toBe(2)
    })

    it('filters executions by start date (from inclusive, before exclusive)', async () => {
      const starts = [
        '2026-12-01T10:00:00.000Z',
        '2026-12-02T10:00:00.000Z',
        '2026-12-03T10:00:00.000Z',
      ]
      for (const [index, start] of starts.entries()) {
        await store.commit({
          execution: execution(`d${index}`, { state: newState('SUCCESS', start) }),
        })
      }
      const ids = async (filter: { startedFrom?: string; startedBefore?: string }) =>
        (await store.listExecutions(filter, 1, 10)).results.map((item) => item.id).sort()
      expect(await ids({ startedFrom: starts[1] })).toEqual(['d1', 'd2'])
      expect(await ids({ startedBefore: starts[1] })).toEqual(['d0'])
      expect(await ids({ startedFrom: starts[0], startedBefore: starts[2] })).toEqual(['d0', 'd1'])
      expect(await ids({ startedFrom: '2027-01-01T00:00:00.000Z' })).toEqual([])
    })

    it('keeps KV per namespace with TTL, and trigger state', async () => {
      await store.kvSet('n1', 'a', { deep: [1] })
      await store.kvSet('n1', 'a_b', 2)
      await store.kvSet('n1', 'ab', 3)
      await store.kvSet('n1', 'gone', 4, Date.now() - 1)
      await store.kvSet('n2', 'a', 'other')
      expect(await store.kvGet('n1', 'a')).toEqual({ deep: [1] })
      expect(store.kvGetNow('n1', 'a')).toEqual({ deep: [1] })
      expect(await store.kvGet('n1', 'gone')).toBeUndefined()
      expect(await store.kvKeys('n1')).toEqual(['a', 'a_b', 'ab'])
      expect(await store.kvKeys('n1', 'a_')).toEqual(['a_b'])
      expect(await store.kvDelete('n1', 'a')).toBe(true)
      expect(await store.kvDelete('n1', 'gone')).toBe(false)
      expect(await store.kvGet('n2', 'a')).toBe('other')
      await store.triggerStateSet('n', 'f', 't', 'cursor', { at: 5 })
      expect(await store.triggerStateGet('n', 'f', 't', 'cursor')).toEqual({ at: 5 })
      expect(await store.triggerStateGet('n', 'f', 'other', 'cursor')).toBeUndefined()
    })

    it('persists across reopening', async () => {
      await store.saveFlow({ namespace: 'a', id: 'f', source: 'v1' })
      await store.close()
      store = await reopen()
      expect((await store.getFlow('a', 'f'))?.revision).toBe(1)
    })
  })

  describe('the task queue', () => {
    const entry = (taskRunId: string, attempt = 1) => ({
      id: `${taskRunId}:${attempt}`,
      executionId: 'e1',
      taskRunId,
      attempt,
      payload: JSON.stringify({ taskRunId }),
    })

    it('hands each queued entry to one claimer, oldest first, up to the limit', async () => {
      await store.commit({ enqueue: ['a', 'b', 'c'].map((id) => entry(id)) })
      expect(await store.countQueuedTaskRuns()).toBe(3)
      expect(await store.claimTaskRuns('n1', 0)).toEqual([])
      expect(await store.claimTaskRuns('n1', -5)).toEqual([])
      const [first, second] = await Promise.all([
        store.claimTaskRuns('n1', 2),
        store.claimTaskRuns('n2', 2),
      ])
      // The two claims run side by side: SKIP LOCKED may interleave them (one takes a and c, the
      // other b), so what holds is that each entry goes to exactly one claimer, each claim keeps
      // its limit and lists its entries oldest first.
      const ids = (claimed: Array<{ id: string }>) => claimed.map((one) => one.id)
      for (const claimed of [first!, second!]) {
        expect(claimed.length).toBeLessThanOrEqual(2)
        expect(ids(claimed)).toEqual([...ids(claimed)].sort())
      }
      expect([...ids(first!), ...ids(second!)].sort()).toEqual(['a:1', 'b:1', 'c:1'])
      expect([...first!, ...second!].find((one) => one.id === 'a:1')?.payload).toBe(
        '{"taskRunId":"a"}',
      )
      expect(await store.claimTaskRuns('n3', 10)).toEqual([])
      expect(await store.countQueuedTaskRuns()).toBe(0)
      const nodeOf = (id: string) => (ids(first!).includes(id) ? 'n1' : 'n2')
      const entries = await store.getQueueEntries(['a:1', 'c:1', 'missing:1'])
      expect(entries.map((found) => [found.id, found.state, found.nodeId])).toEqual([
        ['a:1', 'RUNNING', nodeOf('a:1')],
        ['c:1', 'RUNNING', nodeOf('c:1')],
      ])
      expect(await store.getQueueEntries([])).toEqual([])
    })

    it('records results with their log lines, and removes entries with the executor commit', async () => {
      await store.commit({ execution: execution('e1'), enqueue: [entry('a')] })
      await store.claimTaskRuns('n1', 1)
      await store.completeTaskRuns(
        [{ id: 'a:1', result: '{"ok":true,"outputs":{}}' }],
        [
          {
            executionId: 'e1',
            taskRunId: 'a',
            taskId: 't',
            attemptNumber: 1,
            level: 'info',
            message: 'from the worker',
            timestamp: new Date().toISOString(),
          },
        ],
      )
      const [done] = await store.getQueueEntries(['a:1'])
      expect(done).toMatchObject({
        state: 'DONE',
        nodeId: 'n1',
        result: '{"ok":true,"outputs":{}}',
      })
      expect((await store.listLogs('e1')).map((line) => line.message)).toEqual(['from the worker'])
      await store.commit({ dequeue: ['a:1'] })
      expect(await store.getQueueEntries(['a:1'])).toEqual([])
    })

    it('withdraws only entries no worker claimed, and refuses a second entry with the same id', async () => {
      await store.commit({ enqueue: [entry('a'), entry('b')] })
      await store.claimTaskRuns('n1', 1)
      expect(await store.cancelQueuedTaskRun('a:1')).toBe(false)
      expect(await store.cancelQueuedTaskRun('b:1')).toBe(true)
      expect(await store.cancelQueuedTaskRun('b:1')).toBe(false)
      await expect(
        store.commit({ execution: execution('e9'), enqueue: [entry('a')] }),
      ).rejects.toThrow(/UNIQUE|unique constraint/)
      // The failed commit wrote nothing.
      expect(await store.getExecution('e9')).toBeUndefined()
    })

    it('withdraws a claimed entry not done (a kill), and nothing else', async () => {
      await store.commit({ enqueue: [entry('a'), entry('b'), entry('c')] })
      expect((await store.claimTaskRuns('n1', 2)).map(({ id }) => id)).toEqual(['a:1', 'b:1'])
      await store.completeTaskRuns([{ id: 'b:1', result: '{"ok":true,"outputs":{}}' }], [])
      // c waits unclaimed, b is done: neither is a worker's to stop.
      expect(await store.withdrawTaskRun('c:1')).toBe(false)
      expect(await store.withdrawTaskRun('b:1')).toBe(false)
      expect(await store.withdrawTaskRun('a:1')).toBe(true)
      expect(await store.withdrawTaskRun('a:1')).toBe(false)
      expect(await store.withdrawTaskRun('gone:1')).toBe(false)
      const left = await store.getQueueEntries(['a:1', 'b:1', 'c:1'])
      expect(left.map(({ id, state }) => `${id} ${state}`).sort()).toEqual([
        'b:1 DONE',
        'c:1 QUEUED',
      ])
    })

    it('commits changes asked for together in one batch, and fails only the bad one', async () => {
      await store.commit({ enqueue: [entry('taken')] })
      // Asked for in one turn: they share a transaction, and the duplicate entry fails it.
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, index) =>
          store.commit({
            execution: execution(`g${index}`),
            ...(index === 7 ? { enqueue: [entry('taken')] } : {}),
          }),
        ),
      )
      expect(results.map((result) => result.status)).toEqual(
        Array.from({ length: 20 }, (_, index) => (index === 7 ? 'rejected' : 'fulfilled')),
      )
      expect(String((results[7] as PromiseRejectedResult).reason)).toMatch(
        /UNIQUE|unique constraint/,
      )
      for (let index = 0; index < 20; index++) {
        const stored = await store.getExecution(`g${index}`)
        if (index === 7) expect(stored).toBeUndefined()
        else expect(stored?.id).toBe(`g${index}`)
      }
      // Commits still asked for when the store closes are written first.
      const last = store.commit({ execution: execution('last') })
      await store.close()
      await last
      store = await reopen()
      expect((await store.getExecution('last'))?.id).toBe('last')
    })

    it('records nodes and their heartbeats', async () => {
      const node = {
        id: 'n1',
        roles: ['worker', 'executor'],
        host: 'h',
        pid: 42,
        slots: 8,
        slotsInUse: 0,
        startedAt: '2026-01-01T00:00:00.000Z',
        heartbeatAt: '2026-01-01T00:00:00.000Z',
        plugins: ['@acme/kite-plugin-a@1.0.0', '@acme/kite-plugin-a@2.0.0'],
      }
      await store.saveNode(node)
      await store.saveNode({ ...node, slotsInUse: 3, heartbeatAt: '2026-01-01T00:00:05.000Z' })
      expect(await store.listNodes()).toEqual([
        { ...node, slotsInUse: 3, heartbeatAt: '2026-01-01T00:00:05.000Z' },
      ])
      await store.saveNode({ ...node, id: 'n2', heartbeatAt: '2026-01-01T00:00:10.000Z' })
      await store.removeNodesSilentSince('2026-01-01T00:00:06.000Z')
      expect((await store.listNodes()).map((found) => found.id)).toEqual(['n2'])
      await store.removeNode('n2')
      expect(await store.listNodes()).toEqual([])
    })
  })

  describe('roles: leases and the cluster plugin set', () => {
    const created = (id: string, minute: number) =>
      execution(id, { state: newState('CREATED', `2026-01-01T00:0${minute}:00.000Z`) })

    it('leases each unfinished execution to one executor, and hands a dead one’s over', async () => {
      await store.commit({ execution: created('e1', 1) })
      await store.commit({ execution: created('e2', 2), executorId: 'x1' })
      await store.commit({ execution: created('e3', 3) })
      await store.commit({
        execution: { ...created('e4', 4), state: newState('SUCCESS', '2026-01-01T00:04:00.000Z') },
      })
      // x1 is alive: x2 takes the unheld ones only, oldest first, up to the limit.
      expect(await store.claimExecutions('x2', ['x1', 'x2'], 1)).toEqual(['e1'])
      expect(await store.claimExecutions('x2', ['x1', 'x2'], 10)).toEqual(['e3'])
      expect(await store.claimExecutions('x3', ['x1', 'x2', 'x3'], 10)).toEqual([])
      expect(await store.countExecutionsOf('x2')).toBe(2)
      // x1 died: x3 takes its execution; x2 is dead too, so x3 takes them all.
      expect((await store.claimExecutions('x3', ['x3'], 10)).sort()).toEqual(['e1', 'e2', 'e3'])
      expect(await store.countExecutionsOf('x3')).toBe(3)
      expect(await store.countExecutionsOf('x1')).toBe(0)
      // A second claimer at the same time: each execution goes to one of them.
      await store.commit({ execution: created('e5', 5) })
      await store.commit({ execution: created('e6', 6) })
      const [a, b] = await Promise.all([
        store.claimExecutions('y1', ['y1', 'y2'], 10),
        store.claimExecutions('y2', ['y1', 'y2'], 10),
      ])
      expect(
        [...(a ?? []), ...(b ?? [])].filter((id) => id === 'e5' || id === 'e6').sort(),
      ).toEqual(['e5', 'e6'])
      expect(a?.filter((id) => b?.includes(id))).toEqual([])
    })

    it('gives a named lease to one holder until it expires or is released', async () => {
      expect(await store.acquireLease('scheduler', 'n1', 60_000)).toBe(true)
      expect(await store.acquireLease('scheduler', 'n2', 60_000)).toBe(false)
      expect(await store.acquireLease('scheduler', 'n1', 60_000)).toBe(true)
      expect((await store.getLease('scheduler'))?.holder).toBe('n1')
      await store.releaseLease('scheduler', 'n2')
      expect((await store.getLease('scheduler'))?.holder).toBe('n1')
      await store.releaseLease('scheduler', 'n1')
      expect(await store.getLease('scheduler')).toBeUndefined()
      expect(await store.acquireLease('scheduler', 'n2', 1)).toBe(true)
      await new Promise((resolve) => setTimeout(resolve, 5))
      expect(await store.acquireLease('scheduler', 'n1', 60_000)).toBe(true)
      expect(await store.acquireLease('scheduler', 'n2', 60_000)).toBe(false)
    })

    it('records the cluster plugin set, uninstalls included', async () => {
      await store.setClusterPlugin('@acme/kite-plugin-a', '1.0.0', true)
      await store.setClusterPlugin('@acme/kite-plugin-a', '2.0.0', true)
      await store.setClusterPlugin('@acme/kite-plugin-a', '1.0.0', false)
      expect(
        (await store.listClusterPlugins()).map(({ name, version, installed }) => ({
          name,
          version,
          installed,
        })),
      ).toEqual([
        { name: '@acme/kite-plugin-a', version: '1.0.0', installed: false },
        { name: '@acme/kite-plugin-a', version: '2.0.0', installed: true },
      ])
    })
  })
})

describe('internal storage', () => {
  it('stores files under kite:/// URIs and refuses URIs outside it', async () => {
    const storage = createInternalStorage(
      join(await mkdtemp(join(tmpdir(), 'kite-storage-')), 'storage'),
    )
    const uri = await storage.put('ns/flow/executions/e1/task', 'data.txt', 'hello')
    expect(uri).toMatch(/^kite:\/\/\/ns\/flow\/executions\/e1\/task\/[0-9a-f]{8}-data.txt$/)
    expect(new TextDecoder().decode(await storage.get(uri))).toBe('hello')
    await expect(storage.get('kite:///../../etc/passwd')).rejects.toThrow(
      'points outside internal storage',
    )
    await expect(storage.get('file:///etc/passwd')).rejects.toThrow('is not a kite:/// URI')
    await expect(storage.get('kite:///ns/nothing')).rejects.toThrow(
      'kite:///ns/nothing does not exist in internal storage',
    )
  })
})
