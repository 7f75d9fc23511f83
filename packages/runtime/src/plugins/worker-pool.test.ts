// The bounded pool of plugin threads (SPEC 9): a cap on threads, several calls per thread,
// FIFO waiting, sibling resubmission after a timeout or kill, idle threads ending, working
// directories made only on demand. Real worker threads over real plugin directories.
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { taskBundle, writePlugin } from '../../test/plugin-publishing.js'
import { silentLogger } from '../executor/engine.js'
import { createPluginCatalog, type MutablePluginCatalog } from './plugin-catalog.js'
import type { HostRequest, HostRunContext, RunServices } from './plugin-host.js'
import { loadPluginDirectory } from './plugin-sources.js'
import { NO_PERMISSIONS } from './sandbox-permissions.js'
import { createWorkerHost, type WorkerHost, type WorkerHostOptions } from './worker-host.js'

const POOL = '@acme/kite-plugin-pool'
const BROKEN = '@acme/kite-plugin-broken'

/**
 * Tasks for the pool: sleep, loop forever, exit the process, throw outside the call, use the
 * working dir, echo config.
 */
function poolBundle(version: string, group = 'acme.pool'): string {
  return taskBundle({
    group,
    title: 'Pool',
    description: `Tasks for the pool tests (${version}).`,
    imports: "import { writeFileSync } from 'node:fs'\nimport { join } from 'node:path'\n",
    tasks: [
      `task('Sleep', async (props) => { await new Promise((r) => setTimeout(r, props.ms)); return { value: '${version}' } }, z.object({ ms: z.number().default(10) }))`,
      "task('Loop', () => { for (;;) {} })",
      "task('Exit', async () => { await new Promise((r) => setTimeout(r, 50)); process.exit(3) })",
      "task('Crash', async () => { setTimeout(() => { throw new Error('thrown outside the call') }, 20); await new Promise((r) => setTimeout(r, 5000)) })",
      "task('UseDir', async (props, ctx) => { const file = join(ctx.workingDir, 'note.txt'); writeFileSync(file, 'hi'); return { value: file } })",
      "task('Config', async (props, ctx) => ({ value: ctx.pluginConfig }))",
      "task('Bomb', async () => { const kept = []; for (;;) kept.push(new Array(1e5).fill(1)) })",
    ],
  })
}

let dir: string
let catalog: MutablePluginCatalog
const hosts: WorkerHost[] = []

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kite-worker-pool-'))
  catalog = createPluginCatalog()
  for (const version of ['1.0.0', '2.0.0']) {
    const pluginDir = await writePlugin(join(dir, `pool-${version}`), {
      name: POOL,
      version,
      bundle: poolBundle(version),
    })
    catalog.add(await loadPluginDirectory(pluginDir, { verify: false }))
  }
  // A bundle that throws as it is imported: written valid (for its manifest), then broken.
  const broken = await writePlugin(join(dir, 'broken'), {
    name: BROKEN,
    version: '1.0.0',
    bundle: poolBundle('broken', 'acme.broken'),
  })
  catalog.add(await loadPluginDirectory(broken, { verify: false }))
  await writeFile(
    join(broken, 'dist', 'index.js'),
    "throw new Error('broken: it fails as it is imported')\n",
  )
}, 60_000)

