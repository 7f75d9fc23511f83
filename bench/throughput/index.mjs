#!/usr/bin/env node
// Throughput benchmark (`node bench/run.mjs throughput`, after a build), on the real path: a
// plugin published to a real registry on loopback with the npm CLI, installed by the runtime
// from there, every task run by the plugin pool. The server runs in a child process
// (the load generator does not share its event loop), once on SQLite and once on PostgreSQL
// (a fresh database on $KITE_BENCH_POSTGRES, dropped at the end; skipped when unreachable).
// Prints, with the target next to each figure (../shared/PERFORMANCE.md):
//   1. executions/s of webhook → 2 trivial tasks, answered when the execution ends
//      (`?wait=true`), at 1, 10 and 50 clients, with p50 and p99;
//   2. the same started asynchronously (the webhook answers at once), 50 clients: executions
//      accepted, and ended per second until the last one ends;
//   3. the warm cost of one more trivial task: (42 tasks − 2 tasks) / 40, one client.
// Each figure follows 1 s of unmeasured warm-up at its client count. Plugins run in sandbox
// processes (the default); then, on SQLite, 1 and 3 again with plugins in worker threads of the
// runtime process (`plugins.isolation: threads`, the configuration issue 14 names).
import { fork } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createServer } from '@kite/runtime'
import {
  NOOP_PLUGIN,
  NOOP_SOURCE,
  post,
  postgresDatabase,
  quantile,
  runClients,
  startNoopServer,
  startRegistry,
} from '../shared.mjs'

const SECONDS = Number(process.env.KITE_BENCH_SECONDS ?? 5)
const WARM_UP_MS = 1000
// KITE_BENCH_CLIENTS=1,10 measures only these client counts (default 1, 10, 50).
const CLIENTS = (process.env.KITE_BENCH_CLIENTS ?? '1,10,50').split(',').map(Number)

const ms = (value) => `${value.toFixed(value < 10 ? 2 : 0)} ms`

if (process.argv[2] === 'server') {
  // Child: the runtime with its API, plugins from the registry; answers the parent's questions.
  const [, , , dataDir, registry, store] = process.argv
  const server = await startNoopServer(createServer, { dataDir, registry, store })
  process.on('message', async ({ waitFor }) => {
    // Async runs: the time at which the last of these executions ended, and how many succeeded.
    const ended = await Promise.all(waitFor.map((id) => server.runtime.engine.waitFor(id)))
    const succeeded = ended.filter((execution) => execution.state.current === 'SUCCESS').length
    process.send?.({ endedAt: Date.now(), succeeded })
  })
  process.send?.({ url: server.url })
  process.on('disconnect', () => server.close().then(() => process.exit(0)))
} else {
  await main()
}

async function main() {
  const work = await mkdtemp(join(tmpdir(), 'kite-bench-throughput-'))
  const registry = await startRegistry(work)
  try {
    console.log(
      `Kite throughput benchmark — ${availableParallelism()} cores, Node ${process.version}; ` +
        `${NOOP_PLUGIN} from a registry, run in sandbox processes (the default isolation) ` +
        `unless said otherwise; ${SECONDS} s per figure\n`,
    )
    await registry.publish(NOOP_PLUGIN, '1.0.0', NOOP_SOURCE)
    await measure('SQLite', join(work, 'sqlite'), registry.url)
    if (!process.env.KITE_BENCH_ISOLATION) {
      // The issue's own configuration: plugins in worker threads of the runtime process.
      await measure(
        'SQLite, plugins in worker threads (plugins.isolation: threads)',
        join(work, 'threads'),
        registry.url,
        undefined,
        {
          isolation: 'threads',
          brief: true,
        },
      )
    }
    const database = await postgresDatabase()
    if (database) {
      try {
        await measure('PostgreSQL', join(work, 'postgres'), registry.url, database.url)
      } finally {
        await database.drop()
      }
    }
  } finally {
    await registry.close()
    await rm(work, { recursive: true, force: true })
  }
}

