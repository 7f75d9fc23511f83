import type { LogLevel } from '@kite/sdk'
import { parseDuration } from '@kite/sdk'
import type { MetricEntry, RunServices } from '../plugins/plugin-host.js'
import { defaultTarget, type InternalStorageService } from '../storage/internal-storage.js'
import type { Store } from '../storage/store.js'
import type { SecretProvider } from './secrets.js'

export interface RunServicesOptions {
  store: Store
  storage: InternalStorageService
  secrets: SecretProvider
  namespace: string
  /** URI prefix of the files this run stores: `<namespace>/<flow>/executions/<id>/<task>`. */
  storagePrefix: string
  workingDir: string
  /** Writes a log line of the run (the caller masks secrets and applies the task's log level). */
  log: (level: LogLevel, message: string) => void
  /** Renders a template against the run's variables. */
  render: (template: string, vars?: Record<string, unknown>) => string
  metrics: MetricEntry[]
  /** For triggers: where `ctx.state` lives. */
  triggerState?: { flowId: string; triggerId: string }
}

/** The host-side services of one task run attempt, over the runtime's store and storage. */
export function createRunServices(options: RunServicesOptions): RunServices {
  const { store, storage, namespace } = options
  const noState = async (): Promise<never> => {
    throw new Error('ctx.state is only available to triggers')
  }
  const state = options.triggerState
  return {
    log: async (level, message) => options.log(level, message),
    render: async (template, vars) => options.render(template, vars),
    secret: async (name) => options.secrets.get(name),
    kvGet: (key) => store.kvGet(namespace, key),
    kvSet: (key, value, ttl) =>
      store.kvSet(
        namespace,
        key,
        value,
        ttl === undefined ? undefined : Date.now() + parseDuration(ttl),
      ),
    kvDelete: (key) => store.kvDelete(namespace, key),
    kvKeys: (prefix) => store.kvKeys(namespace, prefix),
    storagePut: (name, data) => storage.put(options.storagePrefix, name, data),
    storagePutFile: (name, path) => storage.putFile(options.storagePrefix, name, path),
    storageGet: (uri) => storage.get(uri),
    storageGetFile: (uri, path) =>
      storage.getFile(uri, path ?? defaultTarget(options.workingDir, uri)),
    metric: async (entry) => {
      options.metrics.push(entry)
    },
    stateGet: state
      ? (key) => store.triggerStateGet(namespace, state.flowId, state.triggerId, key)
      : noState,
    stateSet: state
      ? (key, value) => store.triggerStateSet(namespace, state.flowId, state.triggerId, key, value)
      : noState,
  }
}
