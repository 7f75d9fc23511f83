import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseDuration, z } from '@kite/sdk'
import type { InstanceConfig } from '../config.js'
import { messageOf, RuntimeError } from '../errors.js'
import type { RuntimeLogger } from '../executor/engine.js'
import type { PluginDefaultEntry } from '../flow/flow-model.js'
import { PluginDefaultSchema } from '../flow/flow-schema.js'
import type { MutablePluginCatalog } from './plugin-catalog.js'
import { createPluginStore, type PluginStore } from './plugin-store.js'
import { createPluginSync, type PluginSync } from './plugin-sync.js'

export interface PluginSystemOptions {
  dataDir: string
  /** Registry URL; defaults to `plugins.registry` of the configuration. */
  registry?: string
  catalog: MutablePluginCatalog
  config: InstanceConfig
  logger: RuntimeLogger
  /** See `PluginStoreOptions.onInstallStart`. */
  onInstallStart?: (name: string) => void
}

/** The registry-backed side of the runtime's plugins: store, sync, namespace defaults. */
export interface PluginSystem {
  store: PluginStore
  /** Present when a registry is configured. */
  sync?: PluginSync
  /** Namespace plugin defaults set through the API (they override `kite.yaml` for that namespace). */
  getNamespaceDefaults(namespace: string): PluginDefaultEntry[]
  setNamespaceDefaults(namespace: string, defaults: unknown): Promise<PluginDefaultEntry[]>
  close(): Promise<void>
}

const NamespaceDefaultsFile = z.record(z.string(), z.array(PluginDefaultSchema))

/**
 * Opens the plugin store under `<data>/plugins`, loads what it holds into the catalog and, with
 * a registry, starts following it. Namespace defaults written through the API live in
 * `<data>/plugins/namespace-defaults.json` and are applied over the configuration.
 */
export async function createPluginSystem(options: PluginSystemOptions): Promise<PluginSystem> {
  const { config, catalog, logger } = options
  const dir = join(options.dataDir, 'plugins')
  await mkdir(dir, { recursive: true })
  const registry = options.registry ?? config.plugins.registry
  const store = createPluginStore({
    dir,
    ...(registry ? { registry } : {}),
    catalog,
    security: config.plugins.security,
    limits: config.plugins.limits,
    permissions: {
      grants: config.plugins.permissions,
      configurations: config.plugins.configurations,
    },
    logger,
    onInstallStart: options.onInstallStart,
  })
  await store.load()
  const defaultsFile = join(dir, 'namespace-defaults.json')
  let saved: Record<string, PluginDefaultEntry[]> = {}
  try {
    saved = NamespaceDefaultsFile.parse(JSON.parse(await readFile(defaultsFile, 'utf8'))) as Record<
      string,
      PluginDefaultEntry[]
    >
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOENT') {
      logger.error(`cannot read ${defaultsFile}: ${messageOf(error)}`)
    }
  }
  for (const [namespace, defaults] of Object.entries(saved)) {
    config.namespaces[namespace] = { pluginDefaults: defaults }
  }
  const sync = registry
    ? createPluginSync({
        store,
        catalog,
        mode: config.plugins.sync,
        reconcileMs: parseDuration(config.plugins.reconcileInterval),
        logger,
      })
    : undefined
  return {
    store,
    ...(sync ? { sync } : {}),
    getNamespaceDefaults: (namespace) =>
      (config.namespaces[namespace]?.pluginDefaults ?? []) as PluginDefaultEntry[],
    async setNamespaceDefaults(namespace, value) {
      const parsed = z.array(PluginDefaultSchema).safeParse(value)
      if (!parsed.success) {
        throw new RuntimeError(
          `plugin defaults of namespace ${namespace}: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ')}`,
          { code: 'REQUEST_INVALID' },
        )
      }
      const defaults = parsed.data as PluginDefaultEntry[]
      saved[namespace] = defaults
      const temp = `${defaultsFile}.tmp`
      await writeFile(temp, JSON.stringify(saved, null, 2))
      await rename(temp, defaultsFile)
      config.namespaces[namespace] = { pluginDefaults: defaults }
      // Flows validated under the old defaults must resolve again.
      catalog.touch()
      return defaults
    },
    async close() {
      await sync?.close()
    },
  }
}
