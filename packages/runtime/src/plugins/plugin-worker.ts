/**
 * The entry of a plugin worker thread (built to `dist/plugin-worker.js`): serves one plugin
 * version's calls (`plugin-calls.ts`) to the host thread that started it.
 */
import { parentPort } from 'node:worker_threads'
import { servePluginCalls } from './plugin-calls.js'
import type { WorkerRequest } from './worker-protocol.js'

const port = parentPort
if (!port) throw new Error('plugin-worker must run in a worker thread')
servePluginCalls({
  post: (message) => port.postMessage(message),
  listen: (listener) => port.on('message', (message: WorkerRequest) => listener(message)),
})
