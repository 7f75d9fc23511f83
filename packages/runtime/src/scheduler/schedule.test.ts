import { describe, expect, it } from 'vitest'
import { createCron, decideSchedule, scheduleVariables } from './schedule.js'

const at = (time: string) => new Date(`2026-05-04T${time}Z`)
const iso = (dates: Date[]) => dates.map((date) => date.toISOString().slice(11, 19))

describe('decideSchedule', () => {
  const cron = createCron({ cron: '*/10 * * * * *' })
  const decide = (recover: 'ALL' | 'LAST' | 'NONE') =>
    decideSchedule({
      cron,
      nextDate: at('10:00:00'),
      now: at('10:00:45'),
      startedAt: at('10:00:25'),
      recover,
    })

  it('fires every missed date with ALL, then the dates due since the start', () => {
    const decision = decide('ALL')
    expect(iso(decision.fire)).toEqual(['10:00:00', '10:00:10', '10:00:20', '10:00:30', '10:00:40'])
    expect(decision.skipped).toEqual([])
    expect(decision.next?.toISOString()).toBe(at('10:00:50').toISOString())
  })

  it('fires only the last missed date with LAST', () => {
    const decision = decide('LAST')
    expect(iso(decision.fire)).toEqual(['10:00:20', '10:00:30', '10:00:40'])
    expect(iso(decision.skipped)).toEqual(['10:00:00', '10:00:10'])
  })

  it('fires no missed date with NONE', () => {
    expect(iso(decide('NONE').fire)).toEqual(['10:00:30', '10:00:40'])
  })

  it('waits when nothing is due', () => {
    const decision = decideSchedule({
      cron,
      nextDate: at('10:00:50'),
      now: at('10:00:45'),
      startedAt: at('10:00:00'),
      recover: 'ALL',
    })
    expect(decision.fire).toEqual([])
    expect(decision.next?.toISOString()).toBe(at('10:00:50').toISOString())
  })
})

describe('scheduleVariables', () => {
  it('gives the date, the next and the previous one, in the time zone of the cron', () => {
    const paris = createCron({ cron: '0 9 * * *', timezone: 'Europe/Paris' })
    expect(scheduleVariables(paris, new Date('2026-05-04T07:00:00Z'))).toEqual({
      date: '2026-05-04T07:00:00.000Z',
      next: '2026-05-05T07:00:00.000Z',
      previous: '2026-05-03T07:00:00.000Z',
    })
  })

  it('accepts five fields (minutes) and six (seconds)', () => {
    expect(createCron({ cron: '*/5 * * * *' }).nextRun(at('10:01:00'))?.toISOString()).toBe(
      at('10:05:00').toISOString(),
    )
    expect(createCron({ cron: '*/5 * * * * *' }).nextRun(at('10:01:01'))?.toISOString()).toBe(
      at('10:01:05').toISOString(),
    )
  })
})
