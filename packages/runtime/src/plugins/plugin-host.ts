import type { HostRunContext, MigrateResult } from '@kite/sdk/host'
import type { PluginPin } from './plugin-resolver.js'

// The run context and its services are the SDK's (one implementation for every host and for
// @kite/sdk/testing); the runtime's modules keep importing them from here.
export {
  createPluginRunContext,
  type HostRunContext,
  type MetricEntry,
  type RunServices,
} from '@kite/sdk/host'

/** One call into plugin code. */
export interface HostRequest {
  /** The exact version to run (from the execution's resolved set). */
  pin: PluginPin
  /** Rendered properties; the host validates them against the type's schema. */
  properties: Record<string, unknown>
  context: HostRunContext
  /** Aborts the call (execution killed). */
  signal: AbortSignal
  /** Fails the call with TASK_TIMEOUT after this many milliseconds. */
  timeoutMs?: number
  /**
   * When the thread running this call ends because of ANOTHER call on it (that call's timeout or
   * kill: the thread is terminated to really stop its code): `'resubmit'` (default) runs this call
   * again on a fresh thread, up to 3 times; `'reject'` rejects it at once with a RuntimeError
   * `WORKER_LOST` (kind `operational`), for a caller that resubmits through its own queue and
   * records the lost attempt. The code may thus run twice: tasks are at-least-once.
   */
  onWorkerLost?: 'resubmit' | 'reject'
}

/** Migrating one task's (trigger's, condition's) raw properties to a target version. */
export interface MigrateRequest {
  /** The target version and type (its migrations run). */
  pin: Pick<PluginPin, 'type' | 'kind' | 'package' | 'version'>
  /** The version the properties were written for. */
  fromVersion: string
  /** Raw properties as the flow has them (expressions not rendered). */
  properties: Record<string, unknown>
  /** Names the thing in errors, e.g. `flow "a.b/hello", task "greet"`. */
  label: string
}

/**
 * Runs plugin code. The in-process host runs definitions in this thread; the worker host runs
 * them isolated (a worker thread per plugin version) behind the same interface. Every method
 * validates properties, runs the code, validates its result, and rejects with TASK_TIMEOUT or
 * TASK_KILLED when the timeout passes or the signal fires.
 */
export interface PluginHost {
  runTask(request: HostRequest): Promise<Record<string, unknown>>
  pollTrigger(request: HostRequest): Promise<Record<string, unknown>[]>
  testCondition(request: HostRequest): Promise<boolean>
  /** Runs the target version's migrations that apply (the worker host: in that version's thread). */
  migrate(request: MigrateRequest): Promise<MigrateResult>
  /**
   * Gets ready for a version's first call ahead of it (the worker host starts its spare sandbox
   * process or thread): called when installed bundles are found at start and when an install
   * begins. Optional: a host with nothing to start ahead leaves it out.
   */
  prepare?(): void
  close(): Promise<void>
}
