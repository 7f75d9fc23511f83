import type { HostRunContext } from './plugin-host.js'

/** The per-call part of a run context: what changes from one call to the next. */
export type CallContext = Omit<HostRunContext, 'services' | 'pluginConfig'>

/**
 * What the host thread posts to a plugin worker. A worker serves one plugin version and runs
 * several calls at once, each named by its `runId`; service calls and their replies carry a
 * `callId` of their own.
 */
export type WorkerRequest =
  | { type: 'init'; entry: string }
  | { type: 'load'; runId: number }
  | {
      type: 'run'
      runId: number
      kind: 'task' | 'trigger' | 'condition'
      /** The plugin type id (`type` names the message). */
      type_: string
      properties: Record<string, unknown>
      context: CallContext
      /**
       * `ctx.pluginConfig`, sent once per worker: later calls name it by `configId` only (the
       * resolver hands out one object per type, so it is cloned across the thread once).
       */
      configId: number
      pluginConfig?: Record<string, unknown>
    }
  | {
      /** Runs the version's migrations of one type on raw properties; `done` carries the result. */
      type: 'migrate'
      runId: number
      kind: 'task' | 'trigger' | 'condition'
      type_: string
      fromVersion: string
      properties: Record<string, unknown>
      label: string
    }
  | { type: 'reply'; callId: number; ok: true; value: unknown }
  | { type: 'reply'; callId: number; ok: false; error: { message: string; code?: string } }

/** What a plugin worker posts back. */
export type WorkerResponse =
  /** Sent once, when the thread has loaded the SDK and listens: a spare is ready to take. */
  | { type: 'booted' }
  /** A service call; `callId` 0 for one-way calls (logs, metrics), which get no reply. */
  | { type: 'call'; runId: number; callId: number; method: string; args: unknown[] }
  | {
      type: 'done'
      runId: number
      ok: boolean
      value?: unknown
      error?: { message: string; code?: string; kind?: string }
      /** The call created its working directory (`ctx.workingDir`): the host removes it. */
      madeWorkingDir?: boolean
    }

/**
 * The export condition plugin workers (threads and sandbox processes) run with: `@kite/sdk`
 * resolves to its build with zod bundled in (`dist-worker/`), which loads in about two thirds of
 * the time, and a new version's first task waits for that load.
 */
export const PLUGIN_WORKER_CONDITION = '--conditions=kite-plugin-worker'
