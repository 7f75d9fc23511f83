import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type EventSourceMessage, EventSourceParserStream } from 'eventsource-parser/stream'
import semver from 'semver'
import { messageOf } from '../errors.js'
import type { RuntimeLogger } from '../executor/engine.js'
import type { PluginCatalog } from './plugin-catalog.js'
import type { PluginStore } from './plugin-store.js'

export interface PluginSyncOptions {
  store: PluginStore
  catalog: PluginCatalog
  /** `all`: install every published version of an allowed plugin; `manual`: only note it. */
  mode: 'all' | 'manual'
  /** Catalog reconciliation interval in milliseconds (default 30 000). */
  reconcileMs?: number
  logger: RuntimeLogger
  /** Longest wait between reconnections to the event stream (default 5 000 ms). */
  maxBackoffMs?: number
}

/** Hot reload (SPEC 6): follows the registry's events and reconciles with its catalog. */
export interface PluginSync {
  /** Newest version the registry has, per package name (for "update available"). */
  latest(name: string): string | undefined
  /** Resolves after the first reconciliation (successful or not). */
  readonly ready: Promise<void>
  /** Whether the event stream is connected. */
  connected(): boolean
  /** Reconciles now. */
  reconcile(): Promise<void>
  close(): Promise<void>
}

interface SyncState {
  lastEventId?: string
}

interface PublishedEvent {
  name: string
  version: string
  /** The catalog's hash of the version's manifest bytes; the store installs only that manifest. */
  manifestHash?: string
}

/**
 * Follows `/-/kite/api/v1/events` (reconnecting with backoff and `Last-Event-ID`, the last id
 * persisted in `<store>/sync.json`) and reconciles with the catalog API every `reconcileMs`, so
 * a missed event is caught. Installation itself stays on the npm protocol (the store).
 */
export function createPluginSync(options: PluginSyncOptions): PluginSync {
  const { store, logger } = options
  const registry = (store.registry ?? '').replace(/\/$/, '')
  const api = `${registry}/-/kite/api/v1`
  const stateFile = join(store.dir, 'sync.json')
  const latest = new Map<string, string>()
  const abort = new AbortController()
  let state: SyncState = {}
  let isConnected = false
  let timer: NodeJS.Timeout | undefined
  let reconciling: Promise<void> | undefined

  const saveState = async () => {
    const temp = `${stateFile}.${process.pid}.tmp`
    await writeFile(temp, JSON.stringify(state))
    await rename(temp, stateFile)
  }

  const note = (name: string, version: string) => {
    const known = latest.get(name)
    if (!semver.prerelease(version) && (!known || semver.gt(version, known))) {
      latest.set(name, version)
    }
  }

  const consider = async (name: string, version: string, manifestHash?: string) => {
    note(name, version)
    if (options.mode !== 'all' || !store.isAllowed(name)) return
    if (options.catalog.get(name, version)) return
    try {
      await store.install(name, version, manifestHash ? { manifestHash } : {})
    } catch (error) {
      logger.error(`plugin sync: cannot install ${name}@${version}: ${messageOf(error)}`)
    }
  }

  const getJson = async <T>(url: string): Promise<T> => {
    const response = await fetch(url, { signal: abort.signal })
    if (!response.ok) throw new Error(`${url} answered ${response.status}`)
    return (await response.json()) as T
  }

  const reconcileOnce = async () => {
    const names: string[] = []
    for (let page = 1; ; page++) {
      const found = await getJson<{ results: { name: string }[]; total: number; size: number }>(
        `${api}/plugins?page=${page}&size=100`,
      )
      names.push(...found.results.map((item) => item.name))
      if (found.results.length === 0 || names.length >= found.total) break
    }
    for (const name of names) {
      if (abort.signal.aborted) return
      if (!store.isAllowed(name)) continue
      if (options.mode === 'manual' && options.catalog.versionsOf(name).length === 0) continue
      const detail = await getJson<{ versions: { version: string; manifestHash?: string }[] }>(
        `${api}/plugins/${encodeURIComponent(name).replace('%40', '@')}`,
      )
      for (const { version, manifestHash } of detail.versions) {
        await consider(name, version, manifestHash)
      }
    }
  }

  const reconcile = () => {
    reconciling ??= reconcileOnce()
      .catch((error: unknown) => {
        if (!abort.signal.aborted)
          logger.warn(`plugin sync: reconciling failed: ${messageOf(error)}`)
      })
      .finally(() => {
        reconciling = undefined
      })
    return reconciling
  }

  const follow = async () => {
    let backoff = 100
    while (!abort.signal.aborted) {
      try {
        const headers: Record<string, string> = { accept: 'text/event-stream' }
        if (state.lastEventId) headers['last-event-id'] = state.lastEventId
        const response = await fetch(`${api}/events`, { headers, signal: abort.signal })
        if (!response.ok || !response.body)
          throw new Error(`the event stream answered ${response.status}`)
        isConnected = true
        backoff = 100
        const events = response.body
          .pipeThrough(new TextDecoderStream())
          .pipeThrough(new EventSourceParserStream())
        for await (const message of events) await handle(message)
        throw new Error('the event stream ended')
      } catch (error) {
        isConnected = false
        if (abort.signal.aborted) return
        logger.warn(
          `plugin sync: event stream lost (${messageOf(error)}); retrying in ${backoff} ms`,
        )
        await new Promise((resolve) => setTimeout(resolve, backoff))
        backoff = Math.min(backoff * 2, options.maxBackoffMs ?? 5000)
      }
    }
  }

  const handle = async ({ id, event, data }: EventSourceMessage) => {
    if (event === 'published' && data) {
      let payload: PublishedEvent | undefined
      try {
        payload = JSON.parse(data) as PublishedEvent
      } catch {
        logger.warn(
          `plugin sync: skipped a published event whose data is not JSON: ${data.slice(0, 200)}`,
        )
      }
      if (payload) await consider(payload.name, payload.version, payload.manifestHash)
    }
    if (id) {
      state.lastEventId = id
      await saveState().catch((error: unknown) =>
        logger.warn(`plugin sync: cannot save ${stateFile}: ${messageOf(error)}`),
      )
    }
  }

  const ready = (async () => {
    state = await readFile(stateFile, 'utf8')
      .then((text) => JSON.parse(text) as SyncState)
      .catch(() => ({}))
    void follow()
    await reconcile()
    const schedule = () => {
      timer = setTimeout(() => {
        void reconcile().then(() => {
          if (!abort.signal.aborted) schedule()
        })
      }, options.reconcileMs ?? 30_000)
      timer.unref()
    }
    if (!abort.signal.aborted) schedule()
  })()

  return {
    latest: (name) => latest.get(name),
    ready,
    connected: () => isConnected,
    reconcile,
    async close() {
      abort.abort()
      clearTimeout(timer)
      await reconciling
    },
  }
}
