import type { HostRunContext } from './plugin-host.js'

/** What the host thread posts to a plugin worker. */
export type WorkerRequest =
  | { type: 'init'; entry: string }
  | { type: 'load' }
  | {
      type: 'run'
      kind: 'task' | 'trigger' | 'condition'
      /** The plugin type id (`type` names the message). */
      type_: string
      properties: Record<string, unknown>
      context: Omit<HostRunContext, 'services'>
    }
  | { type: 'abort'; reason: string }
  | { type: 'reply'; callId: number; ok: true; value: unknown }
  | { type: 'reply'; callId: number; ok: false; error: { message: string; code?: string } }

/** What a plugin worker posts back. */
export type WorkerResponse =
  | { type: 'call'; callId: number; method: string; args: unknown[] }
  | {
      type: 'done'
      ok: boolean
      value?: unknown
      error?: { message: string; code?: string; kind?: string }
    }
