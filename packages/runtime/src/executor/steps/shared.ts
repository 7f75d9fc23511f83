import type { JsonSchema } from '@kite/sdk/host'
import type { PreparedTask } from '../../flow/validate-flow.js'
import type { TaskRun, TaskRunState } from '../execution-model.js'

// What the executor and its steps share: outcomes, scopes, the shutdown signal, small helpers.

export type Outcome = 'SUCCESS' | 'WARNING' | 'FAILED' | 'KILLED'

export interface Scope {
  parentTaskRunId?: string
  iteration?: number
  valueKeys: string[]
  values: unknown[]
  /** Fires when an enclosing flowable times out: what runs inside it stops (see `flowable.ts`). */
  signal?: AbortSignal
}

/** Thrown through the walk when the engine shuts down: nothing more is written. */
export class Shutdown extends Error {
  constructor() {
    super('the runtime is shutting down')
  }
}

const ORDER: Record<Outcome, number> = { SUCCESS: 0, WARNING: 1, FAILED: 2, KILLED: 3 }
export const worst = (a: Outcome, b: Outcome): Outcome => (ORDER[a] >= ORDER[b] ? a : b)
export const toOutcome = (state: TaskRunState): Outcome =>
  state === 'SKIPPED' || state === 'CREATED' || state === 'RUNNING' || state === 'PAUSED'
    ? 'SUCCESS'
    : state
export const now = () => new Date().toISOString()
export const WORKER_LOST = 'worker lost: the runtime stopped while this attempt was running'

/** Kite's truthiness for `runIf` and `If.condition`: false, 0, '', 'false', '0', null are false. */
export function isTruthy(value: unknown): boolean {
  if (typeof value === 'boolean') return value
  if (value === null || value === undefined) return false
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value)
  if (typeof value === 'string') {
    const text = value.trim().toLowerCase()
    return !(text === '' || text === 'false' || text === '0' || text === 'null')
  }
  return true
}

/** The key a ForEach value gets in value-indexed outputs (`outputs.task[key]`). */
export function valueKey(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))
}

/** The queue entry of a task run's attempt. */
export const queueId = (taskRunId: string, attempt: number) => `${taskRunId}:${attempt}`

/** Attempts that count against the task's `retry`: every one but those lost with their worker. */
export function countedAttempts(run: TaskRun): number {
  let count = 0
  for (const attempt of run.attempts) if (!attempt.workerLost) count++
  return count
}

export function outputsSchema(prepared: PreparedTask): JsonSchema | undefined {
  const entry = prepared.resolved.manifestEntry
  return 'outputs' in entry ? (entry.outputs as JsonSchema) : undefined
}
