import { existsSync, readdirSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer as createHttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nativeAddon, PROBER, writeProberPlugin } from '../../test/fixtures/prober-plugin.js'
import { createTestRuntime, type TestRuntime } from '../../test/fixtures/test-runtime.js'
import { GREETING_V1 } from '../../test/plugin-publishing.js'
import type { InstanceConfigInput } from '../config.js'
import { loadPluginDirectory } from './plugin-sources.js'
import type { WorkerHost } from './worker-host.js'

const SECRET = 's3cr3t-value-for-the-sandbox'

/** What the prober reports in a sandbox with no permissions: everything refused. */
const NO_REACH = {
  selfEnviron: 'denied: ERR_ACCESS_DENIED',
  runtimeEnviron: 'denied: ERR_ACCESS_DENIED',
  openDatabase: 'denied: ERR_ACCESS_DENIED',
  writeDataDir: 'denied: ERR_ACCESS_DENIED',
  readOtherPlugin: 'denied: ERR_ACCESS_DENIED',
  spawnProcess: 'denied: ERR_ACCESS_DENIED',
  startThread: 'denied: ERR_ACCESS_DENIED',
  loadAddon: 'denied: ERR_DLOPEN_DISABLED',
  processEnv: 'denied: EMPTY',
  // The host copies files for the plugin only from where the plugin may read.
  storeDatabase: 'denied: ERR_ACCESS_DENIED',
  linkDatabase: 'denied: ERR_ACCESS_DENIED',
  writeWorkingDir: 'allowed: written',
  storageBytes: 'allowed: bytes 0,1,10,127,128,255',
}

const FLOW = `
id: probe
namespace: test.sandbox
inputs:
  - id: targets
    type: JSON
tasks:
  - id: probe
    type: test.prober.Probe
    runtimePid: "{{ inputs.targets.runtimePid }}"
    dbFile: "{{ inputs.targets.dbFile }}"
    dataDir: "{{ inputs.targets.dataDir }}"
    otherPluginDir: "{{ inputs.targets.otherPluginDir }}"
    addon: "{{ inputs.targets.addon }}"
`

let base: string
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'kite-sandbox-'))
})
afterAll(async () => {
  await rm(base, { recursive: true, force: true })
})

/** A runtime (sandboxed, the default) with the prober plugin declaring `permissions`. */
async function proberRuntime(
  name: string,
  permissions: Parameters<typeof writeProberPlugin>[1],
  config: InstanceConfigInput = {},
): Promise<TestRuntime> {
  const dir = await writeProberPlugin(join(base, name), permissions)
  return createTestRuntime({
    config,
    env: { KITE_SECRET_TOKEN: SECRET },
    extraPlugins: [await loadPluginDirectory(dir, { verify: false })],
  })
}

async function probe(test: TestRuntime) {
  const execution = await test.run(FLOW, {
    targets: {
      runtimePid: process.pid,
      dbFile: join(test.dataDir, 'kite.db'),
      dataDir: test.dataDir,
      otherPluginDir: GREETING_V1,
      addon: nativeAddon(),
    },
  })
  const run = test.taskRun(execution, 'probe')
  const results = (run.outputs as { results?: Record<string, string> } | undefined)?.results
  return { execution, run, results, logs: await test.logs(execution.id) }
}

describe('a plugin in the sandbox, with no permissions', () => {
  let test: TestRuntime
  beforeAll(async () => {
    test = await proberRuntime('plain', {})
  })
  afterAll(async () => {
    await test?.close()
  })

  it('is refused everything outside its directory, the SDK and its working directory', async () => {
    const { execution, results, logs } = await probe(test)
    expect(execution.state.current, logs.join('\n')).toBe('SUCCESS')
    expect(results).toMatchObject(NO_REACH)
    expect(existsSync(join(test.dataDir, 'planted.txt'))).toBe(false)
    // Its own working directory, not the runtime's.
    expect(results?.cwd).not.toBe(process.cwd())
    expect(results?.cwd).toContain(join(test.dataDir, 'work', '.sandbox'))
  })

  it('sends console output to the task run’s logs, the secret masked', async () => {
    const { execution, run } = await probe(test)
    const lines = await test.runtime.store.listLogs(execution.id)
    const line = lines.find((entry) => entry.message.startsWith('probe done'))
    expect(line).toMatchObject({ level: 'info', taskId: 'probe', taskRunId: run.id })
    expect(line?.message).not.toContain(SECRET)
    expect(line?.message).toMatch(/probe done, token \*+/)
  })

  it('runs in a sandbox process of its own, not in the runtime', async () => {
    await probe(test)
    const host = test.runtime.host as { sandboxes?: () => Record<string, number> }
    const pids = host.sandboxes?.() ?? {}
    expect(Object.keys(pids)).toEqual([`${PROBER}@1.0.0`])
    expect(pids[`${PROBER}@1.0.0`]).not.toBe(process.pid)
  })

  it('runs on the main thread of its process: no thread between the runtime and its code', async () => {
    const { results } = await probe(test)
    expect(results?.mainThread).toBe('true')
    // The SDK's build with zod bundled in (the `kite-plugin-worker` condition): a quicker start.
    expect(results?.sdkEntry).toMatch(/\/dist-worker\/index\.js$/)
  })
})

