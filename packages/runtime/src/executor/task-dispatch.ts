import { hostname } from 'node:os'
import { RuntimeError } from '../errors.js'
import type { NodeRecord, Store } from '../storage/store.js'
import type { RuntimeLogger } from './engine.js'
import type { LogEntry } from './execution-model.js'
import type { Delivered, TaskDispatch } from './execution-runner.js'
import {
  nodesOfThisProcess,
  parseTaskResult,
  type TaskJob,
  type TaskOutcome,
  type TaskResult,
  type Worker,
} from './worker.js'

export interface TaskDispatchOptions {
  store: Store
  nodeId: string
  /** A node whose heartbeat is older than this (ms) is gone (`worker.heartbeatTimeout`). */
  heartbeatTimeoutMs: number
  /** How often entries not running here are looked up in the store (default 1 s). */
  pollMs?: number
  logger: RuntimeLogger
}

/** The executor's side of the queue: waiters for results, kills, and lost-worker detection. */
export interface LocalTaskDispatch extends TaskDispatch {
  /** The worker of this process (results it records arrive at once). */
  attach(worker: Worker): void
  /** A worker's result: true when a waiter took it (with the log lines to commit). */
  deliver(id: string, result: TaskResult, logs: LogEntry[]): boolean
  /** Rejects every waiter: the engine stops. */
  close(): void
}

interface Waiter {
  resolve: (outcome: Delivered) => void
  reject: (error: unknown) => void
  since: number
}

/** A result nobody waits for yet is kept this long (a resumed runner may not have asked yet). */
const UNHEARD_MS = 60_000

