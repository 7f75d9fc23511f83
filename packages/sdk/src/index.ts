/**
 * @kite/sdk — the contracts of Kite plugins: define tasks, triggers and conditions with zod
 * schemas; generate JSON Schema, Markdown docs and the plugin manifest; run definitions the way
 * every Kite host does.
 */
import { z } from 'zod'

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
  isDefinition,
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
export { renderPluginMarkdown, renderTypeMarkdown } from './docs.js'
export { isDuration, parseDuration } from './duration.js'
export {
  type ErrorKind,
  formatIssues,
  isKiteError,
  KiteError,
  type KiteErrorCode,
  type KiteErrorOptions,
} from './errors.js'
export { FLOW_CONDITION_KEYS, FLOW_TASK_KEYS, validateExamples } from './examples.js'
export {
  FetchType,
  fetchOutputs,
  fetchTypeProperty,
  guardOutputs,
  pagingProperties,
  toFetchOutputs,
} from './fetch.js'
export { invokeCondition, invokeTask, invokeTrigger, parseProperties } from './invoke.js'
export {
  describeJsonType,
  type JsonSchema,
  outputsJsonSchema,
  propertiesJsonSchema,
} from './json-schema.js'
export {
  ConditionManifest,
  type CreateManifestOptions,
  createManifest,
  listManifestTypes,
  MANIFEST_PATH,
  MANIFEST_VERSION,
  type ManifestPackage,
  PLUGIN_KEYWORD,
  PluginManifest,
  parseManifest,
  TaskManifest,
  TriggerManifest,
  type TypeKind,
  type TypeManifest,
} from './manifest.js'
export {
  GROUP_PATTERN,
  NAME_PATTERN,
  PACKAGE_NAME_PATTERN,
  SEMVER_PATTERN,
  typeId,
} from './names.js'
export { isPlainObject, renderProperties } from './properties.js'
export {
  EXECUTION_STATES,
  type ExecutionState,
  TASK_RUN_STATES,
  type TaskRunState,
  TERMINAL_EXECUTION_STATES,
  TERMINAL_TASK_RUN_STATES,
} from './states.js'
export { createRenderVariables, type RenderVariablesInput } from './variables.js'
export { SDK_VERSION } from './version.js'
export { z }