describe('a plugin that declares childProcess', () => {
  it('is refused when plugins.permissions does not grant it, with what it asks and what is granted', async () => {
    const test = await proberRuntime('asks', { childProcess: true })
    try {
      const { execution, run } = await probe(test)
      expect(execution.state.current).toBe('FAILED')
      const logs = (await test.logs(execution.id)).join('\n')
      expect(logs).toContain(
        `plugin ${PROBER}@1.0.0 asks for permissions this runtime does not grant it: childProcess`,
      )
      expect(logs).toContain('It asks for: childProcess; plugins.permissions grants it: nothing')
      expect(run.state.current).toBe('FAILED')
    } finally {
      await test.close()
    }
  })

  it('spawns a process when it is granted, and only that', async () => {
    const test = await proberRuntime(
      'granted',
      { childProcess: true },
      { plugins: { permissions: { '@test/*': { childProcess: true } } } },
    )
    try {
      const { execution, results } = await probe(test)
      expect(execution.state.current).toBe('SUCCESS')
      expect(results).toMatchObject({
        spawnProcess: 'allowed: spawned',
        openDatabase: 'denied: ERR_ACCESS_DENIED',
        selfEnviron: 'denied: ERR_ACCESS_DENIED',
        processEnv: 'denied: EMPTY',
      })
    } finally {
      await test.close()
    }
  })
})

