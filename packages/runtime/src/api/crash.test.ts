import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createResolvableTempDir, PACKAGE_ROOT } from '../../test/fixtures/temp-dir.js'

let bundleDir: string
let dataDir: string
let script: string
const children = new Set<ChildProcess>()

beforeAll(async () => {
  // The child runs this package's current source, bundled (its dependencies stay external).
  bundleDir = await createResolvableTempDir('crash')
  script = join(bundleDir, 'crash-server.mjs')
  await build({
    entryPoints: [join(PACKAGE_ROOT, 'test', 'fixtures', 'crash-server.ts')],
    outfile: script,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'silent',
  })
  dataDir = await mkdtemp(join(tmpdir(), 'kite-crash-'))
})

afterAll(async () => {
  for (const child of children) await stop(child, 'SIGTERM')
  await rm(bundleDir, { recursive: true, force: true })
  await rm(dataDir, { recursive: true, force: true })
})

function startServer(...pluginDirs: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [script, dataDir, ...pluginDirs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    child.stderr?.on('data', (chunk) => {
      err += chunk
    })
    child.stdout?.on('data', (chunk) => {
      out += chunk
      const line = out.split('\n')[0]
      if (out.includes('\n') && line) resolve({ child, url: JSON.parse(line).url })
    })
    child.once('exit', (code) => reject(new Error(`the server exited (${code}): ${err}`)))
  })
}

function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  children.delete(child)
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    process.kill(child.pid!, signal)
  })
}

