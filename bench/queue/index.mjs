#!/usr/bin/env node
// Queue benchmark (`npm run bench queue`, after a build). On the embedded SQLite store, and on
// PostgreSQL (a fresh `kite_bench_<random>` database on $KITE_BENCH_POSTGRES, default
// postgres://postgres@127.0.0.1:5432, dropped at the end; skipped with a note when unreachable),
// it prints:
//   1. queue latency, enqueue → the plugin task starts, with free worker slots (the entry is
//      committed as claimed by the local worker) and with every slot busy (entries wait queued
//      and are claimed in batches as slots free up);
//   2. the time from a restart (the runtime stopped with in-flight task runs) until every
//      in-flight execution runs again (lost attempts resubmitted).
// Plugins here are in-process definitions: this measures the queue, not plugin isolation.
import { mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRuntime, definePluginVersion } from '@kite/runtime'
import { definePlugin, defineTask, z } from '@kite/sdk'
import { postgresDatabase, quantile } from '../shared.mjs'

const stamp = defineTask({
  name: 'Stamp',
  properties: z.object({ ms: z.number().int().min(0).default(0) }),
  outputs: z.object({ startedAt: z.number() }),
  async run(props, ctx) {
    const startedAt = Date.now()
    if (props.ms > 0) {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, props.ms)
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
    return { startedAt }
  },
})
const plugins = () => [
  definePluginVersion({
    name: '@bench/kite-plugin-stamp',
    version: '1.0.0',
    plugin: definePlugin({ group: 'bench.stamp', title: 'Stamp', tasks: [stamp] }),
  }),
]
const flow = (id, ms) => `id: ${id}
namespace: bench.queue
tasks:
  - id: stamp
    type: bench.stamp.Stamp
    ms: ${ms}
`

const stats = (values) => ({ p50: quantile(values, 0.5), p95: quantile(values, 0.95) })

/** Enqueue (the attempt's start, committed with its entry) → the task's own start, in ms. */
const latencyOf = (execution) => {
  const run = execution.taskRunList[0]
  return run.outputs.startedAt - Date.parse(run.attempts.at(-1).state.startDate)
}

async function latency(dataDir, storeUrl) {
  const runtime = await createRuntime({
    dataDir,
    plugins: plugins(),
    env: {},
    config: { worker: { slots: 4 }, ...(storeUrl ? { store: { url: storeUrl } } : {}) },
  })
  try {
    await runtime.engine.saveFlow(flow('quick', 0))
    await runtime.engine.saveFlow(flow('busy', 20))
    const one = async (flowId) => {
      const started = await runtime.engine.start({ namespace: 'bench.queue', flowId })
      return runtime.engine.waitFor(started.id)
    }
    for (let index = 0; index < 50; index++) await one('quick') // warm-up
    const free = []
    for (let index = 0; index < 300; index++) free.push(latencyOf(await one('quick')))
    const busy = (await Promise.all(Array.from({ length: 200 }, () => one('busy')))).map(latencyOf)
    const f = stats(free)
    const b = stats(busy)
    const store = storeUrl ? 'PostgreSQL' : 'SQLite'
    console.log(`queue latency, enqueue → task start (${store}, 4 slots, ms resolution)`)
    console.log(
      `  free slots, one at a time     p50 ${f.p50} ms   p95 ${f.p95} ms   (${free.length}; target p50 ≤ 3 ms on PostgreSQL)`,
    )
    console.log(
      `  200 at once, slots busy       p50 ${b.p50} ms   p95 ${b.p95} ms   (includes waiting for a slot)`,
    )
  } finally {
    await runtime.close()
  }
}

async function restart(dataDir, count) {
  const options = { dataDir, plugins: plugins(), env: {}, config: { worker: { slots: 512 } } }
  const first = await createRuntime(options)
  await first.engine.saveFlow(flow('long', 60_000))
  const ids = []
  for (let index = 0; index < count; index++) {
    ids.push((await first.engine.start({ namespace: 'bench.queue', flowId: 'long' })).id)
  }
  const running = async (runtime, attempts) => {
    for (const id of ids) {
      const run = (await runtime.engine.getExecution(id))?.taskRunList[0]
      if (!run || run.attempts.length < attempts || run.attempts.at(-1).state.current !== 'RUNNING')
        return false
    }
    return true
  }
  while (!(await running(first, 1))) await new Promise((resolve) => setTimeout(resolve, 20))
  await first.close()
  const started = performance.now()
  const second = await createRuntime(options)
  const ready = performance.now() - started
  while (!(await running(second, 2))) await new Promise((resolve) => setTimeout(resolve, 5))
  const resumed = performance.now() - started
  console.log(`restart with ${count} executions in flight (each task's attempt lost)`)
  console.log(
    `  ready ${ready.toFixed(0)} ms   every one resubmitted and running ${resumed.toFixed(0)} ms after the start ` +
      `(target: all within 2 s of ready)`,
  )
  for (const id of ids) await second.engine.kill(id)
  await second.close()
}

const root = await mkdtemp(join(tmpdir(), 'kite-bench-queue-'))
try {
  console.log(`Kite queue benchmark — ${availableParallelism()} cores, Node ${process.version}\n`)
  await latency(join(root, 'latency'))
  console.log('')
  const database = await postgresDatabase()
  if (database) {
    try {
      await latency(join(root, 'latency-postgres'), database.url)
    } finally {
      await database.drop()
    }
    console.log('')
  }
  await restart(join(root, 'restart'), 300)
} finally {
  await rm(root, { recursive: true, force: true })
}
