import type { RuntimeErrorCode, ValidationIssue } from '../errors.js'
import { isRuntimeError, messageOf } from '../errors.js'
import type { Engine, RuntimeLogger } from '../executor/engine.js'
import type { PluginCatalog } from '../plugins/plugin-catalog.js'

/** Resolution codes that an install from the registry can cure. */
const MISSING_PLUGIN: ReadonlySet<RuntimeErrorCode> = new Set([
  'PLUGIN_NOT_FOUND',
  'PLUGIN_VERSION',
])

/** True when every problem of a failed save is a plugin (or version) not installed yet. */
export function waitsForPlugins(error: unknown): boolean {
  return (
    isRuntimeError(error) &&
    error.issues.length > 0 &&
    error.issues.every((issue) => issue.code !== undefined && MISSING_PLUGIN.has(issue.code))
  )
}

/** A flow file that validated except for plugins not installed yet. */
export interface PendingFlow {
  /** The file, for messages. */
  name: string
  source: string
  issues: ValidationIssue[]
}

export interface PendingFlows {
  /** Files still waiting for their plugins. */
  names(): string[]
  /** Resolves once every pending flow is saved or given up on. */
  readonly done: Promise<void>
  close(): void
}

/**
 * Saves flows whose plugins were not installed yet (a `--flows` directory on an empty data dir
 * that installs its plugins from the registry): each time the catalog changes, the waiting flows
 * are saved again; one that now fails for another reason is reported and dropped.
 */
export function watchPendingFlows(options: {
  engine: Engine
  catalog: PluginCatalog
  logger: RuntimeLogger
  flows: PendingFlow[]
  /** How often the catalog's generation is checked (default 200 ms). */
  intervalMs?: number
}): PendingFlows {
  const { engine, catalog, logger } = options
  const pending = new Map(options.flows.map((flow) => [flow.name, flow]))
  for (const flow of pending.values()) {
    logger.warn(
      `flow file ${flow.name} waits for its plugins: ${flow.issues.map((issue) => issue.message).join('; ')}`,
    )
  }
  let finish: () => void = () => {}
  const done = new Promise<void>((resolve) => {
    finish = resolve
  })
  let seen = catalog.generation
  let busy = false
  let timer: NodeJS.Timeout | undefined
  const stop = () => {
    clearInterval(timer)
    timer = undefined
    finish()
  }
  const retry = async () => {
    if (busy || catalog.generation === seen) return
    busy = true
    seen = catalog.generation
    try {
      for (const flow of [...pending.values()]) {
        try {
          const saved = await engine.saveFlow(flow.source)
          pending.delete(flow.name)
          logger.info(
            `flow ${saved.flow.namespace}/${saved.flow.id} saved from ${flow.name}: its plugins are installed`,
          )
        } catch (error) {
          if (waitsForPlugins(error)) continue
          pending.delete(flow.name)
          logger.error(`flow file ${flow.name} cannot be saved: ${messageOf(error)}`)
        }
      }
    } finally {
      busy = false
      if (pending.size === 0) stop()
    }
  }
  if (pending.size === 0) finish()
  else {
    timer = setInterval(() => void retry(), options.intervalMs ?? 200)
    timer.unref()
  }
  return {
    names: () => [...pending.keys()],
    done,
    close: stop,
  }
}
