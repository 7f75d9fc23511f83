#!/usr/bin/env node
// Plugin benchmark (`node bench/run.mjs plugins`, after a build). With a real registry on
// loopback and the real npm CLI, prints:
//   1. hot reload: from `npm publish` returning to the first execution running the new version
//      (a flow pinned to LATEST), median and p95 over 10 publishes;
//   2. cold start: the first task of a newly installed version (worker start + bundle import):
//      the very first, versions arriving 1 s apart (the spare has booted), back to back;
//   3. memory: 20 versions of one plugin loaded side by side (one worker each);
//   4. per-task overhead: the worker host versus calling the same task in-process.
// 2–4 twice: plugin threads in this process (`plugins.isolation: threads`) and in sandbox
// processes, one per version under Node's permission model (`sandbox`, the default).
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInProcessHost, createServer } from '@kite/runtime'
import { echoRequest, echoSource, quantile, startRegistry } from '../shared.mjs'

const NAME = '@bench/kite-plugin-echo'
const work = await mkdtemp(join(tmpdir(), 'kite-bench-plugins-'))
const ms = (value) => `${value.toFixed(value < 10 ? 2 : 0)} ms`

const registry = await startRegistry(work)
let server
try {
  const publish = (version) => registry.publish(NAME, version, echoSource(version))

  server = await createServer({ dataDir: join(work, 'data'), port: 0, registry: registry.url })
  const api = (path, init) =>
    fetch(`${server.url}/api/v1${path}`, init).then((response) => response.json())
  await publish('1.0.0')
  const deadline = Date.now() + 20_000
  while (!server.runtime.catalog.get(NAME, '1.0.0')) {
    if (Date.now() > deadline) throw new Error('1.0.0 never installed')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  await fetch(`${server.url}/api/v1/flows`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-yaml' },
    body: 'id: echo\nnamespace: bench\ntasks:\n  - id: echo\n    type: bench.echo.Echo\n    version: LATEST\n',
  })

  // 1. Hot reload.
  const reloads = []
  for (let index = 1; index <= 10; index++) {
    const version = `1.${index}.0`
    await publish(version)
    const published = performance.now()
    for (;;) {
      const execution = await api('/executions/bench/echo?wait=true', { method: 'POST' })
      if (execution.taskRunList?.[0]?.pluginVersion === version) break
      if (performance.now() - published > 30_000) throw new Error(`${version} never ran`)
    }
    reloads.push(performance.now() - published)
  }
  console.log(
    `hot reload (npm publish returns → first execution on the new version), 10 publishes: median ${ms(quantile(reloads, 0.5))}, p95 ${ms(quantile(reloads, 0.95))}, max ${ms(Math.max(...reloads))}`,
  )

  // Publish up to 20 versions for the memory figure.
  for (let index = 11; index <= 19; index++) await publish(`1.${index}.0`)
  while (server.runtime.catalog.versionsOf(NAME).length < 20)
    await new Promise((resolve) => setTimeout(resolve, 20))
  const host = server.runtime.host
  await host.close()
  const { createWorkerHost } = await import('@kite/runtime')
  const versions = server.runtime.catalog.versionsOf(NAME).map((plugin) => plugin.version)
  const request = (version) => echoRequest(version, { workingDir: join(work, 'wd', 'run') })
  /** Resident memory of a process, from /proc (Linux). */
  const rssOf = (pid) => {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) * 1024 : 0
  }
  const inProcess = createInProcessHost({ catalog: server.runtime.catalog })
  const measure = async (target, rounds) => {
    for (let index = 0; index < 200; index++) await target.runTask(request('1.0.0'))
    const started = performance.now()
    for (let index = 0; index < rounds; index++) await target.runTask(request('1.0.0'))
    return (performance.now() - started) / rounds
  }
  const direct = await measure(inProcess, 2000)
  const figures = {}
  for (const isolation of ['threads', 'sandbox']) {
    // Room for all 20 versions side by side (the pool's default cap is 8 threads).
    const workers = createWorkerHost({
      catalog: server.runtime.catalog,
      maxWorkers: 32,
      // Every version stays loaded while the 20 cold starts run, so the memory figure holds 20.
      idleMs: 600_000,
      ...(isolation === 'sandbox'
        ? {
            sandbox: {
              workDir: join(work, 'wd'),
              permissionsOf: () => ({ childProcess: false, fsRead: [], fsWrite: [], env: [] }),
            },
          }
        : {}),
    })
    // 2. Cold start of a version's first task, then 3. memory with 20 versions loaded.
    global.gc?.()
    const before = process.memoryUsage().rss
    // The first version finds nothing started; the next ten come 1 s apart, as installs do
    // (a sandbox's spare process has booted meanwhile); the last nine back to back (it has not).
    const cold = []
    const spaced = []
    const packed = []
    for (const [index, version] of versions.entries()) {
      if (index >= 1 && index <= 10) await new Promise((resolve) => setTimeout(resolve, 1000))
      const started = performance.now()
      await workers.runTask(request(version))
      const took = performance.now() - started
      cold.push(took)
      if (index >= 1) (index <= 10 ? spaced : packed).push(took)
    }
    await new Promise((resolve) => setTimeout(resolve, 500))
    const sandboxes = Object.values(workers.sandboxes())
    const grown =
      process.memoryUsage().rss - before + sandboxes.reduce((sum, pid) => sum + rssOf(pid), 0)
    console.log(
      `[${isolation}] cold start (first task of a version: ${isolation === 'sandbox' ? 'process fork + ' : ''}worker start + bundle import), ${cold.length} versions: median ${ms(quantile(cold, 0.5))}, p95 ${ms(quantile(cold, 0.95))}; the very first ${ms(cold[0])}; ${spaced.length} versions 1 s apart: median ${ms(quantile(spaced, 0.5))}, p95 ${ms(quantile(spaced, 0.95))}; ${packed.length} back to back: median ${ms(quantile(packed, 0.5))}, p95 ${ms(quantile(packed, 0.95))}`,
    )
    console.log(
      `[${isolation}] memory with ${versions.length} versions loaded side by side: +${(grown / 2 ** 20).toFixed(0)} MiB RSS${sandboxes.length ? ` (runtime + ${sandboxes.length} sandbox processes)` : ''}, ${(grown / 2 ** 20 / versions.length).toFixed(1)} MiB per version (live workers: ${Object.keys(workers.stats()).length})`,
    )
    // 4. Per-task overhead, warm: worker host vs in-process host on the same bundle.
    const isolated = await measure(workers, 2000)
    figures[isolation] = { cold: quantile(cold, 0.5), task: isolated }
    console.log(
      `[${isolation}] per-task cost, warm, 2000 sequential tasks: worker ${ms(isolated)}, in-process ${ms(direct)}, isolation overhead ${ms(isolated - direct)} per task`,
    )
    await workers.close()
  }
  console.log(
    `sandbox vs threads: cold start ${ms(figures.sandbox.cold - figures.threads.cold)} more (median), ${ms(figures.sandbox.task - figures.threads.task)} more per warm task`,
  )
  console.log(`(${availableParallelism()} cores)`)
  await inProcess.close()
} finally {
  await server?.close()
  await registry.close()
  await rm(work, { recursive: true, force: true })
}
