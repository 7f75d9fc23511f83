#!/usr/bin/env node
// Compares two builds of the runtime on the throughput bench's real path, interleaved
// (`node bench/compare.mjs packages/runtime/dist-before packages/runtime/dist`): both servers
// run side by side on one registry, and the load alternates between them in short bursts (the
// order flipped every round), so a change in the machine's speed hits both alike. These shared
// machines drift by 2× over minutes (one build measured 237–608 executions/s at one client within
// ten minutes), which hides any change of 10 % between runs minutes apart.
// Prints, per build: executions/s of webhook → 2 trivial tasks at one client (median of rounds),
// the cost of one more task ((42 tasks − 2 tasks) / 40, p50), and the second build's ratios to
// the first's, round by round (median). A build directory is a copy of `packages/runtime/dist`
// kept beside it (`dist-<name>`, so its imports resolve); ROUNDS (default 12) and BURST (ms of
// 2-task load per round, default 500) tune it; KITE_BENCH_ISOLATION=threads as in `throughput`;
// KITE_BENCH_STORE=postgres gives each server a fresh database on $KITE_BENCH_POSTGRES instead
// of its SQLite file.
import { fork } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import {
  NOOP_PLUGIN,
  NOOP_SOURCE,
  post,
  postgresDatabase,
  quantile,
  runClients,
  startNoopServer,
  startRegistry,
} from './shared.mjs'

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

if (process.argv[2] === 'server') {
  const [, , , dist, dataDir, registry, store] = process.argv
  const { createServer } = await import(pathToFileURL(join(dist, 'index.js')).href)
  const server = await startNoopServer(createServer, { dataDir, registry, store })
  process.send?.({ url: server.url })
  process.on('disconnect', () => server.close().then(() => process.exit(0)))
} else {
  const dists = process.argv.slice(2).map((dir) => resolve(dir))
  if (dists.length !== 2) {
    console.error('usage: node bench/compare.mjs <runtime dist A> <runtime dist B>')
    process.exit(2)
  }
  const rounds = Number(process.env.ROUNDS ?? 12)
  const burst = Number(process.env.BURST ?? 500)
  const work = await mkdtemp(join(tmpdir(), 'kite-bench-compare-'))
  const registry = await startRegistry(work)
  const servers = []
  const databases = []
  try {
    await registry.publish(NOOP_PLUGIN, '1.0.0', NOOP_SOURCE)
    for (const [index, dist] of dists.entries()) {
      const args = ['server', dist, join(work, `data-${index}`), registry.url]
      if (process.env.KITE_BENCH_STORE === 'postgres') {
        const database = await postgresDatabase()
        if (!database) process.exit(1)
        databases.push(database)
        args.push(database.url)
      }
      const child = fork(fileURLToPath(import.meta.url), args, { stdio: 'inherit' })
      const { url } = await new Promise((done, fail) => {
        child.once('message', done)
        child.once('exit', (code) => fail(new Error(`the server of ${dist} exited (${code})`)))
      })
      servers.push({ name: basename(dist), child, url, rates: [], perTask: [] })
    }
    const call = (url, count) => async () => {
      const { ok, body } = await post(
        `${url}/api/v1/executions/webhook/bench/flow${count}/go${count}?wait=true`,
      )
      if (!ok || body.state?.current !== 'SUCCESS') {
        throw new Error(`expected SUCCESS, got ${JSON.stringify(body).slice(0, 300)}`)
      }
    }
    // Warm-up, unmeasured: the JIT optimizes each server's hot paths over its first requests.
    for (const server of servers) {
      await runClients(1, 1000, call(server.url, 2))
      await runClients(1, 500, call(server.url, 42))
    }
    for (let round = 0; round < rounds; round++) {
      for (const server of round % 2 ? [...servers].reverse() : servers) {
        const two = await runClients(1, burst, call(server.url, 2))
        const many = await runClients(1, burst * 1.4, call(server.url, 42))
        server.rates.push(two.rate)
        server.perTask.push((quantile(many.latencies, 0.5) - quantile(two.latencies, 0.5)) / 40)
      }
    }
    console.log(
      `${rounds} rounds, alternating; webhook → 2 trivial tasks at one client, and one more task`,
    )
    for (const server of servers) {
      console.log(
        `  ${server.name.padEnd(24)} ${median(server.rates).toFixed(0).padStart(5)} exec/s   ` +
          `${median(server.perTask).toFixed(3)} ms per task`,
      )
    }
    const [a, b] = servers
    const ratio = (pick) => median(pick(a).map((value, index) => pick(b)[index] / value))
    console.log(
      `  ${b.name} / ${a.name}, median of rounds: exec/s ×${ratio((s) => s.rates).toFixed(3)}, ` +
        `per task ×${ratio((s) => s.perTask).toFixed(3)}`,
    )
  } finally {
    for (const server of servers) {
      if (server.child.exitCode !== null) continue
      const exited = new Promise((done) => server.child.once('exit', done))
      server.child.disconnect()
      await exited
    }
    for (const database of databases) await database.drop()
    await registry.close()
    await rm(work, { recursive: true, force: true })
  }
}
