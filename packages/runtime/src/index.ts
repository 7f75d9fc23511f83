/**
 * @kite/runtime — runs Kite flows: parses and validates them against the plugin version each
 * task resolves to, executes them write-through to an embedded SQLite store, and serves the
 * HTTP API of SPEC section 6.
 */
export { type ApiOptions, createApi, DEFAULT_BODY_LIMIT, type KiteApp } from './api/app.js'
export { CSRF_HEADER, SESSION_COOKIE } from './api/auth-middleware.js'
export { createOpenApiDocument } from './api/openapi.js'
export { API_PREFIX } from './api/routes.js'
export type {
  ErrorBody,
  Execution as ExecutionJson,
  ExecutionSummary as ExecutionSummaryJson,
  Flow as FlowJson,
  LogEntry as LogEntryJson,
} from './api/schemas.js'
export { createServer, isLoopback, type KiteServer, type ServerOptions } from './api/server.js'
export {
  type AuthService,
  type AuthServiceOptions,
  createAuthService,
  type Principal,
  USER_NAME_PATTERN,
  type UserInfo,
} from './auth/auth-service.js'
export type { LoginLimits } from './auth/login-limiter.js'
export { randomPassword } from './auth/passwords.js'
export {
  InstanceConfig,
  type InstanceConfigInput,
  loadConfig,
  namespaceDefaults,
  parseConfig,
} from './config.js'
export {
  type ErrorKind,
  formatValidationIssues,
  isRuntimeError,
  RuntimeError,
  type RuntimeErrorCode,
  type RuntimeErrorOptions,
  type ValidationIssue,
} from './errors.js'
export {
  createEngine,
  type Engine,
  type EngineOptions,
  NODE_ROLES,
  type NodeRole,
  type ReplayOptions,
  type RuntimeLogger,
  type SavedFlow,
  type StartRequest,
  silentLogger,
  type WaitOptions,
} from './executor/engine.js'
export type {
  Execution,
  ExecutionParent,
  ExecutionPlugin,
  ExecutionState,
  ExecutionSummary,
  ExecutionTrigger,
  LogEntry,
  ReplayOf,
  StateInfo,
  TaskRun,
  TaskRunAttempt,
  TaskRunState,
} from './executor/execution-model.js'
export { TERMINAL_EXECUTION_STATES, TERMINAL_TASK_RUN_STATES } from './executor/execution-model.js'
export type { EngineEvent } from './executor/execution-runner.js'
export { coerceInput, resolveInputs, UploadedFile } from './executor/inputs.js'
export { decideRetry, type RetryDecision, retryDelay } from './executor/retry.js'
export { createEnvSecrets, MASK, maskSecrets, type SecretProvider } from './executor/secrets.js'
export { checkFlowExpressions, type ExpressionProblem } from './flow/expression-checker.js'
export { flowJsonSchema, type SchemaTypeVersion, schemaTypesOf } from './flow/flow-json-schema.js'
export * from './flow/flow-model.js'
export { FLOW_ID_PATTERN, NAMESPACE_PATTERN, TASK_ID_PATTERN } from './flow/flow-schema.js'
export { formatPath, parseFlow } from './flow/parse-flow.js'
export { checkProperties } from './flow/property-validator.js'
export {
  type PreparedTask,
  type PreparedTrigger,
  pinsOf,
  type ValidatedFlow,
  type ValidateFlowOptions,
  validateFlow,
} from './flow/validate-flow.js'
export { createInProcessHost, type InProcessHostOptions } from './plugins/in-process-host.js'
export {
  createPluginCatalog,
  type InstalledPlugin,
  type MutablePluginCatalog,
  type PluginCatalog,
  type PluginCode,
  type ProvidedType,
} from './plugins/plugin-catalog.js'
export { applyPluginDefaults, type DefaultsLevel } from './plugins/plugin-defaults.js'
export {
  createPluginRunContext,
  type HostRequest,
  type HostRunContext,
  type MetricEntry,
  type PluginHost,
  type RunServices,
} from './plugins/plugin-host.js'
export {
  createPluginResolver,
  type PluginPin,
  type PluginResolver,
  type PluginResolverOptions,
  type ResolvedPlugin,
  type ResolveRequest,
} from './plugins/plugin-resolver.js'
export { isPluginAllowed, type PluginSecurity } from './plugins/plugin-security.js'
export {
  definePluginVersion,
  importPluginModule,
  type LoadPluginDirectoryOptions,
  loadPluginDirectory,
  type PluginDirectoryWatch,
  type PluginVersionOptions,
  type WatchPluginDirectoryOptions,
  watchPluginDirectory,
} from './plugins/plugin-sources.js'
export { type PluginSpec, parsePluginSpec } from './plugins/plugin-spec.js'
export {
  createPluginStore,
  type InstallResult,
  type PluginStore,
  type PluginStoreOptions,
  type RegistryPackage,
} from './plugins/plugin-store.js'
export { createPluginSync, type PluginSync, type PluginSyncOptions } from './plugins/plugin-sync.js'
export { createPluginSystem, type PluginSystem } from './plugins/plugin-system.js'
export {
  CORE_GROUP,
  type DecidedBy,
  decideVersionSpec,
  defaultsApply,
  type NamespaceDefaults,
  type ParsedVersionSpec,
  parseVersionSpec,
  resolveVersion,
  selectVersion,
  type VersionDecision,
  type VersionLevels,
  type VersionResolution,
} from './plugins/version-resolver.js'
export { createWorkerHost, type WorkerHost, type WorkerHostOptions } from './plugins/worker-host.js'
export {
  createFlowValidator,
  createRuntime,
  type FlowValidator,
  loadFlowsDirectory,
  type Runtime,
  type RuntimeOptions,
} from './runtime.js'
export {
  createScheduler,
  type Scheduler,
  type SchedulerOptions,
  type TriggerInfo,
  type WebhookRequest,
} from './scheduler/scheduler.js'
export type { AuthStore, StoredToken, UserRole } from './storage/auth-store.js'
export {
  createInternalStorage,
  executionPrefix,
  type InternalStorageService,
  STORAGE_SCHEME,
} from './storage/internal-storage.js'
export {
  createPostgresStore,
  type PostgresStoreOptions,
  redactStoreUrl,
} from './storage/postgres-store.js'
export { createSqliteStore, type SqliteStoreOptions } from './storage/sqlite-store.js'
export type {
  ClusterPlugin,
  Commit,
  ExecutionFilter,
  Lease,
  LogQuery,
  NodeRecord,
  Page,
  SaveFlowResult,
  Store,
  StoredFlow,
  StoredLogEntry,
  TriggerStateRow,
} from './storage/store.js'
