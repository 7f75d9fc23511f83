import { Cron } from 'croner'
import type { ScheduleTrigger } from '../flow/flow-model.js'

/** The most dates one evaluation fires for one trigger (`ALL` after a very long downtime). */
export const MAX_DATES_PER_EVALUATION = 1000

/** A paused croner instance for a Schedule trigger: only used to compute dates. */
export function createCron(trigger: Pick<ScheduleTrigger, 'cron' | 'timezone'>): Cron {
  return new Cron(trigger.cron, {
    paused: true,
    ...(trigger.timezone ? { timezone: trigger.timezone } : {}),
  })
}

/** What one evaluation of a schedule decides. */
export interface ScheduleDecision {
  /** Dates to fire, oldest first. */
  fire: Date[]
  /** Dates that were due but are skipped (`recoverMissedSchedules` LAST or NONE). */
  skipped: Date[]
  /** The next date to evaluate, after `now`. */
  next: Date | undefined
}

/**
 * Which dates of a schedule fire now. Dates due before `startedAt` (the start of this process)
 * were missed while the runtime was down: `ALL` fires every one of them, `LAST` the most recent
 * one, `NONE` none. Dates due since the start always fire.
 */
export function decideSchedule(options: {
  cron: Cron
  nextDate: Date
  now: Date
  startedAt: Date
  recover: ScheduleTrigger['recoverMissedSchedules']
}): ScheduleDecision {
  const { cron, now, startedAt } = options
  const due: Date[] = []
  let date: Date | null = options.nextDate
  while (date && date.getTime() <= now.getTime() && due.length < MAX_DATES_PER_EVALUATION) {
    due.push(date)
    date = cron.nextRun(date)
  }
  // Past the cap (ALL after a long downtime), the rest is skipped: the next date is after now.
  if (date && date.getTime() <= now.getTime()) date = cron.nextRun(now)
  const missed = due.filter((item) => item.getTime() < startedAt.getTime())
  const current = due.filter((item) => item.getTime() >= startedAt.getTime())
  const recovered =
    options.recover === 'ALL' ? missed : options.recover === 'LAST' ? missed.slice(-1) : []
  return {
    fire: [...recovered, ...current],
    skipped: missed.filter((item) => !recovered.includes(item)),
    next: date ?? undefined,
  }
}

/** `trigger.*` of a scheduled execution: its date, the next one and the previous one. */
export function scheduleVariables(cron: Cron, date: Date): Record<string, unknown> {
  const next = cron.nextRun(date)
  const previous = cron.previousRuns(1, date)[0]
  return {
    date: date.toISOString(),
    ...(next ? { next: next.toISOString() } : {}),
    ...(previous ? { previous: previous.toISOString() } : {}),
  }
}