export function createTaskDispatch(options: TaskDispatchOptions): LocalTaskDispatch {
  const { store, nodeId, logger } = options
  const pollMs = options.pollMs ?? 1000
  const waiters = new Map<string, Waiter>()
  /** Attempts this process's worker runs with no queue entry (`reserve`): never looked up. */
  const local = new Set<string>()
  const unheard = new Map<string, { result: TaskResult; at: number }>()
  let worker: Worker | undefined
  let pollTimer: NodeJS.Timeout | undefined
  let polling = false
  let closed = false

  /** Hands a result to its waiter; `ranOn` is the node of the worker that ran it, if not this. */
  const settle = (id: string, outcome: TaskOutcome, logs: LogEntry[] = [], ranOn?: string) => {
    const waiter = waiters.get(id)
    if (!waiter) return false
    waiters.delete(id)
    local.delete(id)
    // Its job, remembered for this process's worker, went to another node's (or nowhere).
    worker?.forget(id)
    waiter.resolve({ outcome, logs, ...(ranOn === undefined ? {} : { worker: ranOn }) })
    if (waiters.size === 0) stopPolling()
    return true
  }

  const isNodeAlive = async (id: string): Promise<boolean> => {
    if (id === nodeId) return true
    const node = (await store.listNodes()).find((candidate) => candidate.id === id)
    return node !== undefined && nodeAlive(node, options.heartbeatTimeoutMs)
  }

  /**
   * Entries that do not run here: done elsewhere, or lost with their node. Those waited for
   * since `olderThanMs` at least (all of them when a worker elsewhere just recorded results).
   */
  const poll = async (olderThanMs = pollMs) => {
    if (polling || closed) return
    polling = true
    try {
      const cutoff = Date.now() - olderThanMs
      const ids = [...waiters]
        .filter(([id, waiter]) => waiter.since <= cutoff && !local.has(id))
        .map(([id]) => id)
      if (ids.length === 0) return
      const entries = new Map((await store.getQueueEntries(ids)).map((entry) => [entry.id, entry]))
      const alive = new Map<string, boolean>()
      for (const id of ids) {
        const entry = entries.get(id)
        const recorded = entry?.result === undefined ? undefined : parseTaskResult(entry.result)
        if (entry?.state === 'DONE' && recorded) {
          settle(id, recorded, [], entry.nodeId)
        } else if (entry?.state === 'DONE') {
          // An unreadable result: the attempt is done again.
          settle(id, { ok: false, lost: true })
        } else if (!entry) {
          // Withdrawn or recorded by someone else: only a lost worker leaves an attempt so.
          settle(id, { ok: false, lost: true })
        } else if (entry.state === 'RUNNING' && entry.nodeId === nodeId) {
          // Claimed by this process's worker, which neither runs it nor records its result: it
          // never reached the worker (a claim whose answer was lost with its connection). Lost.
          if (!worker?.holds(id)) {
            logger.warn(`attempt ${id} was claimed here but is not running: it is run again`)
            settle(id, { ok: false, lost: true }, [], nodeId)
          }
        } else if (entry.state === 'RUNNING' && entry.nodeId !== undefined) {
          let live = alive.get(entry.nodeId)
          if (live === undefined) {
            live = await isNodeAlive(entry.nodeId)
            alive.set(entry.nodeId, live)
          }
          if (!live) settle(id, { ok: false, lost: true }, [], entry.nodeId)
        }
      }
      const stale = Date.now() - UNHEARD_MS
      for (const [id, kept] of unheard) if (kept.at < stale) unheard.delete(id)
    } catch (error) {
      if (!closed) logger.warn(`could not look up queued task runs: ${(error as Error).message}`)
    } finally {
      polling = false
    }
  }

  // Results recorded by workers of other processes wake the poll at once (PostgreSQL's NOTIFY).
  let stopListening: (() => void) | undefined
  const listening = store.listen?.('results', () => {
    if (waiters.size > 0) poll(0).catch(() => {})
  })
  listening
    ?.then((stop) => {
      if (closed) stop()
      else stopListening = stop
    })
    .catch((error: unknown) => {
      logger.warn(`results of other nodes are polled for only: ${(error as Error).message}`)
    })

  const startPolling = () => {
    if (pollTimer || closed) return
    pollTimer = setInterval(() => {
      poll().catch(() => {})
    }, pollMs)
    pollTimer.unref()
  }

  const stopPolling = () => {
    clearInterval(pollTimer)
    pollTimer = undefined
  }

  return {
    attach(attached) {
      worker = attached
    },

    deliver(id, result, logs) {
      if (settle(id, result, logs)) return true
      // Recorded in the store by now (the worker writes what nobody took): kept for a while.
      if (logs.length === 0) unheard.set(id, { result, at: Date.now() })
      return false
    },

    result(id, signal) {
      if (closed) return Promise.reject(shuttingDown())
      const kept = unheard.get(id)
      if (kept) {
        unheard.delete(id)
        return Promise.resolve({ outcome: kept.result, logs: [] })
      }
      return new Promise<Delivered>((resolve, reject) => {
        const done = () => signal.removeEventListener('abort', onAbort)
        waiters.set(id, {
          resolve: (value) => {
            done()
            resolve(value)
          },
          reject: (error) => {
            done()
            reject(error)
          },
          since: Date.now(),
        })
        startPolling()
        const onAbort = () => {
          // The engine stopping aborts too: then the entry stays for the next start.
          if (closed) return
          // Run here with no entry: nothing to withdraw, stopped at once.
          if (local.has(id)) {
            worker?.abort(id, signal.reason)
            return
          }
          // Not claimed yet: withdrawn. Claimed here: stopped, its result (killed) follows.
          // Claimed by a worker elsewhere: withdrawn from it (it stops the attempt when it sees
          // its entry gone), and the attempt ends killed here. Done meanwhile: the poll takes
          // its result.
          const withdraw = async () => {
            if (await store.cancelQueuedTaskRun(id)) {
              settle(id, { ok: false, killed: true })
            } else if (!worker?.abort(id, signal.reason) && (await store.withdrawTaskRun(id))) {
              settle(id, { ok: false, killed: true })
              // This process's worker may have claimed it a moment ago, not yet running it.
              worker?.stopWithdrawn()
            }
          }
          withdraw().catch(() => {
            // The store out of reach for long (it tried for a while): again in a second, while
            // the attempt is still waited for.
            if (!worker?.abort(id, signal.reason)) {
              setTimeout(() => waiters.has(id) && onAbort(), 1000).unref()
            }
          })
        }
        if (signal.aborted) onAbort()
        else signal.addEventListener('abort', onAbort, { once: true })
      })
    },

    remember(id, job: TaskJob) {
      worker?.remember(id, job)
    },

    reserve: () => worker?.reserve() ?? false,
    unreserve: () => worker?.unreserve(),
    runReserved: (id, job) => {
      local.add(id)
      worker?.runReserved(id, job)
    },

    wake() {
      worker?.wake()
    },

    isNodeAlive,

    close() {
      closed = true
      stopListening?.()
      stopPolling()
      for (const waiter of waiters.values()) waiter.reject(shuttingDown())
      waiters.clear()
      local.clear()
      unheard.clear()
    },
  }
}

/**
 * Whether another node is alive: its heartbeat is recent, and on this host its process exists.
 * The one rule for workers' task runs and executors' execution leases.
 */
export function nodeAlive(node: NodeRecord, heartbeatTimeoutMs: number): boolean {
  if (node.host === hostname()) {
    // Our pid, yet not one of our nodes: the process is gone and the pid was reused (a
    // container's pid 1).
    if (node.pid === process.pid) {
      if (!nodesOfThisProcess.has(node.id)) return false
    } else if (!processAlive(node.pid)) return false
  }
  return Date.now() - Date.parse(node.heartbeatAt) < heartbeatTimeoutMs
}

function shuttingDown() {
  return new RuntimeError('the runtime is shutting down', { code: 'TASK_KILLED' })
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
