import { messageOf } from '../errors.js'
import type { RuntimeLogger } from '../executor/engine.js'
import type { Store } from '../storage/store.js'
import type { Scheduler } from './scheduler.js'

/** The lease's name in the store. */
export const SCHEDULER_LEASE = 'scheduler'

export interface SchedulerLeaseOptions {
  store: Store
  /** This node's id: the lease's holder. */
  nodeId: string
  /** How long a lease lasts without renewal (ms): the longest a dead scheduler is missed. */
  ttlMs: number
  /** A new scheduler each time this node becomes the active one. */
  createScheduler: () => Scheduler
  logger: RuntimeLogger
}

/** Who evaluates triggers in a cluster (SPEC 9): the one node that holds the lease. */
export interface SchedulerLease {
  /** Whether this node's scheduler is the active one. */
  active(): boolean
  /** Stops this node's scheduler and gives the lease up, so another takes over at once. */
  close(): Promise<void>
}

/**
 * Exactly one active scheduler: every node with the scheduler role tries to take or renew the
 * lease three times per `ttlMs`. The holder runs a scheduler; one that fails to renew stops its
 * own before the lease can pass, and another node takes over within `ttlMs` of a death. Schedule
 * dates stay fired once because a firing's execution ids derive from the trigger and the date.
 */
export function createSchedulerLease(options: SchedulerLeaseOptions): SchedulerLease {
  const { store, nodeId, ttlMs, logger } = options
  let scheduler: Scheduler | undefined
  let closed = false
  let turn: Promise<void> = Promise.resolve()

  const step = async () => {
    let held = false
    try {
      held = await store.acquireLease(SCHEDULER_LEASE, nodeId, ttlMs)
    } catch (error) {
      logger.warn(`the scheduler lease could not be renewed: ${messageOf(error)}`)
    }
    if (closed) return
    if (held && !scheduler) {
      logger.info('this node is now the active scheduler')
      scheduler = options.createScheduler()
      await scheduler.start()
    } else if (!held && scheduler) {
      logger.warn('this node lost the scheduler lease: its scheduler stops')
      const stopping = scheduler
      scheduler = undefined
      await stopping.close()
    }
  }

  const next = () => {
    turn = turn.then(step).catch((error: unknown) => {
      logger.error(`the scheduler lease failed: ${messageOf(error)}`)
    })
  }
  const timer = setInterval(next, Math.max(50, Math.floor(ttlMs / 3)))
  timer.unref()
  next()

  return {
    active: () => scheduler !== undefined,
    async close() {
      if (closed) return
      closed = true
      clearInterval(timer)
      await turn
      const stopping = scheduler
      scheduler = undefined
      await stopping?.close()
      await store.releaseLease(SCHEDULER_LEASE, nodeId).catch(() => {})
    },
  }
}
