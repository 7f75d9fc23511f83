import type { ResourceLimits } from 'node:worker_threads'
import type { WorkerRequest, WorkerResponse } from './worker-protocol.js'

/**
 * What the worker host sends a sandbox process over IPC: start, feed or end one of the version's
 * threads (named by an id the host chose). The thread's own messages are `worker-protocol.ts`.
 */
export type SandboxRequest =
  | { op: 'start'; id: number; resourceLimits: ResourceLimits }
  | { op: 'post'; id: number; message: WorkerRequest }
  | { op: 'terminate'; id: number }

/** What a sandbox process sends back. */
export type SandboxResponse =
  /** The process listens: requests sent before this are queued by the host. */
  | { op: 'ready' }
  /** The process's first thread has booted (see WorkerResponse `booted`); sent once. */
  | { op: 'booted' }
  | { op: 'message'; id: number; message: WorkerResponse }
  | { op: 'error'; id: number; error: { message: string; code?: string } }
  | { op: 'exit'; id: number; code: number }
