import { defineCondition, z } from '@kite/sdk'
import { parseTimeOfDay, wallClock } from './zoned-time.js'

const dateProperty = z
  .string()
  .optional()
  .describe(
    'The date to test, ISO-8601: with an offset (`2024-05-06T10:30:00Z`) it is converted to `timezone`; without one (`2024-05-06T10:30`) it is read as a time in `timezone`. Default: now. On a schedule, `{{ trigger.date }}`.',
  )
const timezoneProperty = z
  .string()
  .min(1)
  .default('UTC')
  .describe('The IANA time zone in which the day and time are read, e.g. `Europe/Paris`.')

export const dayOfWeek = defineCondition({
  name: 'condition.DayOfWeek',
  title: 'Day of the week',
  description: 'Passes when the date falls on the given day of the week in the given time zone.',
  properties: z.object({
    dayOfWeek: z
      .enum(['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'])
      .describe('The day that passes.'),
    date: dateProperty,
    timezone: timezoneProperty,
  }),
  examples: [
    { title: 'Mondays in Paris', code: 'dayOfWeek: MONDAY\ntimezone: Europe/Paris' },
    {
      title: 'The day of a schedule',
      code: 'dayOfWeek: FRIDAY\ndate: "{{ trigger.date }}"',
    },
  ],
  test(props) {
    return wallClock(props.date, props.timezone).day === props.dayOfWeek
  },
})

const timeOfDay = z
  .string()
  .refine((value) => parseTimeOfDay(value) !== undefined, 'must be a time HH:mm or HH:mm:ss')

export const timeBetween = defineCondition({
  name: 'condition.TimeBetween',
  title: 'Time between',
  description:
    'Passes when the time of day is at or after `after` and before `before`, in the given time zone. When `after` is later than `before` the window spans midnight (`after: "22:00"`, `before: "06:00"` is the night). Give either bound alone for an open window.',
  properties: z
    .object({
      after: timeOfDay
        .optional()
        .describe('Start of the window, inclusive: `HH:mm` or `HH:mm:ss`.'),
      before: timeOfDay.optional().describe('End of the window, exclusive: `HH:mm` or `HH:mm:ss`.'),
      date: dateProperty,
      timezone: timezoneProperty,
    })
    .refine((props) => props.after !== undefined || props.before !== undefined, {
      message: 'set `after`, `before` or both',
    }),
  examples: [
    {
      title: 'Office hours in Berlin',
      code: 'after: "09:00"\nbefore: "17:30"\ntimezone: Europe/Berlin',
    },
    { title: 'At night (across midnight)', code: 'after: "22:00"\nbefore: "06:00"' },
  ],
  test(props) {
    const now = wallClock(props.date, props.timezone).secondOfDay
    const after = props.after === undefined ? undefined : parseTimeOfDay(props.after)
    const before = props.before === undefined ? undefined : parseTimeOfDay(props.before)
    if (after === undefined) return before === undefined || now < before
    if (before === undefined) return now >= after
    return after <= before ? now >= after && now < before : now >= after || now < before
  },
})
