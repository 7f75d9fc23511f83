/**
 * @kite/sdk/testing — run one task, poll one trigger or test one condition in-process, with a real
 * run context: captured logs, internal storage and a working directory in a temp dir, an in-memory
 * KV store, given secrets and variables, and properties rendered exactly as the runtime renders them.
 */

export type { MetricEntry } from '../host/run-context.js'
export { type BundleRunOptions, type BundleRunResult, runBundle } from './bundle.js'
export {
  type ConditionTestResult,
  createSharedContext,
  type HarnessOptions,
  pollTrigger,
  runTask,
  type SharedContext,
  type TaskTestResult,
  type TriggerTestResult,
  testCondition,
} from './harness.js'
export {
  createTestContext,
  type LogEntry,
  type TestContext,
  type TestContextOptions,
} from './test-context.js'
