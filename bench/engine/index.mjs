#!/usr/bin/env node
// Engine benchmark (`npm run bench`, or `node bench/engine/run.mjs` after a build).
// Prints, on the embedded SQLite store:
//   1. the wall time of one execution of 40 sequential trivial tasks (every task run committed),
//   2. executions per second and latency of 2- and 3-task flows started through the HTTP API
//      (`POST /api/v1/executions/{ns}/{id}?wait=true`) at several concurrencies.
// The server runs in a child process, so the load generator does not share its event loop.
import { fork } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRuntime, createServer, definePluginVersion } from '@kite/runtime'
import { definePlugin, defineTask, z } from '@kite/sdk'
import { noopTasks, post, runClients } from '../shared.mjs'

const trivial = defineTask({
  name: 'Noop',
  properties: z.object({ value: z.string().default('') }),
  outputs: z.object({ value: z.string() }),
  run: (props) => ({ value: props.value }),
})
const plugins = () => [
  definePluginVersion({
    name: '@bench/kite-plugin-noop',
    version: '1.0.0',
    plugin: definePlugin({ group: 'bench.noop', title: 'Noop', tasks: [trivial] }),
  }),
]

const flowOf = (id, count) => [`id: ${id}`, 'namespace: bench', ...noopTasks(count)].join('\n')

function stats(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
  return { median: at(0.5), p95: at(0.95), min: sorted[0], max: sorted.at(-1) }
}
const ms = (value) => `${value.toFixed(1)} ms`

async function main() {
  const root = await mkdtemp(join(tmpdir(), 'kite-bench-'))
  let child
  try {
    console.log(
      `Kite engine benchmark — ${availableParallelism()} cores, Node ${process.version}\n`,
    )
    await sequential(join(root, 'sequential'))
    child = await throughput(join(root, 'api'))
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.disconnect()
      await exited
    }
    await rm(root, { recursive: true, force: true })
  }
}

async function sequential(dataDir) {
  const runtime = await createRuntime({ dataDir, plugins: plugins(), env: {} })
  try {
    await runtime.engine.saveFlow(flowOf('forty', 40))
    const times = []
    for (let round = 0; round < 60; round++) {
      const started = performance.now()
      const created = await runtime.engine.start({ namespace: 'bench', flowId: 'forty' })
      const done = await runtime.engine.waitFor(created.id)
      const elapsed = performance.now() - started
      if (done.state.current !== 'SUCCESS' || done.taskRunList.length !== 40) {
        throw new Error(
          `unexpected execution: ${done.state.current}, ${done.taskRunList.length} task runs`,
        )
      }
      if (round >= 10) times.push(elapsed) // the first rounds warm the JIT and caches
    }
    const { median, p95, min } = stats(times)
    console.log('40 sequential trivial tasks, one execution (start → final state, all committed)')
    console.log(
      `  median ${ms(median)}   p95 ${ms(p95)}   best ${ms(min)}   (${times.length} runs; goal < 200 ms, aim 40 ms)`,
    )
    console.log(`  per task: ${ms(median / 40)}\n`)
  } finally {
    await runtime.close()
  }
}

async function throughput(dataDir) {
  const started = performance.now()
  const child = fork(fileURLToPath(import.meta.url), ['server', dataDir], { stdio: 'inherit' })
  const { url } = await new Promise((resolve, reject) => {
    child.once('message', resolve)
    child.once('exit', (code) => reject(new Error(`the server exited (${code})`)))
  })
  console.log(
    `API server (child process) ready in ${ms(performance.now() - started)} (including Node start)\n`,
  )
  console.log(
    'executions through the API: POST /api/v1/executions/bench/{flow}?wait=true, persisted',
  )
  console.log(
    '  flow     clients   exec/s    p50        p95        (goal ≥ 200/s for 2 tasks on 2 cores)',
  )
  for (const tasks of [2, 3]) {
    for (const clients of [1, 10, 50]) {
      const result = await load(
        `${url}/api/v1/executions/bench/flow${tasks}?wait=true`,
        clients,
        4000,
      )
      console.log(
        `  ${`${tasks} tasks`.padEnd(9)}${String(clients).padEnd(10)}${result.rate.toFixed(0).padEnd(10)}${ms(result.p50).padEnd(11)}${ms(result.p95)}`,
      )
    }
  }
  return child
}

async function load(target, clients, durationMs) {
  const call = async () => {
    const { body } = await post(target)
    if (body.state?.current !== 'SUCCESS')
      throw new Error(`execution ended ${JSON.stringify(body).slice(0, 300)}`)
  }
  for (let index = 0; index < 20; index++) await call() // warm-up
  const { rate, latencies } = await runClients(clients, durationMs, call)
  const { median, p95 } = stats(latencies)
  return { rate, p50: median, p95 }
}

if (process.argv[2] === 'server') {
  // Child: serve the API and report the URL.
  const server = await createServer({
    dataDir: process.argv[3],
    port: 0,
    plugins: plugins(),
    env: {},
  })
  for (const count of [2, 3]) await server.runtime.engine.saveFlow(flowOf(`flow${count}`, count))
  process.send?.({ url: server.url })
  process.on('disconnect', () => server.close().then(() => process.exit(0)))
} else {
  await main()
}
