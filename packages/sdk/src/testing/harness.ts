import type { z } from 'zod'
import type { AnyCondition, AnyDefinition, AnyTask, AnyTrigger } from '../define.js'
import { parseDuration } from '../duration.js'
import { KiteError } from '../errors.js'
import type { MetricEntry } from '../host/run-context.js'
import { invokeCondition, invokeTask, invokeTrigger } from '../invoke.js'
import { propertiesJsonSchema } from '../json-schema.js'
import { renderProperties } from '../properties.js'
import {
  createTestContext,
  type LogEntry,
  type TestContext,
  type TestContextOptions,
} from './test-context.js'

export interface HarnessOptions extends TestContextOptions {
  /** ISO-8601 duration after which `ctx.signal` aborts and the run is failed. */
  timeout?: string
  /**
   * Run in this context instead of a new one, e.g. after putting input files into its storage
   * (`await context.ctx.storage.put('in.csv', text)` returns the URI to pass as a property).
   * The other context options are then ignored.
   */
  context?: TestContext
}

interface HarnessResult {
  logs: LogEntry[]
  metrics: MetricEntry[]
  /** The context the run used: KV, trigger state, storage (call `cleanup()` when done, or leave it to process exit). */
  context: TestContext
}

export interface TaskTestResult<O> extends HarnessResult {
  outputs: O
}

export interface TriggerTestResult<E> extends HarnessResult {
  events: E[]
}

export interface ConditionTestResult extends HarnessResult {
  result: boolean
}

/**
 * Runs one task in-process: renders `{{ }}` in `properties` against the given variables exactly
 * as the runtime does, validates them, runs the task and validates its outputs.
 *
 * @example
 * const { outputs, logs } = await runTask(fetch, { pokemon: '{{ inputs.name }}' }, { inputs: { name: 'gengar' } })
 */
export async function runTask<T extends AnyTask>(
  task: T,
  properties: Record<string, unknown> = {},
  options: HarnessOptions = {},
): Promise<TaskTestResult<z.output<T['outputs']>>> {
  const { value, ...run } = await invoke(task, properties, options, (rendered, ctx) =>
    invokeTask(task, rendered, ctx),
  )
  return { outputs: value as z.output<T['outputs']>, ...run }
}

/** Polls a trigger once; `options.state` seeds `ctx.state`, and `result.context.state` shows what it kept. */
export async function pollTrigger<T extends AnyTrigger>(
  trigger: T,
  properties: Record<string, unknown> = {},
  options: HarnessOptions = {},
): Promise<TriggerTestResult<z.output<T['outputs']>>> {
  const { value, ...run } = await invoke(trigger, properties, options, (rendered, ctx) =>
    invokeTrigger(trigger, rendered, ctx),
  )
  return { events: value as z.output<T['outputs']>[], ...run }
}

/** Tests a condition once. */
export async function testCondition(
  condition: AnyCondition,
  properties: Record<string, unknown> = {},
  options: HarnessOptions = {},
): Promise<ConditionTestResult> {
  const { value, ...run } = await invoke(condition, properties, options, (rendered, ctx) =>
    invokeCondition(condition, rendered, ctx),
  )
  return { result: value, ...run }
}

/** One run context several runs share; see {@link createSharedContext}. */
export interface SharedContext {
  context: TestContext
  /** Stores a file in the shared internal storage and returns its `kite:///` URI. */
  store(name: string, content: string | Uint8Array): Promise<string>
  /** Reads a stored file back as bytes. */
  read(uri: string): Promise<Uint8Array>
  /** Runs a task in the shared context (properties rendered as by `runTask`) and returns its outputs. */
  run<T extends AnyTask>(
    task: T,
    properties?: Record<string, unknown>,
    options?: Omit<HarnessOptions, 'context'>,
  ): Promise<z.output<T['outputs']>>
}

/**
 * A run context that several task runs share (`runTask` gives each run a fresh one), so a test
 * can store a file, hand its URI to a task, and read back what the task stored. Its temp dirs
 * are removed by `context.cleanup()`, or when the process exits.
 *
 * @example
 * const { store, run, read } = await createSharedContext()
 * const archived = await run(archive, { from: await store('a.txt', 'hi') })
 */
export async function createSharedContext(
  options: TestContextOptions = {},
): Promise<SharedContext> {
  const context = await createTestContext(options)
  return {
    context,
    store: (name, content) => context.ctx.storage.put(name, content),
    read: (uri) => context.ctx.storage.get(uri),
    run: async (task, properties = {}, runOptions = {}) =>
      (await runTask(task, properties, { ...runOptions, context })).outputs,
  }
}

/** Renders the properties as the runtime does, then runs the definition in its context. */
async function invoke<T>(
  definition: AnyDefinition,
  properties: Record<string, unknown>,
  options: HarnessOptions,
  call: (rendered: Record<string, unknown>, ctx: TestContext['ctx']) => Promise<T>,
): Promise<HarnessResult & { value: T }> {
  const context =
    options.context ?? (await createTestContext({ type: `test.${definition.name}`, ...options }))
  const rendered = renderProperties(
    properties,
    propertiesJsonSchema(definition.properties),
    context.render,
  )
  const value = await withTimeout(call(rendered, context.ctx), options.timeout, context)
  return { value, logs: context.logs, metrics: context.metrics, context }
}

async function withTimeout<T>(
  run: Promise<T>,
  timeout: string | undefined,
  context: TestContext,
): Promise<T> {
  if (timeout === undefined) return run
  const milliseconds = parseDuration(timeout)
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new KiteError(`timed out after ${timeout}`, { code: 'TIMEOUT', kind: 'user' })
      context.abort(error.message)
      reject(error)
    }, milliseconds)
  })
  try {
    return await Promise.race([run, expired])
  } finally {
    clearTimeout(timer)
  }
}