/** The figures of one server; `brief`: one client and the cost per task only. */
async function measure(label, dataDir, registry, store, { isolation, brief = false } = {}) {
  const child = fork(
    fileURLToPath(import.meta.url),
    ['server', dataDir, registry, ...(store ? [store] : [])],
    {
      stdio: 'inherit',
      env: isolation ? { ...process.env, KITE_BENCH_ISOLATION: isolation } : process.env,
      // KITE_BENCH_PROFILE=DIR writes the server's CPU profile there (`node --cpu-prof`).
      execArgv: process.env.KITE_BENCH_PROFILE
        ? ['--cpu-prof', '--cpu-prof-dir', process.env.KITE_BENCH_PROFILE]
        : [],
    },
  )
  try {
    const { url } = await new Promise((resolve, reject) => {
      child.once('message', resolve)
      child.once('exit', (code) => reject(new Error(`the server exited (${code})`)))
    })
    const hook = (count, wait) =>
      `${url}/api/v1/executions/webhook/bench/flow${count}/go${count}${wait ? '?wait=true' : ''}`
    console.log(`${label}: webhook → 2 trivial tasks, persisted, answered at the end (?wait=true)`)
    console.log('  clients   exec/s    p50        p99        (target ≥ 500 exec/s at every count)')
    for (const clients of brief ? [1] : CLIENTS) {
      const result = await load(hook(2, true), clients, SECONDS * 1000, true)
      console.log(
        `  ${String(clients).padEnd(10)}${result.rate.toFixed(0).padEnd(10)}${ms(result.p50).padEnd(11)}${ms(result.p99)}`,
      )
    }
    if (!brief) {
      // Started asynchronously: the webhook answers CREATED; executions/s counts ends.
      const begun = performance.now()
      const started = Date.now()
      const accepted = await load(hook(2, false), 50, SECONDS * 1000, false)
      const acceptedIn = performance.now() - begun
      child.send({ waitFor: accepted.ids })
      const { endedAt, succeeded } = await new Promise((resolve) => child.once('message', resolve))
      const seconds = (endedAt - started) / 1000
      console.log(
        `  async webhook, 50 clients: ${accepted.ids.length} accepted in ${ms(acceptedIn)} ` +
          `(${accepted.rate.toFixed(0)}/s, p99 ${ms(accepted.p99)}), all ended after ${seconds.toFixed(1)} s: ` +
          `${(succeeded / seconds).toFixed(0)} exec/s ended (${succeeded} SUCCESS; target ≥ 500)`,
      )
    }
    // One more task, warm: 42 tasks against 2, one client, through the same API.
    const two = await load(hook(2, true), 1, SECONDS * 500, true)
    const many = await load(hook(42, true), 1, SECONDS * 500, true)
    console.log(
      `  one more trivial task, warm (42-task vs 2-task flow, p50): ${ms((many.p50 - two.p50) / 40)} ` +
        `per task, every task's state committed (target ≤ 0.3 ms)\n`,
    )
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.disconnect()
      await exited
    }
  }
}

/** `clients` loops posting to `target` for `durationMs`; rate, p50, p99 and the execution ids. */
async function load(target, clients, durationMs, waitForEnd) {
  const call = async () => {
    const { ok, body } = await post(target)
    const expected = waitForEnd ? 'SUCCESS' : 'CREATED'
    if (!ok || body.state?.current !== expected) {
      throw new Error(`expected ${expected}, got ${JSON.stringify(body).slice(0, 300)}`)
    }
    return body.id
  }
  // Warm-up: 1 s at the same client count, unmeasured. The JIT optimizes the server's hot paths
  // over its first thousands of requests (20 requests left the 1-client figure 30–40 % below
  // the steady state); a server's throughput is what it does once warm.
  if (waitForEnd) await runClients(clients, WARM_UP_MS, call)
  const { rate, latencies, results } = await runClients(clients, durationMs, call)
  return {
    rate,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    ids: results,
  }
}
