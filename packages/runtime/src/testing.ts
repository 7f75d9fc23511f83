// `@kite/runtime/testing`: run whole flows against a plugin under development, in-process, for a
// plugin's own tests. A plugin lists `@kite/runtime` in its devDependencies only, so the runtime
// never joins its production dependencies.
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
// From the package's index, not its modules: the build then keeps the whole runtime in one chunk,
// evaluated in the index's order (@hono/zod-openapi extends zod before any schema is made).
import {
  createRuntime,
  type Execution,
  type InstanceConfigInput,
  type Runtime,
  RuntimeError,
  type SavedFlow,
  type StoredLogEntry,
  type TaskRun,
} from './index.js'

export interface FlowTesterOptions {
  /** Built plugin directories (each with `dist/kite-plugin.json`), relative to `cwd`. */
  plugins: readonly string[]
  /** A folder of flows (`*.yml`/`*.yaml`, searched recursively), relative to `cwd`. */
  flows: string
  /** Where relative paths start (default `process.cwd()`). */
  cwd?: string
  /** Instance configuration (default: Kite's defaults, plugins in worker threads). */
  config?: InstanceConfigInput
  /** Environment for `KITE_SECRET_*` and `KITE_ENV_*` (default: none, so tests stay reproducible). */
  env?: Record<string, string | undefined>
}

/** An ended (or paused) execution, with its logs and a way to find a task run by task id. */
export interface FlowTestExecution extends Execution {
  logs: StoredLogEntry[]
  /** The first task run of a task id; throws naming the task runs there are when none matches. */
  taskRun(taskId: string): TaskRun
}

export interface FlowTester {
  /** The flows loaded from the `flows` folder. */
  flows: SavedFlow[]
  /** Starts `namespace/flowId` with `inputs` and waits until it ends (or pauses). */
  run(
    namespace: string,
    flowId: string,
    options?: { inputs?: Record<string, unknown>; labels?: Record<string, string> },
  ): Promise<FlowTestExecution>
  /** The runtime underneath, for what the tester does not wrap. */
  runtime: Runtime
  /** Stops the runtime and deletes its temporary data directory. */
  close(): Promise<void>
}

/**
 * Starts an in-process runtime over a temporary data directory with the given plugin
 * directories and the flows of a folder (no registry, no HTTP, no scheduler).
 *
 * @example
 * const kite = await createFlowTester({ plugins: ['.'], flows: 'test/flows' })
 * const execution = await kite.run('company.team', 'hello', { inputs: { name: 'Ada' } })
 * expect(execution.state.current).toBe('SUCCESS')
 * await kite.close()
 */
export async function createFlowTester(options: FlowTesterOptions): Promise<FlowTester> {
  const cwd = options.cwd ?? process.cwd()
  const flowsDir = resolve(cwd, options.flows)
  const isDir = await stat(flowsDir).then(
    (info) => info.isDirectory(),
    () => false,
  )
  if (!isDir) {
    throw new RuntimeError(
      `the flows folder ${flowsDir} does not exist or is not a directory: pass \`flows\` as a folder of *.yaml flows`,
      { code: 'FLOW_INVALID' },
    )
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'kite-flow-test-'))
  let runtime: Runtime
  try {
    runtime = await createRuntime({
      dataDir,
      pluginDirs: options.plugins.map((dir) => resolve(cwd, dir)),
      env: options.env ?? {},
      scheduler: false,
      ...(options.config ? { config: options.config } : {}),
    })
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true })
    throw error
  }
  let flows: SavedFlow[]
  try {
    flows = await runtime.loadFlows(flowsDir)
  } catch (error) {
    await runtime.close()
    await rm(dataDir, { recursive: true, force: true })
    throw error
  }
  if (flows.length === 0) {
    await runtime.close()
    await rm(dataDir, { recursive: true, force: true })
    throw new RuntimeError(`the flows folder ${flowsDir} has no *.yml or *.yaml flow`, {
      code: 'FLOW_INVALID',
    })
  }
  const { engine } = runtime
  return {
    flows,
    runtime,
    async run(namespace, flowId, runOptions = {}) {
      const started = await engine.start({
        namespace,
        flowId,
        ...(runOptions.inputs ? { inputs: runOptions.inputs } : {}),
        ...(runOptions.labels ? { labels: runOptions.labels } : {}),
      })
      const execution = await engine.waitFor(started.id, { untilPaused: true })
      await engine.flushLogs(started.id)
      const logs = await runtime.store.listLogs(started.id)
      return {
        ...execution,
        logs,
        taskRun(taskId) {
          const found = execution.taskRunList.find((run) => run.taskId === taskId)
          if (found) return found
          const ids = [...new Set(execution.taskRunList.map((run) => run.taskId))]
          throw new RuntimeError(
            `execution ${execution.id} has no task run of task "${taskId}"; it has: ${ids.join(', ') || 'none'}`,
            { code: 'NOT_FOUND' },
          )
        },
      }
    },
    async close() {
      await runtime.close()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}
