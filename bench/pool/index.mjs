#!/usr/bin/env node
// Pool benchmark (`node bench/run.mjs pool`, after a build): the bounded pool of plugin threads
// (issue 14). Plugins come the real path: the built `@kite/plugin-core` directory and bundles
// written to disk, every call in worker threads. Prints:
//   1. 300 executions of a 2-second Sleep started at once: time until all end, peak RSS, peak
//      threads (the pool's and the process's OS threads); the executor waits for the core Sleep
//      itself (executor/steps/sleep.ts), so no slot or plugin thread is held while they sleep;
//   2. per-call overhead of the worker host, warm: sequential and 10 at a time, versus in-process;
//   3. cold start: the first task of a newly loaded version, with the spare thread and without.
// `node bench/pool/index.mjs sleep` prints only the first.
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  createInProcessHost,
  createPluginCatalog,
  createRuntime,
  createWorkerHost,
  loadPluginDirectory,
} from '@kite/runtime'
import { echoRequest, echoSource, quantile, writePluginPackage } from '../shared.mjs'

const root = fileURLToPath(new URL('../..', import.meta.url))
const work = await mkdtemp(join(tmpdir(), 'kite-bench-pool-'))
const ms = (value) => `${value.toFixed(value < 10 ? 3 : 0)} ms`
const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MiB`
const osThreads = () => {
  try {
    return Number(/^Threads:\s+(\d+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0)
  } catch {
    return 0
  }
}
const CONCURRENT = 300

/** A tiny plugin version written to disk as `kite-plugin build` would: one no-op task. */
const writeEcho = async (version) =>
  loadPluginDirectory(
    await writePluginPackage(
      join(work, 'echo'),
      '@bench/kite-plugin-echo',
      version,
      echoSource(version),
    ),
    { verify: false },
  )

const only = process.argv[2]

try {
  // 1. 300 sleeping executions at once, through the engine with its default pool.
  const runtime = await createRuntime({
    dataDir: join(work, 'data'),
    pluginDirs: [join(root, 'packages/plugins/core')],
    scheduler: false,
  })
  await runtime.engine.saveFlow(
    'id: sleep\nnamespace: bench\ntasks:\n  - id: nap\n    type: kite.core.flow.Sleep\n    duration: PT2S\n',
  )
  // One warm-up execution: the first one pays for the thread start and the bundle import.
  const warm = await runtime.engine.start({ namespace: 'bench', flowId: 'sleep' })
  await runtime.engine.waitFor(warm.id)
  global.gc?.()
  const rssBefore = process.memoryUsage().rss
  const threadsBefore = osThreads()
  let peakRss = rssBefore
  let peakOs = threadsBefore
  const sample = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss)
    peakOs = Math.max(peakOs, osThreads())
  }, 25)
  const started = performance.now()
  const executions = await Promise.all(
    Array.from({ length: CONCURRENT }, () =>
      runtime.engine.start({ namespace: 'bench', flowId: 'sleep' }),
    ),
  )
  const accepted = performance.now() - started
  const ended = await Promise.all(
    executions.map((execution) => runtime.engine.waitFor(execution.id)),
  )
  const finished = performance.now() - started
  clearInterval(sample)
  const succeeded = ended.filter((execution) => execution.state.current === 'SUCCESS').length
  const usage = runtime.host.usage?.()
  const { maxWorkers, callsPerWorker } = runtime.config.plugins
  console.log(
    `${CONCURRENT} executions of a 2 s Sleep at once (maxWorkers ${maxWorkers}, callsPerWorker ${callsPerWorker}): ` +
      `accepted in ${ms(accepted)}, all ended in ${ms(finished)} (${succeeded} SUCCESS), ` +
      `peak RSS ${mib(peakRss)} (${mib(rssBefore)} before), ` +
      `peak plugin threads ${usage?.peakThreads ?? '?'}, peak OS threads ${peakOs} (${threadsBefore} before) ` +
      '(target: ends ≈ 2 s + 1 s, RSS < 400 MB, threads bounded by maxWorkers)',
  )
  await runtime.close()
  if (only !== 'sleep') {
    // 2. Per-call overhead, warm, of a no-op task: worker host vs in-process host.
    const catalog = createPluginCatalog()
    const versions = []
    for (let index = 0; index < 21; index++) {
      const plugin = await writeEcho(`1.${index}.0`)
      catalog.add(plugin)
      versions.push(plugin.version)
    }
    const pluginConfig = {}
    const request = (version) =>
      echoRequest(version, { workingDir: join(work, 'wd'), pluginConfig })
    const workers = createWorkerHost({ catalog })
    const inProcess = createInProcessHost({ catalog })
    const perCall = async (host, rounds, parallel) => {
      for (let index = 0; index < 300; index += parallel) {
        await Promise.all(Array.from({ length: parallel }, () => host.runTask(request('1.0.0'))))
      }
      const begun = performance.now()
      for (let done = 0; done < rounds; done += parallel) {
        await Promise.all(Array.from({ length: parallel }, () => host.runTask(request('1.0.0'))))
      }
      return (performance.now() - begun) / rounds
    }
    const sequential = await perCall(workers, 3000, 1)
    const direct = await perCall(inProcess, 3000, 1)
    const tenAtATime = await perCall(workers, 3000, 10)
    console.log(
      `per-call cost, warm no-op task: worker ${ms(sequential)} sequential, ${ms(tenAtATime)} per call 10 at a time; ` +
        `in-process ${ms(direct)}; isolation overhead ${ms(sequential - direct)} per call`,
    )
    await workers.close()
    await inProcess.close()

    // 3. Cold start: the first task of each new version (the pool allows them all side by side).
    const coldStarts = async (spareWorker) => {
      const host = createWorkerHost({ catalog, spareWorker, maxWorkers: 32 })
      // The spare is started from the first call on: one call of another version first.
      await host.runTask(request(versions[0]))
      const times = []
      for (const version of versions.slice(1)) {
        // New versions arrive apart (a publish, an install): the spare is back by then.
        await new Promise((resolve) => setTimeout(resolve, 1000))
        const begun = performance.now()
        await host.runTask(request(version))
        times.push(performance.now() - begun)
      }
      await host.close()
      return times
    }
    const withSpare = await coldStarts(true)
    const withoutSpare = await coldStarts(false)
    console.log(
      `cold start (first task of a new version), ${withSpare.length} versions: with the spare thread p50 ${ms(quantile(withSpare, 0.5))}, p95 ${ms(quantile(withSpare, 0.95))}; ` +
        `without p50 ${ms(quantile(withoutSpare, 0.5))}, p95 ${ms(quantile(withoutSpare, 0.95))} (target p95 ≤ 150 ms)`,
    )
  }
  console.log(`(${availableParallelism()} cores)`)
} finally {
  await rm(work, { recursive: true, force: true })
}
