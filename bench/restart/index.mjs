#!/usr/bin/env node
// Restart benchmark (`node bench/run.mjs restart`, after a build): the time from a restart to a
// ready server (HTTP listening, unfinished executions resumed, scheduler started) on a data dir
// holding 100,000 executions of the last 24 hours, with a Flow trigger (so the scheduler's replay
// of execution ends runs), against the same on an empty data dir. Target: ≤ 1 s, whatever the
// history (issue 14).
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createServer } from '@kite/runtime'

const root = fileURLToPath(new URL('../..', import.meta.url))
const Database = createRequire(join(root, 'packages/runtime/package.json'))('better-sqlite3')
const COUNT = Number(process.env.KITE_BENCH_EXECUTIONS ?? 100_000)
const RESTARTS = 5
const work = await mkdtemp(join(tmpdir(), 'kite-bench-restart-'))
const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]
}
const ms = (value) => `${value.toFixed(0)} ms`
const pluginDirs = [join(root, 'packages/plugins/core')]

const UPSTREAM =
  'id: up\nnamespace: bench\ntasks:\n  - id: hi\n    type: kite.core.log.Log\n    message: hi\n'
const DOWNSTREAM = `id: down
namespace: bench
triggers:
  - id: after
    type: kite.trigger.Flow
    preconditions:
      flows:
        - { namespace: bench, flowId: up }
tasks:
  - id: hi
    type: kite.core.log.Log
    message: "{{ trigger.executionId }}"
`

/** Starts a server on the data dir and stops it; returns the time until it was ready. */
async function restart(dataDir) {
  const started = performance.now()
  const server = await createServer({ dataDir, port: 0, pluginDirs })
  const ready = performance.now() - started
  await server.close()
  return ready
}

/** Writes `count` finished executions (each with one task run) over the last 24 h, at least 2 min old. */
function seed(file, count) {
  const db = new Database(file)
  const now = Date.now()
  const insertExecution = db.prepare(
    'insert into executions (id, namespace, flow_id, flow_revision, state, parent_id, created_at, updated_at, value) values (?, ?, ?, ?, ?, null, ?, ?, ?)',
  )
  const insertTaskRun = db.prepare(
    'insert into task_runs (id, execution_id, sequence, state, value) values (?, ?, 0, ?, ?)',
  )
  db.transaction(() => {
    for (let index = 0; index < count; index++) {
      const id = `seed${String(index).padStart(7, '0')}`
      const start = new Date(now - 86_000_000 + (index * 85_800_000) / count).toISOString()
      const end = new Date(Date.parse(start) + 40).toISOString()
      const state = index % 10 === 0 ? 'FAILED' : 'SUCCESS'
      const execution = {
        id,
        namespace: 'bench',
        flowId: 'up',
        flowRevision: 1,
        state: {
          current: state,
          histories: [
            { state: 'CREATED', date: start },
            { state: 'RUNNING', date: start },
            { state, date: end },
          ],
          startDate: start,
          endDate: end,
          duration: 0.04,
        },
        labels: {},
        inputs: {},
        plugins: [],
      }
      insertExecution.run(id, 'bench', 'up', 1, state, start, end, JSON.stringify(execution))
      insertTaskRun.run(
        `${id}-hi`,
        id,
        state,
        JSON.stringify({
          id: `${id}-hi`,
          executionId: id,
          taskId: 'hi',
          sequence: 0,
          state: { current: state },
        }),
      )
    }
  })()
  db.close()
}

try {
  const empty = join(work, 'empty')
  const full = join(work, 'full')
  // The flows, and the scheduler's alive mark (written when it starts), then the history.
  const first = await createServer({ dataDir: full, port: 0, pluginDirs })
  await first.runtime.engine.saveFlow(UPSTREAM)
  await first.runtime.engine.saveFlow(DOWNSTREAM)
  await first.close()
  const seeding = performance.now()
  seed(join(full, 'kite.db'), COUNT)
  console.log(
    `seeded ${COUNT} executions (+${COUNT} task runs) in ${ms(performance.now() - seeding)}`,
  )

  await restart(empty)
  const emptyTimes = []
  const fullTimes = []
  for (let round = 0; round < RESTARTS; round++) {
    emptyTimes.push(await restart(empty))
    fullTimes.push(await restart(full))
  }
  console.log(
    `restart to ready, ${RESTARTS} restarts each: empty data dir median ${ms(quantile(emptyTimes, 0.5))}, max ${ms(Math.max(...emptyTimes))}; ` +
      `with ${COUNT} executions stored median ${ms(quantile(fullTimes, 0.5))}, max ${ms(Math.max(...fullTimes))} (target ≤ 1 s)`,
  )
  // For comparison: what the replay cost before (pages of 200 by ORDER BY … OFFSET through 24 h),
  // stopped after 10,000 rows: it grows with the square of the count (minutes for 100,000).
  const server = await createServer({ dataDir: full, port: 0, pluginDirs, scheduler: false })
  const before = performance.now()
  let read = 0
  for (let page = 1; ; page++) {
    const { results } = await server.runtime.store.listExecutions(
      { states: ['SUCCESS', 'FAILED', 'WARNING', 'KILLED'] },
      page,
      200,
    )
    read += results.length
    if (results.length < 200 || read >= 10_000) break
  }
  console.log(
    `the former start-up replay (OFFSET pages through 24 h) alone: ${ms(performance.now() - before)} for the first ${read} executions`,
  )
  await server.close()
  console.log(`(${availableParallelism()} cores)`)
} finally {
  await rm(work, { recursive: true, force: true })
}
