/**
 * The entry of a sandbox process (built to `dist/plugin-sandbox.js`). The worker host forks one
 * per plugin version under Node's permission model (see `sandbox.ts`); inside it, the version's
 * threads run `plugin-worker.js` as they do in the runtime process. This process only relays:
 * the host's messages to a thread, a thread's messages, errors and exit back, over IPC. It holds
 * no database, no secrets and no configuration beyond what its version was granted.
 */
import { Worker } from 'node:worker_threads'
import type { SandboxRequest, SandboxResponse } from './sandbox-protocol.js'

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

process.on('message', (message: SandboxRequest) => {
  if (message.op === 'post') {
    workers.get(message.id)?.postMessage(message.message)
    return
  }
  if (message.op === 'start') {
    const worker = new Worker(script, {
      // The process's environment is already only what the version was granted.
      env: process.env,
      resourceLimits: message.resourceLimits,
      stdout: false,
      stderr: false,
    })
    workers.set(message.id, worker)
    worker.on('message', (value) => post({ op: 'message', id: message.id, message: value }))
    worker.on('error', (error: Error & { code?: string }) =>
      post({
        op: 'error',
        id: message.id,
        error: { message: error.message, ...(error.code ? { code: error.code } : {}) },
      }),
    )
    worker.on('exit', (code) => {
      workers.delete(message.id)
      post({ op: 'exit', id: message.id, code })
    })
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