afterEach(async () => {
  await Promise.all(hosts.splice(0).map((host) => host.close()))
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Where the threads live: this process, or sandbox processes (SPEC 6); both keep the pool's rules. */
let isolation: 'threads' | 'sandbox' = 'threads'

function createHost(options: Partial<WorkerHostOptions> = {}): WorkerHost {
  const host = createWorkerHost({
    catalog,
    idleMs: 2_000,
    ...(isolation === 'sandbox'
      ? { sandbox: { workDir: join(dir, 'work'), permissionsOf: () => NO_PERMISSIONS } }
      : {}),
    ...options,
  })
  hosts.push(host)
  return host
}

const services = new Proxy({} as RunServices, {
  get: () => async () => undefined,
})

let runs = 0
function request(
  type: string,
  properties: Record<string, unknown> = {},
  extra: Partial<Omit<HostRequest, 'context'>> & {
    version?: string
    package?: string
    context?: Partial<HostRunContext>
  } = {},
): HostRequest {
  const { version = '1.0.0', package: name = POOL, context, ...rest } = extra
  runs++
  const group = name === BROKEN ? 'acme.broken' : 'acme.pool'
  return {
    pin: { type: `${group}.${type}`, kind: 'task', package: name, version, decidedBy: 'task' },
    properties,
    context: {
      execution: {
        id: `e${runs}`,
        namespace: 'acme',
        flowId: 'f',
        startDate: new Date().toISOString(),
      },
      task: { id: `t${runs}`, type: `${group}.${type}`, version },
      workingDir: join(dir, 'work', `run-${runs}`),
      pluginConfig: {},
      services,
      ...context,
    } as HostRunContext,
    signal: new AbortController().signal,
    ...rest,
  }
}

/** OS threads of this process, where /proc says (Linux). */
function osThreads(): number | undefined {
  try {
    const match = /^Threads:\s+(\d+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))
    return match ? Number(match[1]) : undefined
  } catch {
    return undefined
  }
}

describe.each(['threads', 'sandbox'] as const)('the pool of plugin threads (%s)', (mode) => {
  beforeAll(() => {
    isolation = mode
  })

  it('runs 300 concurrent sleeping calls on at most maxWorkers threads, the rest waiting', async () => {
    const host = createHost({ maxWorkers: 3, callsPerWorker: 40 })
    const before = osThreads()
    let peakOs = 0
    let sawQueue = false
    const watch = setInterval(() => {
      peakOs = Math.max(peakOs, osThreads() ?? 0)
      if (host.usage().queued > 0) sawQueue = true
    }, 5)
    const results = await Promise.all(
      Array.from({ length: 300 }, () => host.runTask(request('Sleep', { ms: 100 }))),
    ).finally(() => clearInterval(watch))
    expect(results).toHaveLength(300)
    expect(new Set(results.map((result) => result.value))).toEqual(new Set(['1.0.0']))
    const usage = host.usage()
    expect(usage.peakThreads).toBeGreaterThan(0)
    expect(usage.peakThreads).toBeLessThanOrEqual(3)
    // 300 calls, 3 × 40 slots: some had to wait.
    expect(sawQueue).toBe(true)
    expect(usage.queued).toBe(0)
    expect(usage.running).toBe(0)
    if (before !== undefined) {
      // Each worker thread brings a few OS threads of its own (V8); 300 unbounded threads would
      // be far past this.
      expect(peakOs - before).toBeLessThan(3 * 8)
    }
  }, 60_000)

  it('a timeout ends only its thread; the other calls on it run again and succeed', async () => {
    const host = createHost({ maxWorkers: 1, callsPerWorker: 8, spareWorker: false })
    // Warm the one thread so every call below shares it.
    await host.warm(POOL, '1.0.0')
    const sleepers = Array.from({ length: 4 }, () => host.runTask(request('Sleep', { ms: 400 })))
    const loop = host.runTask(request('Loop', {}, { timeoutMs: 200 }))
    await expect(loop).rejects.toMatchObject({ code: 'TASK_TIMEOUT' })
    await expect(Promise.all(sleepers)).resolves.toEqual(
      Array.from({ length: 4 }, () => ({ value: '1.0.0' })),
    )
    expect(host.usage().resubmitted).toBe(4)
    expect(host.usage().peakThreads).toBe(1)
  }, 30_000)

  it('a kill ends only its thread; a caller that resubmits itself gets WORKER_LOST', async () => {
    const host = createHost({ maxWorkers: 1, callsPerWorker: 8, spareWorker: false })
    await host.warm(POOL, '1.0.0')
    const controller = new AbortController()
    const mine = host.runTask(request('Sleep', { ms: 5_000 }, { signal: controller.signal }))
    const resubmitted = host.runTask(request('Sleep', { ms: 300 }))
    const rejected = host.runTask(request('Sleep', { ms: 300 }, { onWorkerLost: 'reject' }))
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(host.usage().running).toBe(3)
    controller.abort()
    await expect(mine).rejects.toMatchObject({ code: 'TASK_KILLED' })
    await expect(rejected).rejects.toMatchObject({ code: 'WORKER_LOST', kind: 'operational' })
    await expect(resubmitted).resolves.toEqual({ value: '1.0.0' })
    expect(host.usage().resubmitted).toBe(1)
  }, 30_000)

  it('a plugin that exits or throws at import fails only its own calls', async () => {
    const host = createHost({ maxWorkers: 2, callsPerWorker: 4, spareWorker: false })
    // Another version holds one thread; the exiting call and its sibling share the other.
    const other = host.runTask(request('Sleep', { ms: 1_000 }, { version: '2.0.0' }))
    const exits = host.runTask(request('Exit'))
    const sibling = host.runTask(request('Sleep', { ms: 2_000 }))
    const broken = host.runTask(request('Sleep', { ms: 10 }, { package: BROKEN }))
    await expect(exits).rejects.toThrow(/exited with code 3/)
    // Same version, same thread: it went down with it (a crash is not resubmitted).
    await expect(sibling).rejects.toMatchObject({ code: 'TASK_FAILED' })
    await expect(broken).rejects.toThrow(/broken: it fails as it is imported/)
    await expect(other).resolves.toEqual({ value: '2.0.0' })
    // The host goes on: the version that exited runs again on a fresh thread.
    await expect(host.runTask(request('Sleep', { ms: 10 }))).resolves.toEqual({ value: '1.0.0' })
  }, 30_000)

  it('an error thrown outside any call ends its thread and says what it was', async () => {
    const host = createHost({ maxWorkers: 1, spareWorker: false })
    const sibling = host.runTask(request('Sleep', { ms: 2_000 }))
    await expect(host.runTask(request('Crash'))).rejects.toThrow(
      /its worker crashed: thrown outside the call/,
    )
    await expect(sibling).rejects.toMatchObject({ code: 'TASK_FAILED' })
    await expect(host.runTask(request('Sleep', { ms: 10 }))).resolves.toEqual({ value: '1.0.0' })
  }, 30_000)

  it('an allocation bomb fails its call as out of memory; V8’s report is one log line', async () => {
    const warnings: string[] = []
    const logger = { ...silentLogger, warn: (line: string) => void warnings.push(line) }
    const host = createHost({
      maxWorkers: 1,
      spareWorker: false,
      maxHeapMb: 48,
      ...(mode === 'sandbox'
        ? { sandbox: { workDir: join(dir, 'work'), permissionsOf: () => NO_PERMISSIONS, logger } }
        : {}),
    })
    await expect(host.runTask(request('Bomb'))).rejects.toThrow(/out of memory/)
    if (mode === 'sandbox') {
      // Every line of the report arrives before the call fails (the process ends after it).
      expect(warnings.filter((line) => line.includes('FATAL ERROR:'))).toHaveLength(1)
      expect(warnings.join('\n')).toMatch(/FATAL ERROR: .*heap.*out of memory/)
      expect(warnings.join('\n')).not.toMatch(/Last few GCs|Native stack|Mark-Compact|0x[0-9a-f]+ /)
    }
    await expect(host.runTask(request('Sleep', { ms: 10 }))).resolves.toEqual({ value: '1.0.0' })
  }, 30_000)

  it('gives a waiting version a thread of a busy one when the pool is full', async () => {
    const host = createHost({ maxWorkers: 1, callsPerWorker: 2, spareWorker: false })
    const settled: string[] = []
    const many = Array.from({ length: 12 }, (_, index) =>
      host.runTask(request('Sleep', { ms: 100 })).then(() => settled.push(`v1-${index}`)),
    )
    await new Promise((resolve) => setTimeout(resolve, 20))
    const late = host.runTask(request('Sleep', { ms: 10 }, { version: '2.0.0' }))
    await expect(late).resolves.toEqual({ value: '2.0.0' })
    settled.push('v2')
    await Promise.all(many)
    // FIFO would make v2 wait for all twelve: it ran once the thread drained instead.
    expect(settled.indexOf('v2')).toBeLessThan(settled.length - 4)
    expect(host.usage().peakThreads).toBe(1)
  }, 30_000)

  it('ends idle threads after idleMs', async () => {
    const host = createHost({ idleMs: 100, spareWorker: false })
    await host.runTask(request('Sleep', { ms: 10 }))
    expect(host.stats()[`${POOL}@1.0.0`]).toBe(1)
    await expect.poll(() => host.usage().threads, { timeout: 5_000, interval: 50 }).toBe(0)
    expect(host.stats()[`${POOL}@1.0.0`]).toBeUndefined()
  }, 30_000)

  it('makes a working directory only for a call that uses it, and removes what it made', async () => {
    const host = createHost()
    const unused = request('Sleep', { ms: 1 })
    await host.runTask(unused)
    expect(existsSync(unused.context.workingDir)).toBe(false)
    // A directory the host did not make for the call is not the host's to delete.
    const kept = request('Sleep', { ms: 1 })
    await mkdir(kept.context.workingDir, { recursive: true })
    await host.runTask(kept)
    expect(existsSync(kept.context.workingDir)).toBe(true)
    const used = request('UseDir')
    const { value } = await host.runTask(used)
    expect(value).toBe(join(used.context.workingDir, 'note.txt'))
    await expect.poll(() => existsSync(used.context.workingDir), { timeout: 5_000 }).toBe(false)
  }, 30_000)

  it('sends a plugin config to a thread once and each call sees its own', async () => {
    const host = createHost({ maxWorkers: 1, spareWorker: false })
    const first = { token: 'a' }
    const second = { token: 'b' }
    const results = await Promise.all([
      host.runTask(request('Config', {}, { context: { pluginConfig: first } })),
      host.runTask(request('Config', {}, { context: { pluginConfig: second } })),
      host.runTask(request('Config', {}, { context: { pluginConfig: first } })),
    ])
    expect(results.map((result) => result.value)).toEqual([first, second, first])
  }, 30_000)

  it('refuses calls after close, and close fails the waiting ones', async () => {
    const host = createHost({ maxWorkers: 1, callsPerWorker: 1, spareWorker: false })
    const running = host.runTask(request('Sleep', { ms: 2_000 }))
    const waiting = host.runTask(request('Sleep', { ms: 10 }))
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(host.usage().queued).toBe(1)
    const failures = Promise.all([
      expect(waiting).rejects.toMatchObject({ code: 'WORKER_LOST' }),
      expect(running).rejects.toThrow(/ended/),
    ])
    await host.close()
    await failures
    await expect(host.runTask(request('Sleep'))).rejects.toMatchObject({ code: 'WORKER_LOST' })
  }, 30_000)
})
