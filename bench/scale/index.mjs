#!/usr/bin/env node
// Scale-out benchmark (`npm run bench scale`, after a build): I/O-bound executions (one plugin
// task that waits 1 s, `bench.nap.Nap`, run in the plugin sandbox of a worker process) per second
// through a cluster of `kite server <role>` processes over PostgreSQL — 1 api, 1 executor and one,
// then two, worker processes (each `worker.slots: 4`, so the workers' slots are what limits, not
// the executor). Two workers should do ≥ 1.8× one: the work waits, so more slots in more
// processes finish more of it. A fresh `kite_bench_<random>`
// database on $KITE_BENCH_POSTGRES (default postgres://postgres@127.0.0.1:5432), dropped at the end.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { writePluginPackage } from '../shared.mjs'

const POSTGRES = process.env.KITE_BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432'
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const BIN = join(ROOT, 'packages/cli/bin/kite.js')
// Not the core Sleep: the executor waits for that itself (a timer, no worker slot), so it would
// not measure the workers.
const NAP = `import { definePlugin, defineTask, z } from '@kite/sdk'
export default definePlugin({ group: 'bench.nap', title: 'Nap', description: 'Waits.', tasks: [
  defineTask({ name: 'Nap', title: 'Nap', description: 'Waits ms milliseconds in the worker.', properties: z.object({ ms: z.number() }), outputs: z.object({}), run: async (props) => { await new Promise((resolve) => setTimeout(resolve, props.ms)); return {} } }),
], triggers: [], conditions: [] })
`
const EXECUTIONS = Number(process.env.KITE_BENCH_SCALE_EXECUTIONS ?? 80)
const SLOTS = 4

async function admin(text, database = 'postgres') {
  const client = new pg.Client({ connectionString: `${POSTGRES}/${database}` })
  await client.connect()
  try {
    return (await client.query(text)).rows
  } finally {
    await client.end()
  }
}

/** Starts `kite server <role>` and resolves once it prints that it runs. */
function node(role, args) {
  const child = spawn(process.execPath, [BIN, 'server', role, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
  })
  let out = ''
  let err = ''
  child.stderr.on('data', (chunk) => {
    err += chunk
  })
  const ready = new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      out += chunk
      if (/Press Ctrl-C to stop/.test(out)) resolve(out)
    })
    child.once('exit', (code) => reject(new Error(`${role} exited (${code}):\n${out}\n${err}`)))
  })
  return {
    child,
    ready,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', resolve)
        child.kill('SIGTERM')
      }),
  }
}

async function run(workers) {
  const name = `kite_bench_${randomBytes(6).toString('hex')}`
  await admin(`CREATE DATABASE ${name}`)
  const url = `${POSTGRES}/${name}`
  const dir = await mkdtemp(join(tmpdir(), 'kite-bench-scale-'))
  const nap = await writePluginPackage(join(dir, 'plugins'), '@bench/kite-plugin-nap', '1.0.0', NAP)
  const config = join(dir, 'kite.yaml')
  await writeFile(config, `worker:\n  slots: ${SLOTS}\n`)
  const common = (data) => [
    '--store',
    url,
    '--plugin',
    nap,
    '--config',
    config,
    '--data',
    join(dir, data),
  ]
  const nodes = []
  try {
    const api = node('api', [...common('api'), '--port', '0'])
    nodes.push(api)
    const out = await api.ready
    const server = /running at (http:\/\/[\d.:]+)/.exec(out)[1]
    const others = [node('executor', common('executor'))]
    for (let index = 0; index < workers; index++)
      others.push(node('worker', common(`worker-${index}`)))
    nodes.push(...others)
    await Promise.all(others.map((item) => item.ready))
    const saved = await fetch(`${server}/api/v1/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-yaml' },
      body: 'id: nap\nnamespace: bench.scale\ntasks:\n  - id: nap\n    type: bench.nap.Nap\n    ms: 1000\n',
    })
    if (!saved.ok) throw new Error(`cannot save the flow: ${await saved.text()}`)
    const started = performance.now()
    for (let index = 0; index < EXECUTIONS; index += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, EXECUTIONS - index) }, async () => {
          const response = await fetch(`${server}/api/v1/executions/bench.scale/nap`, {
            method: 'POST',
          })
          if (!response.ok) throw new Error(`cannot start: ${await response.text()}`)
        }),
      )
    }
    for (;;) {
      const [row] = await admin(
        "SELECT count(*) FILTER (WHERE state IN ('SUCCESS','FAILED','KILLED')) AS ended, count(*) FILTER (WHERE state <> 'SUCCESS' AND state IN ('FAILED','KILLED')) AS failed FROM executions",
        name,
      )
      if (Number(row.ended) >= EXECUTIONS) {
        if (Number(row.failed) > 0) throw new Error(`${row.failed} executions did not succeed`)
        break
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const seconds = (performance.now() - started) / 1000
    return EXECUTIONS / seconds
  } finally {
    await Promise.all(nodes.map((item) => item.stop()))
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {})
    await rm(dir, { recursive: true, force: true })
  }
}

try {
  await admin('SELECT 1')
} catch (error) {
  console.log(`(no PostgreSQL at ${POSTGRES}: ${error.message}; skipped)`)
  process.exit(0)
}
console.log(
  `I/O-bound executions (a plugin task waiting 1 s), ${EXECUTIONS} per run, worker.slots ${SLOTS}, ${availableParallelism()} cores, PostgreSQL`,
)
const one = await run(1)
console.log(`  1 worker process:  ${one.toFixed(1)} executions/s`)
const two = await run(2)
console.log(
  `  2 worker processes: ${two.toFixed(1)} executions/s  (${(two / one).toFixed(2)}× one; target ≥ 1.8×)`,
)
