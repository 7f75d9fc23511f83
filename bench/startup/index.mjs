#!/usr/bin/env node
// Start-up benchmark (`node bench/run.mjs startup`, after a build): `kite server local` (the
// built CLI, in a child process, as a user starts it) on a fresh data dir and again on the same
// one, five times each. Prints the time from spawning the process to the first request answered
// (`GET /api/v1/health`), and the process's RSS after 3 s idle (target ≤ 0.5 s / ≤ 120 MB).
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { quantile } from '../shared.mjs'

const ROUNDS = 5
const IDLE_MS = 3_000
// KITE_BENCH_CLI: another build's bin/kite.js, for before/after pairs.
const cli =
  process.env.KITE_BENCH_CLI ??
  fileURLToPath(new URL('../../packages/cli/bin/kite.js', import.meta.url))
const work = await mkdtemp(join(tmpdir(), 'kite-bench-startup-'))

const rssOf = (pid) => {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match ? Number(match[1]) / 1024 : 0
}

/** Starts the runtime on `dataDir`: ms to the first answered request, idle RSS (MiB). */
async function startOnce(dataDir) {
  const started = performance.now()
  const child = spawn(
    process.execPath,
    [cli, 'server', 'local', '--port', '0', '--data', dataDir],
    // No registry: start-up of the runtime itself, not of a first sync.
    { env: { PATH: process.env.PATH, HOME: process.env.HOME }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  try {
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready in 60 s:\n${output}`)), 60_000)
      const look = (chunk) => {
        output += chunk
        const found = /running at (http:\/\/\S+)/.exec(output)
        if (found) {
          clearTimeout(timer)
          resolve(found[1])
        }
      }
      child.stdout.setEncoding('utf8').on('data', look)
      child.stderr.setEncoding('utf8').on('data', (chunk) => {
        output += chunk
      })
      child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)))
    })
    const response = await fetch(`${url}/api/v1/health`)
    await response.arrayBuffer()
    if (!response.ok) throw new Error(`/api/v1/health answered ${response.status}`)
    const ready = performance.now() - started
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS))
    return { ready, rss: rssOf(child.pid) }
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  }
}

try {
  const fresh = []
  const again = []
  for (let round = 0; round < ROUNDS; round++) {
    const dataDir = join(work, `data-${round}`)
    fresh.push(await startOnce(dataDir))
    again.push(await startOnce(dataDir))
  }
  const ms = (value) => `${Math.round(value)} ms`
  for (const [label, runs] of [
    ['empty data dir', fresh],
    ['same data dir again', again],
  ]) {
    const ready = runs.map((run) => run.ready)
    const rss = runs.map((run) => run.rss)
    console.log(
      `kite server local, ${label}, ${ROUNDS} starts: spawn → first request answered median ${ms(quantile(ready, 0.5))}, p95 ${ms(quantile(ready, 0.95))} (target ≤ 500 ms); RSS after ${IDLE_MS / 1000} s idle median ${quantile(rss, 0.5).toFixed(0)} MiB, max ${Math.max(...rss).toFixed(0)} MiB (target ≤ 120 MB)`,
    )
  }
  console.log(`(${availableParallelism()} cores)`)
} finally {
  await rm(work, { recursive: true, force: true })
}