describe('a version given the spare sandbox process', () => {
  it('has no more reach than a process forked for it; a version asking for more gets its own', async () => {
    const first = await writeProberPlugin(join(base, 'spare-1'), {}, '1.0.0')
    const second = await writeProberPlugin(join(base, 'spare-2'), {}, '2.0.0')
    const third = await writeProberPlugin(join(base, 'spare-3'), { childProcess: true }, '3.0.0')
    // A directory too big to copy (a development checkout with its node_modules, say).
    const fourth = await writeProberPlugin(join(base, 'spare-4'), {}, '4.0.0')
    await mkdir(join(fourth, 'assets'))
    for (let index = 0; index < 300; index++) {
      await writeFile(join(fourth, 'assets', `${index}.txt`), 'x')
    }
    // What a runtime killed with SIGKILL left behind: removed when the first spare is forked.
    const dataDir = join(base, 'with-bundles')
    const leftovers = [
      join(dataDir, 'sandbox-slots', `spare-${process.pid + 1}-7`),
      join(dataDir, 'work', '.sandbox', `spare-${process.pid + 1}-7`),
    ]
    for (const dir of leftovers) await mkdir(dir, { recursive: true })
    const test = await createTestRuntime({
      dataDir,
      config: { plugins: { permissions: { '@test/*': { childProcess: true } } } },
      env: { KITE_SECRET_TOKEN: SECRET },
      extraPlugins: await Promise.all(
        [first, second, third, fourth].map((dir) => loadPluginDirectory(dir, { verify: false })),
      ),
    })
    const host = test.runtime.host as unknown as WorkerHost
    const probeVersion = async (version: string) => {
      const execution = await test.run(
        FLOW.replace(
          'type: test.prober.Probe',
          `type: test.prober.Probe\n    version: "${version}"`,
        ),
        {
          targets: {
            runtimePid: process.pid,
            dbFile: join(test.dataDir, 'kite.db'),
            dataDir: test.dataDir,
            // Another version's directory: the spare's copy must not open the way to it.
            otherPluginDir: first,
            addon: nativeAddon(),
          },
        },
      )
      const run = test.taskRun(execution, 'probe')
      expect(execution.state.current, (await test.logs(execution.id)).join('\n')).toBe('SUCCESS')
      expect(run.pluginVersion).toBe(version)
      return (run.outputs as { results: Record<string, string> }).results
    }
    const spareReady = async () => {
      const deadline = Date.now() + 10_000
      while (!host.usage().spareSandbox) {
        if (Date.now() > deadline) throw new Error('no spare sandbox process was forked')
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }
    try {
      // Bundles are installed: the spare is forked at start, before any version ran.
      expect(host.usage().spareSandbox).toBe(true)
      for (const dir of leftovers) expect(existsSync(dir)).toBe(false)
      const spared = await probeVersion('1.0.0')
      expect(spared.cwd).toMatch(/[/]spare-/)
      expect(spared).toMatchObject(NO_REACH)
      // Taken, it is replaced by a new one for the next version.
      await spareReady()
      const sparedToo = await probeVersion('2.0.0')
      expect(sparedToo.cwd).toMatch(/[/]spare-/)
      expect(sparedToo).toMatchObject(NO_REACH)
      expect(Object.keys(host.sandboxes()).sort()).toEqual([`${PROBER}@1.0.0`, `${PROBER}@2.0.0`])
      // A version granted child processes cannot use the spare (forked without them).
      await spareReady()
      const granted = await probeVersion('3.0.0')
      expect(granted.spawnProcess).toBe('allowed: spawned')
      expect(granted.cwd).not.toMatch(/[/]spare-/)
      await spareReady()
      const big = await probeVersion('4.0.0')
      expect(big.cwd).not.toMatch(/[/]spare-/)
      expect(big.readOtherPlugin).toBe('denied: ERR_ACCESS_DENIED')
      // The spare it did not take is still there, its slot emptied for the next version.
      expect(host.usage().spareSandbox).toBe(true)
      // Closing ends the spare and the adopted process, and removes their slots.
      const slots = join(test.dataDir, 'sandbox-slots')
      expect(readdirSync(slots).length).toBeGreaterThan(0)
      await host.close()
      expect(readdirSync(slots)).toEqual([])
      const cwds = readdirSync(join(test.dataDir, 'work', '.sandbox'))
      expect(cwds.filter((name) => name.startsWith('spare-'))).toEqual([])
    } finally {
      await test.close()
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})

describe('the spare sandbox process, forked ahead', () => {
  it('is not forked by a runtime that has no plugin bundle, in either isolation', async () => {
    for (const isolation of ['sandbox', 'threads'] as const) {
      const test = await createTestRuntime({ config: { plugins: { isolation } } })
      try {
        // A spare thread would be started on the next turn of the event loop.
        await new Promise((resolve) => setImmediate(resolve))
        const usage = (test.runtime.host as unknown as WorkerHost).usage()
        expect({ spare: usage.spare, spareSandbox: usage.spareSandbox, isolation }).toEqual({
          spare: false,
          spareSandbox: false,
          isolation,
        })
      } finally {
        await test.close()
      }
    }
  })

  it('is forked when an install begins, before the registry has answered', async () => {
    let answer: (() => void) | undefined
    const asked = new Promise<void>((resolve) => {
      answer = resolve
    })
    // A registry that holds its answer until the test lets it go.
    const registry = createHttpServer((_request, response) => {
      void asked.then(() =>
        response.writeHead(404, { 'content-type': 'application/json' }).end('{}'),
      )
    })
    await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve))
    const { port } = registry.address() as AddressInfo
    const test = await createTestRuntime({
      registry: `http://127.0.0.1:${port}`,
      config: { plugins: { sync: 'manual' } },
    })
    try {
      const host = test.runtime.host as unknown as WorkerHost
      expect(host.usage().spareSandbox).toBe(false)
      const install = test.runtime.plugins.store
        .install('@test/kite-plugin-absent')
        .catch((error) => error)
      const deadline = Date.now() + 10_000
      while (!host.usage().spareSandbox) {
        if (Date.now() > deadline) throw new Error('no spare sandbox process was forked')
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      answer?.()
      expect(await install).toMatchObject({ code: 'NOT_FOUND' })
    } finally {
      answer?.()
      await test.close()
      registry.closeAllConnections()
      await new Promise((resolve) => registry.close(resolve))
    }
  })
})

describe('plugins.isolation: threads', () => {
  it('runs plugin threads in the runtime process (no sandbox), as before', async () => {
    const test = await proberRuntime('threads', {}, { plugins: { isolation: 'threads' } })
    try {
      const { results } = await probe(test)
      // Without the sandbox the runtime's reach is the plugin's: the reason the sandbox exists.
      expect(results?.openDatabase).toMatch(/^allowed/)
      expect(results?.mainThread).toBe('false')
      expect(results?.sdkEntry).toMatch(/\/dist-worker\/index\.js$/)
      const host = test.runtime.host as { sandboxes?: () => Record<string, number> }
      expect(host.sandboxes?.()).toEqual({})
    } finally {
      await test.close()
    }
  })
})
