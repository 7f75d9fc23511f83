import type { WorkerRequest, WorkerResponse } from './worker-protocol.js'

/**
 * What the worker host sends a sandbox process over IPC: the requests a plugin worker thread
 * gets (`worker-protocol.ts`); the process runs them on its main thread.
 */
export type SandboxRequest = WorkerRequest

/**
 * What a sandbox process sends back: a worker's responses (`booted` once it listens: requests
 * are held by the host until then), and what an uncaught error was before the process ends.
 */
export type SandboxResponse =
  | WorkerResponse
  | { type: 'crashed'; error: { message: string; code?: string } }
