import { rm } from 'node:fs/promises'
import type { AnyDefinition, PluginDefinition } from '@kite/sdk'
import { invokeCondition, invokeTask, invokeTrigger } from '@kite/sdk/host'
import { RuntimeError } from '../errors.js'
import { runMigrations } from './migrate.js'
import { type InstalledPlugin, installedVersion, type PluginCatalog } from './plugin-catalog.js'
import {
  createPluginRunContext,
  type HostRequest,
  type MigrateRequest,
  type PluginHost,
} from './plugin-host.js'
import { importPluginModule } from './plugin-sources.js'

export interface InProcessHostOptions {
  catalog: PluginCatalog
}

/**
 * Runs plugin code in this thread. Timeouts and kills abort `ctx.signal` and stop waiting for the
 * task, but cannot stop code that ignores the signal: that needs the isolated host.
 */
export function createInProcessHost(options: InProcessHostOptions): PluginHost {
  const loaded = new Map<InstalledPlugin, Promise<PluginDefinition>>()

  const definitionFor = async (request: Pick<MigrateRequest, 'pin'>): Promise<AnyDefinition> => {
    const { pin } = request
    const plugin = installedVersion(options.catalog, pin)
    let definition = loaded.get(plugin)
    if (!definition) {
      definition =
        plugin.code.kind === 'definition'
          ? Promise.resolve(plugin.code.plugin)
          : importPluginModule(plugin)
      loaded.set(plugin, definition)
      definition.catch(() => loaded.delete(plugin))
    }
    const found = (await definition).find(pin.type)
    if (!found || found.kind !== pin.kind) {
      throw new RuntimeError(`${pin.package}@${pin.version} provides no ${pin.kind} ${pin.type}`, {
        code: 'PLUGIN_NOT_FOUND',
      })
    }
    return found
  }

  async function call<T>(
    request: HostRequest,
    invoke: (
      definition: AnyDefinition,
      ctx: ReturnType<typeof createPluginRunContext>,
    ) => Promise<T>,
  ): Promise<T> {
    const label = `${request.pin.kind} "${request.context.task.id}"`
    // Without a timeout, the caller's signal is the task's: no controller of its own to create.
    const controller = request.timeoutMs === undefined ? undefined : new AbortController()
    const signal = controller ? controller.signal : request.signal
    let timer: NodeJS.Timeout | undefined
    let onAbort: (() => void) | undefined
    const stopped = new Promise<never>((_, reject) => {
      const stop = (error: RuntimeError) => {
        controller?.abort(error)
        reject(error)
      }
      onAbort = () =>
        stop(new RuntimeError(`${label}: killed`, { code: 'TASK_KILLED', kind: 'user' }))
      if (request.signal.aborted) onAbort()
      else request.signal.addEventListener('abort', onAbort, { once: true })
      if (request.timeoutMs !== undefined) {
        timer = setTimeout(
          () =>
            stop(
              new RuntimeError(`${label}: timed out after ${formatMs(request.timeoutMs ?? 0)}`, {
                code: 'TASK_TIMEOUT',
              }),
            ),
          request.timeoutMs,
        )
      }
    })
    // The race may end with the timeout while the code goes on; its late rejection is not news.
    stopped.catch(() => {})
    let madeWorkingDir = false
    const ctx = createPluginRunContext(request.context, signal, () => {
      madeWorkingDir = true
    })
    try {
      const definition = await definitionFor(request)
      const running = invoke(definition, ctx)
      running.catch(() => {})
      return await Promise.race([running, stopped])
    } finally {
      clearTimeout(timer)
      if (onAbort) request.signal.removeEventListener('abort', onAbort)
      if (madeWorkingDir) {
        await rm(request.context.workingDir, { recursive: true, force: true }).catch(() => {})
      }
    }
  }

  return {
    runTask: (request) =>
      call(request, (definition, ctx) =>
        definition.kind === 'task'
          ? invokeTask(definition, request.properties, ctx)
          : Promise.reject(wrongKind(definition.kind, 'task')),
      ),
    pollTrigger: (request) =>
      call(request, (definition, ctx) =>
        definition.kind === 'trigger'
          ? invokeTrigger(definition, request.properties, ctx)
          : Promise.reject(wrongKind(definition.kind, 'trigger')),
      ),
    testCondition: (request) =>
      call(request, (definition, ctx) =>
        definition.kind === 'condition'
          ? invokeCondition(definition, request.properties, ctx)
          : Promise.reject(wrongKind(definition.kind, 'condition')),
      ),
    migrate: async (request: MigrateRequest) => {
      const definition = await definitionFor(request)
      return runMigrations(definition, request)
    },
    async close() {
      loaded.clear()
    },
  }
}

function wrongKind(actual: string, expected: string): RuntimeError {
  return new RuntimeError(`expected a ${expected}, found a ${actual}`, {
    code: 'INTERNAL',
    kind: 'internal',
  })
}

/** `1500` → `1.5 s`, `250` → `250 ms`. */
export function formatMs(ms: number): string {
  return ms >= 1000 ? `${Number((ms / 1000).toFixed(3))} s` : `${ms} ms`
}
