/**
 * The entry of a sandbox process (built to `dist/plugin-sandbox.js`). The worker host forks one
 * per plugin thread under Node's permission model (see `sandbox.ts`), and the version's code runs
 * on this process's main thread (`plugin-calls.ts`), talking to the host over IPC: no thread in
 * between, so a call costs one hop each way. It holds no database, no secrets and no
 * configuration beyond what its version was granted. A timeout or a kill ends the whole process.
 */
import { describe, servePluginCalls } from './plugin-calls.js'
import { decodeMessage, type EncodedMessage, encodeMessage } from './sandbox-codec.js'
import type { SandboxResponse } from './sandbox-protocol.js'
import type { WorkerRequest } from './worker-protocol.js'

const send = process.send?.bind(process)
if (!send) throw new Error('plugin-sandbox must be started by the worker host (no IPC channel)')

const post = (message: SandboxResponse) => {
  try {
    send(encodeMessage(message))
  } catch {
    // The host is gone: the disconnect handler ends this process.
  }
}

// What a worker thread's `error` event says, said before this process ends: the host names it.
let crashed = false
process.on('uncaughtException', (error) => {
  if (crashed) return
  crashed = true
  const exit = () => process.exit(1)
  try {
    send(encodeMessage({ type: 'crashed', error: describe(error) } satisfies SandboxResponse), exit)
  } catch {
    exit()
  }
  setTimeout(exit, 1000).unref()
})

// The host ended (or closed the channel): nothing may outlive it.
process.on('disconnect', () => process.exit(0))

servePluginCalls({
  post,
  listen: (listener) =>
    process.on('message', (received: WorkerRequest | EncodedMessage) =>
      listener(decodeMessage(received)),
    ),
})
