/**
 * @kite/client — a typed client for the Kite runtime's HTTP API, for your own code and the
 * `kite` CLI.
 */
export {
  type ApiToken,
  type Cluster,
  type ClusterNode,
  type CreatedToken,
  createKiteClient,
  type Execution,
  type ExecutionPage,
  type ExecutionState,
  type Flow,
  type FlowRevision,
  type FlowValidation,
  type FollowEvent,
  type Health,
  type KiteClient,
  type KiteClientOptions,
  type ListExecutionsOptions,
  type LogEntry,
  type Me,
  type PluginDefaults,
  type PluginInstallResult,
  type PluginList,
  type PluginResolveResult,
  type PluginUninstallResult,
  type ReplayOptions,
  type StartOptions,
  type TaskRun,
  type Trigger,
  type TriggerList,
  type User,
  type UserRole,
} from './client.js'
export {
  type ClientErrorKind,
  type ClientIssue,
  isKiteClientError,
  KiteClientError,
  type KiteClientErrorOptions,
} from './errors.js'
