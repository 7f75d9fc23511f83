import type { WorkerResponse } from './worker-protocol.js'

/**
 * What a sandbox process sends back over IPC (it gets what a plugin worker thread gets,
 * `WorkerRequest`, and runs it on its main thread): a worker's responses (`booted` once it
 * listens: requests are held by the host until then), and what an uncaught error was before the
 * process ends.
 */
export type SandboxResponse =
  | WorkerResponse
  | { type: 'crashed'; error: { message: string; code?: string } }
