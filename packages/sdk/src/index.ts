/**
 * @kite/sdk — what a plugin author needs: define tasks, triggers and conditions with zod schemas,
 * the run context's types, `KiteError`, and the property patterns many plugins share.
 *
 * Hosts (the runtime, the registry, tools) import `@kite/sdk/host`; the `kite-plugin build`
 * command is `@kite/sdk/build`; plugin tests use `@kite/sdk/testing`.
 */
import { z } from 'zod'
import './meta.js'

export type {
  ConditionContext,
  ExecutionInfo,
  InternalStorage,
  KeyValueStore,
  Logger,
  LogLevel,
  Metrics,
  RunContext,
  TaskInfo,
  TaskRunInfo,
  TriggerContext,
  TriggerState,
} from './context.js'
export {
  type AnyCondition,
  type AnyDefinition,
  type AnyTask,
  type AnyTrigger,
  type ConditionDefinition,
  type ConditionSpec,
  type DefinitionKind,
  defineCondition,
  definePlugin,
  defineTask,
  defineTrigger,
  type Example,
  type Migration,
  type NoOutputs,
  type OutputsSchema,
  type PluginDefinition,
  type PluginSpec,
  type PropertiesSchema,
  type TaskDefinition,
  type TaskResult,
  type TaskSpec,
  type TriggerDefinition,
  type TriggerSpec,
} from './define.js'
export { isDuration, parseDuration } from './duration.js'
export {
  type ErrorKind,
  formatIssues,
  isKiteError,
  KiteError,
  type KiteErrorCode,
  type KiteErrorOptions,
} from './errors.js'
export {
  FetchType,
  fetchOutputs,
  fetchTypeProperty,
  pagingProperties,
  toFetchOutputs,
} from './fetch.js'
export { type KiteMeta, kiteMeta } from './meta.js'
export {
  isEmptyPermissions,
  PermissionEnvName,
  PermissionPath,
  PluginPermissions,
} from './permissions.js'
export {
  EXECUTION_STATES,
  type ExecutionState,
  TASK_RUN_STATES,
  type TaskRunState,
  TERMINAL_EXECUTION_STATES,
  TERMINAL_TASK_RUN_STATES,
} from './states.js'
export { z }
