import { messageOf } from '../errors.js'
import type { RuntimeLogger } from '../executor/engine.js'
import type { Store } from '../storage/store.js'
import type { PluginCatalog } from './plugin-catalog.js'
import type { PluginStore } from './plugin-store.js'

export interface ClusterPluginsOptions {
  /** The shared store, where the cluster's installed set is recorded. */
  store: Store
  /** This node's plugin store (it installs from the registry, integrity checked). */
  plugins: PluginStore
  catalog: PluginCatalog
  logger: RuntimeLogger
  /** How often the recorded set is read (default 2 s). */
  pollMs?: number
}

export interface ClusterPlugins {
  /** The plugin store to use: installs and uninstalls through it are recorded for the cluster. */
  readonly pluginStore: PluginStore
  /** Brings this node to the recorded set now. */
  reconcile(): Promise<void>
  close(): Promise<void>
}

/**
 * One installed plugin set per cluster (SPEC 9): an install or uninstall through any api is
 * recorded in the store, and every node materializes the recorded set from the registry into its
 * own plugin store, reading it again every `pollMs`.
 */
export async function followClusterPlugins(
  options: ClusterPluginsOptions,
): Promise<ClusterPlugins> {
  const { store, plugins, catalog, logger } = options
  let closed = false
  let reconciling: Promise<void> | undefined

  const reconcileOnce = async () => {
    for (const entry of await store.listClusterPlugins()) {
      if (closed) return
      const here = catalog.get(entry.name, entry.version)
      try {
        if (entry.installed && !here) await plugins.install(entry.name, entry.version)
        else if (!entry.installed && here) await plugins.uninstall(entry.name, entry.version)
      } catch (error) {
        logger.error(
          `cluster plugins: cannot ${entry.installed ? 'install' : 'uninstall'} ${entry.name}@${entry.version}: ${messageOf(error)}`,
        )
      }
    }
  }
  const reconcile = () => {
    reconciling ??= reconcileOnce()
      .catch((error: unknown) => {
        if (!closed) logger.warn(`cluster plugins: cannot read the set: ${messageOf(error)}`)
      })
      .finally(() => {
        reconciling = undefined
      })
    return reconciling
  }

  const pluginStore: PluginStore = {
    ...plugins,
    async install(name, spec, installOptions) {
      const result = await plugins.install(name, spec, installOptions)
      await store.setClusterPlugin(result.plugin.name, result.plugin.version, true)
      return result
    },
    async uninstall(name, version) {
      const removed = await plugins.uninstall(name, version)
      await store.setClusterPlugin(name, version, false)
      return removed
    },
  }

  await reconcile()
  const timer = setInterval(() => void reconcile(), options.pollMs ?? 2000)
  timer.unref()
  return {
    pluginStore,
    reconcile,
    async close() {
      closed = true
      clearInterval(timer)
      await reconciling
    },
  }
}
