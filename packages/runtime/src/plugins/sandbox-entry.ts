/**
 * The entry of a sandbox process (built to `dist/plugin-sandbox.js`). The worker host forks one
 * per plugin version under Node's permission model (see `sandbox.ts`); inside it, the version's
 * threads run `plugin-worker.js` as they do in the runtime process. This process only relays:
 * the host's messages to a thread, a thread's messages, errors and exit back, over IPC. It holds
 * no database, no secrets and no configuration beyond what its version was granted.
 *
 * Its first thread starts at once, with the resource limits given as the first argument (JSON),
 * before the host asks for it: the thread's boot and the SDK's import overlap the IPC handshake,
 * and a spare process (forked before its version is known) has its thread ready when adopted.
 */
import { isDeepStrictEqual } from 'node:util'
import { type ResourceLimits, Worker } from 'node:worker_threads'
import type { SandboxRequest, SandboxResponse } from './sandbox-protocol.js'
import type { WorkerResponse } from './worker-protocol.js'

const send = process.send?.bind(process)
if (!send) throw new Error('plugin-sandbox must be started by the worker host (no IPC channel)')

const workers = new Map<number, Worker>()
const script = new URL('./plugin-worker.js', import.meta.url)

const post = (message: SandboxResponse) => {
  try {
    send(message)
  } catch {
    // The host is gone: the disconnect handler ends this process.
  }
}

let booted = false
const startWorker = (resourceLimits: ResourceLimits) => {
  const worker = new Worker(script, {
    // The process's environment is already only what the version was granted.
    env: process.env,
    resourceLimits,
    stdout: false,
    stderr: false,
  })
  worker.on('message', (message: WorkerResponse) => {
    if (message.type !== 'booted' || booted) return
    booted = true
    post({ op: 'booted' })
  })
  return worker
}

/** The thread started ahead, with its limits, until a `start` takes it. */
let early: { worker: Worker; limits: ResourceLimits; error?: Error & { code?: string } } | undefined
const limitsArgument = process.argv[2]
if (limitsArgument) {
  const limits = JSON.parse(limitsArgument) as ResourceLimits
  const worker = startWorker(limits)
  const held: NonNullable<typeof early> = { worker, limits }
  early = held
  worker.on('error', (error: Error) => {
    held.error = error
  })
  // Died before it was asked for: the `start` that comes starts a fresh one.
  worker.once('exit', () => {
    if (early === held) early = undefined
  })
}

const attach = (id: number, worker: Worker, error?: Error & { code?: string }) => {
  workers.set(id, worker)
  const report = (failure: Error & { code?: string }) =>
    post({
      op: 'error',
      id,
      error: { message: failure.message, ...(failure.code ? { code: failure.code } : {}) },
    })
  if (error) report(error)
  worker.on('message', (value: WorkerResponse) => {
    if (value.type !== 'booted') post({ op: 'message', id, message: value })
  })
  worker.on('error', report)
  worker.on('exit', (code) => {
    workers.delete(id)
    post({ op: 'exit', id, code })
  })
}

process.on('message', (message: SandboxRequest) => {
  if (message.op === 'post') {
    workers.get(message.id)?.postMessage(message.message)
    return
  }
  if (message.op === 'start') {
    const held = early
    early = undefined
    if (held && isDeepStrictEqual(held.limits, message.resourceLimits)) {
      attach(message.id, held.worker, held.error)
    } else {
      if (held) void held.worker.terminate()
      attach(message.id, startWorker(message.resourceLimits))
    }
    return
  }
  if (message.op === 'terminate') {
    const worker = workers.get(message.id)
    if (worker) void worker.terminate()
    else post({ op: 'exit', id: message.id, code: 1 })
  }
})

// The host ended (or closed the channel): nothing may outlive it.
process.on('disconnect', () => process.exit(0))
post({ op: 'ready' })