async function poll<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (done(value)) return value
    if (Date.now() > deadline) throw new Error(`timed out; last value: ${JSON.stringify(value)}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

interface ExecutionJson {
  state: { current: string }
  taskRunList: Array<{
    taskId: string
    state: { current: string; endDate?: string }
    error?: string
    wakeAt?: string
    attempts: Array<{ state: { current: string }; error?: string; workerLost?: boolean }>
  }>
}

/** The execution has ended, whichever way. */
const ended = (execution: ExecutionJson) =>
  ['SUCCESS', 'WARNING', 'FAILED', 'KILLED'].includes(execution.state.current)

const read = (url: string, id: string) => async () =>
  (await (await fetch(`${url}/api/v1/executions/${id}`)).json()) as ExecutionJson

/** Creates the flow (its YAML) on the server at `url`; 200 expected. */
async function saveFlow(url: string, source: string): Promise<void> {
  const saved = await fetch(`${url}/api/v1/flows`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-yaml' },
    body: source,
  })
  expect(saved.status).toBe(200)
}

describe('a server killed with SIGKILL mid-flow', () => {
  it('finishes every execution after a restart on the same data directory', async () => {
    const first = await startServer()
    const flow = (id: string, retry: string) => `id: ${id}
namespace: crash
tasks:
  - id: before
    type: test.fixtures.Echo
    value: 1
  - id: slow
    type: test.fixtures.Slow
    ms: 1500
${retry}
  - id: after
    type: test.fixtures.Echo
    value: "{{ outputs.before.value + 1 }}"
`
    for (const [id, retry] of [
      ['retried', '    retry: { type: constant, interval: PT0.01S, maxAttempts: 2 }'],
      ['lost', ''],
    ]) {
      await saveFlow(first.url, flow(id!, retry!))
    }
    const start = async (id: string) =>
      (
        (await (
          await fetch(`${first.url}/api/v1/executions/crash/${id}`, { method: 'POST' })
        ).json()) as { id: string }
      ).id
    const retried = await start('retried')
    const lost = await start('lost')
    for (const id of [retried, lost]) {
      await poll(read(first.url, id), (execution) =>
        execution.taskRunList.some(
          (run) => run.taskId === 'slow' && run.state.current === 'RUNNING',
        ),
      )
    }
    await stop(first.child, 'SIGKILL')

    const second = await startServer()
    const done = await poll(read(second.url, retried), ended)
    expect(done.state.current).toBe('SUCCESS')
    const slow = done.taskRunList.find((run) => run.taskId === 'slow')!
    expect(slow.attempts.map((attempt) => attempt.state.current)).toEqual(['FAILED', 'SUCCESS'])
    expect(slow.attempts[0]?.error).toContain('worker lost')
    expect(done.taskRunList.map((run) => run.taskId)).toEqual(['before', 'slow', 'after'])

    // No retry policy: the lost attempt is resubmitted all the same (at-least-once).
    const resubmitted = await poll(read(second.url, lost), ended)
    expect(resubmitted.state.current).toBe('SUCCESS')
    const again = resubmitted.taskRunList.find((run) => run.taskId === 'slow')!
    expect(again.attempts.map((attempt) => attempt.state.current)).toEqual(['FAILED', 'SUCCESS'])
    expect(again.attempts[0]?.error).toBe(
      'worker lost: the runtime stopped while this attempt was running',
    )
    await stop(second.child, 'SIGTERM')
  })

  it('finishes 60 in-flight executions after SIGKILL: one successful attempt per task, nothing phantom', async () => {
    const first = await startServer()
    await saveFlow(
      first.url,
      `id: many
namespace: crash.many
tasks:
  - id: before
    type: test.fixtures.Attempt
  - id: slow
    type: test.fixtures.Attempt
    ms: 4000
  - id: after
    type: test.fixtures.Echo
    value: "{{ outputs.slow.idempotencyKey }}"
`,
    )
    const ids = await Promise.all(
      Array.from({ length: 60 }, async () => {
        const response = await fetch(`${first.url}/api/v1/executions/crash.many/many`, {
          method: 'POST',
        })
        expect(response.status).toBe(200)
        return ((await response.json()) as { id: string }).id
      }),
    )
    // Killed while most of them are inside `slow`.
    await poll(
      async () => {
        const page = (await (
          await fetch(`${first.url}/api/v1/executions?namespace=crash.many&state=RUNNING&size=100`)
        ).json()) as { total: number }
        return page.total
      },
      (running) => running >= 50,
    )
    await stop(first.child, 'SIGKILL')

    const second = await startServer()
    let lostAttempts = 0
    const lostPerExecution: number[] = []
    for (const id of ids) {
      const lostBefore = lostAttempts
      const done = await poll(read(second.url, id), ended, 60_000)
      expect(done.state.current).toBe('SUCCESS')
      expect(done.taskRunList.map((run) => run.taskId)).toEqual(['before', 'slow', 'after'])
      for (const run of done.taskRunList) {
        expect(run.state.current).toBe('SUCCESS')
        const succeeded = run.attempts.filter((attempt) => attempt.state.current === 'SUCCESS')
        expect(succeeded).toHaveLength(1)
        for (const attempt of run.attempts.slice(0, -1)) {
          expect(attempt).toMatchObject({
            workerLost: true,
            error: expect.stringContaining('worker lost'),
          })
          lostAttempts++
        }
      }
      lostPerExecution.push(lostAttempts - lostBefore)
    }
    // What is lost is the attempt each execution had RUNNING in the store at the kill: claimed by
    // a worker slot (at most worker.slots, 32), or finished with its result handed to the
    // executor in memory but not committed yet (the slot is free again meanwhile: worker.ts). A
    // sequential flow has at most one such attempt (its runner commits in order), so each
    // execution lost at most one attempt, whatever the load; queued attempts simply run.
    expect(lostAttempts).toBeGreaterThan(0)
    expect(Math.max(...lostPerExecution)).toBeLessThanOrEqual(1)
    const all = (await (
      await fetch(`${second.url}/api/v1/executions?namespace=crash.many&size=500`)
    ).json()) as { total: number; results: Array<{ id: string }> }
    expect(all.total).toBe(60)
    expect(new Set(all.results.map((execution) => execution.id))).toEqual(new Set(ids))
    await stop(second.child, 'SIGTERM')
  }, 120_000)

  it('finishes restarted executions after a SIGKILL during the restart, on the next start', async () => {
    const first = await startServer()
    // `gate` fails its first attempt only; the restart runs it again, then `slow`.
    const flow = (id: string) => `id: ${id}
namespace: crash.restart
tasks:
  - id: gate
    type: test.fixtures.Fail
    times: 1
    key: ${id}
  - id: slow
    type: test.fixtures.Slow
    ms: 1500
  - id: after
    type: test.fixtures.Echo
    value: "{{ outputs.gate.attempts }}"
`
    const post = (path: string, init: RequestInit = {}) =>
      fetch(`${first.url}/api/v1${path}`, { method: 'POST', ...init })
    const failedIds: string[] = []
    for (const id of ['at-once', 'mid-task']) {
      const saved = await post('/flows', {
        headers: { 'content-type': 'application/x-yaml' },
        body: flow(id),
      })
      expect(saved.status).toBe(200)
      const started = await post(`/executions/crash.restart/${id}?wait=true`)
      const failed = (await started.json()) as ExecutionJson & { id: string }
      expect(failed.state.current).toBe('FAILED')
      failedIds.push(failed.id)
    }
    const [atOnce, midTask] = failedIds as [string, string]
    // One restart is caught inside `slow`; the other is killed as soon as its restart answers.
    expect((await post(`/executions/${midTask}/restart`)).status).toBe(200)
    await poll(read(first.url, midTask), (execution) =>
      execution.taskRunList.some((run) => run.taskId === 'slow' && run.state.current === 'RUNNING'),
    )
    expect((await post(`/executions/${atOnce}/restart`)).status).toBe(200)
    await stop(first.child, 'SIGKILL')

    const second = await startServer()
    for (const id of [atOnce, midTask]) {
      const done = await poll(read(second.url, id), ended, 30_000)
      expect(done.state.current).toBe('SUCCESS')
      expect(done.taskRunList.map((run) => run.taskId)).toEqual(['gate', 'slow', 'after'])
      const gate = done.taskRunList.find((run) => run.taskId === 'gate')!
      expect(gate.attempts[0]?.state.current).toBe('FAILED')
      expect(gate.attempts.at(-1)?.state.current).toBe('SUCCESS')
      for (const run of done.taskRunList) expect(run.state.current).toBe('SUCCESS')
    }
    // The restart caught inside `slow` lost that attempt with the process, then ran it again.
    const mid = await read(second.url, midTask)()
    const slow = mid.taskRunList.find((run) => run.taskId === 'slow')!
    expect(slow.attempts.map((attempt) => attempt.state.current)).toEqual(['FAILED', 'SUCCESS'])
    expect(slow.attempts[0]).toMatchObject({ workerLost: true })
    const logs = (await (await fetch(`${second.url}/api/v1/executions/${atOnce}/logs`)).json()) as {
      message: string
    }[]
    expect(logs.map((entry) => entry.message)).toContain('restarted from 1 failed task run(s)')
    await stop(second.child, 'SIGTERM')
  }, 120_000)

  it('wakes a Sleep at its recorded time after SIGKILL, without a lost attempt', async () => {
    // The real core plugin: its Sleep is waited for by the executor, recorded with its wake-up time.
    const core = join(PACKAGE_ROOT, '..', 'plugins', 'core')
    const first = await startServer(core)
    await saveFlow(
      first.url,
      `id: napper
namespace: crash.sleep
tasks:
  - id: nap
    type: kite.core.flow.Sleep
    duration: PT2S
  - id: after
    type: test.fixtures.Echo
    value: awake
`,
    )
    const ids = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const response = await fetch(`${first.url}/api/v1/executions/crash.sleep/napper`, {
          method: 'POST',
        })
        return ((await response.json()) as { id: string }).id
      }),
    )
    const wakeAt = new Map<string, string>()
    for (const id of ids) {
      const sleeping = await poll(read(first.url, id), (execution) =>
        execution.taskRunList.some((run) => run.wakeAt !== undefined),
      )
      wakeAt.set(id, sleeping.taskRunList[0]!.wakeAt!)
    }
    await stop(first.child, 'SIGKILL')

    const second = await startServer(core)
    for (const id of ids) {
      const done = await poll(read(second.url, id), ended)
      expect(done.state.current).toBe('SUCCESS')
      const [nap, after] = done.taskRunList
      expect(nap?.wakeAt).toBe(wakeAt.get(id))
      expect(nap?.attempts.map((attempt) => attempt.state.current)).toEqual(['SUCCESS'])
      expect(nap?.attempts[0]).not.toHaveProperty('workerLost')
      expect(Date.parse(nap!.state.endDate!)).toBeGreaterThanOrEqual(Date.parse(nap!.wakeAt!))
      expect(after?.state.current).toBe('SUCCESS')
    }
    await stop(second.child, 'SIGTERM')
  }, 60_000)
})
