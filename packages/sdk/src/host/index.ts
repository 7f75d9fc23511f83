/**
 * @kite/sdk/host — what a host of plugins needs (the runtime, the registry, tools): run a
 * definition the way every host does (`invoke*`), render its properties, build the expression
 * variables, read and write manifests, generate JSON Schema and docs, the flow's own keys, and
 * the one run context and secret masking every host (and `@kite/sdk/testing`) shares.
 *
 * The authoring API (`define*`, `z`, `KiteError`, the context types) is `@kite/sdk`.
 */
import '../meta.js'

export { isDefinition } from '../define.js'
export { exampleId, exampleYaml, renderPluginMarkdown, renderTypeMarkdown } from '../docs.js'
export { guardOutputs } from '../fetch.js'
export {
  FLOW_CONDITION_KEYS,
  FLOW_TASK_KEYS,
  FLOW_TRIGGER_KEYS,
  type FlowConditionKey,
  type FlowTaskKey,
  type FlowTriggerKey,
  reservedPropertyNames,
} from '../flow-keys.js'
export { invokeCondition, invokeTask, invokeTrigger, parseProperties } from '../invoke.js'
export {
  describeJsonType,
  type JsonSchema,
  outputsJsonSchema,
  propertiesJsonSchema,
} from '../json-schema.js'
export {
  ConditionManifest,
  type CreateManifestOptions,
  createManifest,
  findAliasedTask,
  listManifestTypes,
  MANIFEST_PATH,
  MANIFEST_VERSION,
  ManifestMigration,
  type ManifestPackage,
  PLUGIN_KEYWORD,
  PluginManifest,
  parseManifest,
  TaskManifest,
  TriggerManifest,
  type TypeKind,
  type TypeManifest,
} from '../manifest.js'
export { KITE_META_KEYS } from '../meta.js'
export { type MigrateOptions, type MigrateResult, migrateProperties } from '../migrate.js'
export {
  GROUP_PATTERN,
  NAME_PATTERN,
  PACKAGE_NAME_PATTERN,
  SEMVER_PATTERN,
  TYPE_ID_PATTERN,
  typeId,
} from '../names.js'
export { isPlainObject, renderProperties } from '../properties.js'
export { createRenderVariables, type RenderVariablesInput } from '../variables.js'
export { SDK_VERSION } from '../version.js'
export {
  createPluginRunContext,
  type HostRunContext,
  type MetricEntry,
  type RunServices,
} from './run-context.js'
export { createSecretMasker, MASK, maskSecrets } from './secrets.js'
