import { testCondition } from '@kite/sdk/testing'
import { describe, expect, it } from 'vitest'
import { executionFlow, executionNamespace, executionStatus } from './execution-conditions.js'
import { expression } from './expression-condition.js'
import { not, or } from './logic-conditions.js'
import { dayOfWeek, timeBetween } from './time-conditions.js'

const passes = async (
  condition: Parameters<typeof testCondition>[0],
  properties: Record<string, unknown>,
  options: Parameters<typeof testCondition>[2] = {},
) => (await testCondition(condition, properties, options)).result

describe('condition.ExecutionStatus', () => {
  it('tests the state against in and notIn', async () => {
    const failed = { execution: { state: 'FAILED' } }
    expect(await passes(executionStatus, { in: ['FAILED', 'WARNING'] }, failed)).toBe(true)
    expect(await passes(executionStatus, { in: ['SUCCESS'] }, failed)).toBe(false)
    expect(await passes(executionStatus, { notIn: ['SUCCESS'] }, failed)).toBe(true)
    expect(await passes(executionStatus, { notIn: ['FAILED'] }, failed)).toBe(false)
    expect(await passes(executionStatus, { in: ['FAILED'], notIn: ['FAILED'] }, failed)).toBe(false)
  })

  it('needs in or notIn, and known states', async () => {
    await expect(testCondition(executionStatus, {})).rejects.toThrow(/set `in`, `notIn` or both/)
    await expect(testCondition(executionStatus, { in: ['DONE'] })).rejects.toThrow(/in\.0/)
  })

  it('explains an unknown state', async () => {
    await expect(
      testCondition(executionStatus, { in: ['FAILED'] }, { execution: { state: undefined } }),
    ).rejects.toMatchObject({ code: 'STATE_UNKNOWN' })
  })
})

describe('condition.ExecutionFlow', () => {
  it('matches namespace and flow id', async () => {
    const options = { namespace: 'company.data', flowId: 'export' }
    expect(
      await passes(executionFlow, { namespace: 'company.data', flowId: 'export' }, options),
    ).toBe(true)
    expect(
      await passes(executionFlow, { namespace: 'company.data', flowId: 'import' }, options),
    ).toBe(false)
    expect(await passes(executionFlow, { namespace: 'company', flowId: 'export' }, options)).toBe(
      false,
    )
  })
})

describe('condition.ExecutionNamespace', () => {
  const at = { namespace: 'company.team' }
  it('compares equal namespaces by default', async () => {
    expect(await passes(executionNamespace, { namespace: 'company.team' }, at)).toBe(true)
    expect(await passes(executionNamespace, { namespace: 'company' }, at)).toBe(false)
  })

  it('compares prefixes and suffixes segment by segment', async () => {
    expect(
      await passes(executionNamespace, { namespace: 'company', comparison: 'PREFIX' }, at),
    ).toBe(true)
    expect(await passes(executionNamespace, { namespace: 'comp', comparison: 'PREFIX' }, at)).toBe(
      false,
    )
    expect(await passes(executionNamespace, { namespace: 'team', comparison: 'SUFFIX' }, at)).toBe(
      true,
    )
    expect(await passes(executionNamespace, { namespace: 'eam', comparison: 'SUFFIX' }, at)).toBe(
      false,
    )
  })
})

describe('condition.DayOfWeek', () => {
  it('reads the day of a date', async () => {
    expect(await passes(dayOfWeek, { dayOfWeek: 'MONDAY', date: '2024-05-06' })).toBe(true)
    expect(await passes(dayOfWeek, { dayOfWeek: 'TUESDAY', date: '2024-05-06' })).toBe(false)
  })

  it('converts an instant to the time zone', async () => {
    const date = '2024-05-05T23:30:00Z' // Sunday in UTC, Monday 01:30 in Paris
    expect(await passes(dayOfWeek, { dayOfWeek: 'SUNDAY', date })).toBe(true)
    expect(await passes(dayOfWeek, { dayOfWeek: 'MONDAY', date, timezone: 'Europe/Paris' })).toBe(
      true,
    )
  })

  it('defaults to now', async () => {
    const today = new Intl.DateTimeFormat('en-US', { weekday: 'long', timeZone: 'UTC' })
      .format(new Date())
      .toUpperCase()
    expect(await passes(dayOfWeek, { dayOfWeek: today })).toBe(true)
  })

  it('explains a bad time zone or date', async () => {
    await expect(
      testCondition(dayOfWeek, { dayOfWeek: 'MONDAY', timezone: 'Mars/Olympus' }),
    ).rejects.toMatchObject({ code: 'TIMEZONE_INVALID' })
    await expect(
      testCondition(dayOfWeek, { dayOfWeek: 'MONDAY', date: 'yesterday' }),
    ).rejects.toMatchObject({ code: 'DATE_INVALID' })
    await expect(
      testCondition(dayOfWeek, { dayOfWeek: 'MONDAY', date: '2024-02-30' }),
    ).rejects.toMatchObject({ code: 'DATE_INVALID' })
  })
})

describe('condition.TimeBetween', () => {
  it('passes inside the window, start inclusive, end exclusive', async () => {
    const window = { after: '09:00', before: '17:30' }
    expect(await passes(timeBetween, { ...window, date: '2024-05-06T09:00:00Z' })).toBe(true)
    expect(await passes(timeBetween, { ...window, date: '2024-05-06T17:29:59Z' })).toBe(true)
    expect(await passes(timeBetween, { ...window, date: '2024-05-06T17:30:00Z' })).toBe(false)
    expect(await passes(timeBetween, { ...window, date: '2024-05-06T08:59' })).toBe(false)
  })

  it('spans midnight when after is later than before', async () => {
    const night = { after: '22:00', before: '06:00' }
    expect(await passes(timeBetween, { ...night, date: '2024-05-06T23:15:00Z' })).toBe(true)
    expect(await passes(timeBetween, { ...night, date: '2024-05-06T05:00:00Z' })).toBe(true)
    expect(await passes(timeBetween, { ...night, date: '2024-05-06T12:00:00Z' })).toBe(false)
  })

  it('reads the time in the time zone and takes open windows', async () => {
    const date = '2024-01-15T08:30:00Z' // 09:30 in Berlin (winter time)
    expect(await passes(timeBetween, { after: '09:00', date })).toBe(false)
    expect(await passes(timeBetween, { after: '09:00', date, timezone: 'Europe/Berlin' })).toBe(
      true,
    )
    expect(await passes(timeBetween, { before: '09:00:30', date })).toBe(true)
  })

  it('refuses bad times and a window with no bounds', async () => {
    await expect(testCondition(timeBetween, { after: '25:00' })).rejects.toThrow(
      /after: must be a time HH:mm/,
    )
    await expect(testCondition(timeBetween, {})).rejects.toThrow(/set `after`, `before` or both/)
  })
})

describe('condition.Expression', () => {
  it('renders the expression in the condition context', async () => {
    const failed = { execution: { state: 'FAILED' }, outputs: { export: { size: 1200 } } }
    expect(
      await passes(expression, { expression: "{{ execution.state == 'FAILED' }}" }, failed),
    ).toBe(true)
    expect(
      await passes(expression, { expression: '{{ outputs.export.size > 5000 }}' }, failed),
    ).toBe(false)
  })

  it('is not rendered before the test (dynamic: false)', () => {
    expect(expression.properties.shape.expression.meta()).toMatchObject({ dynamic: false })
  })

  it('refuses a result that is not a boolean', async () => {
    await expect(
      testCondition(
        expression,
        { expression: '{{ outputs.export.size }}' },
        {
          outputs: { export: { size: 3 } },
        },
      ),
    ).rejects.toMatchObject({
      code: 'NOT_A_BOOLEAN',
      message: 'expression "{{ outputs.export.size }}" rendered to "3", not true or false',
    })
  })
})

describe('condition.Not and condition.Or', () => {
  const weekend = [
    { type: 'kite.core.condition.DayOfWeek', dayOfWeek: 'SATURDAY', date: '{{ vars.day }}' },
    { type: 'kite.core.condition.DayOfWeek', dayOfWeek: 'SUNDAY', date: '{{ vars.day }}' },
  ]

  it('Or passes when one nested condition passes', async () => {
    expect(await passes(or, { conditions: weekend }, { vars: { day: '2024-05-05' } })).toBe(true)
    expect(await passes(or, { conditions: weekend }, { vars: { day: '2024-05-06' } })).toBe(false)
  })

  it('Not passes when no nested condition passes', async () => {
    expect(await passes(not, { conditions: weekend }, { vars: { day: '2024-05-06' } })).toBe(true)
    expect(await passes(not, { conditions: weekend }, { vars: { day: '2024-05-04' } })).toBe(false)
  })

  it('nests other core conditions, each rendered in its own context', async () => {
    const conditions = [
      {
        type: 'kite.core.condition.Not',
        conditions: [{ type: 'kite.core.condition.ExecutionStatus', in: '{{ vars.ok }}' }],
      },
      { type: 'kite.core.condition.Expression', expression: '{{ outputs.check.rows > 10 }}' },
    ]
    const options = { vars: { ok: ['SUCCESS'] }, outputs: { check: { rows: 3 } } }
    expect(await passes(or, { conditions }, { ...options, execution: { state: 'FAILED' } })).toBe(
      true,
    )
    expect(await passes(or, { conditions }, { ...options, execution: { state: 'SUCCESS' } })).toBe(
      false,
    )
  })

  it('names the nested condition whose properties are invalid', async () => {
    await expect(
      testCondition(or, {
        conditions: [{ type: 'kite.core.condition.DayOfWeek', dayOfWeek: 'FUNDAY' }],
      }),
    ).rejects.toThrow(
      /condition kite\.core\.condition\.DayOfWeek: invalid properties:\n- dayOfWeek/,
    )
  })

  it('needs conditions', async () => {
    await expect(testCondition(or, {})).rejects.toThrow(/invalid properties:\n- conditions:/)
    await expect(testCondition(not, { conditions: [] })).rejects.toThrow(/conditions:/)
  })

  it('refuses unknown and non-core nested types', async () => {
    await expect(
      testCondition(or, { conditions: [{ type: 'kite.core.condition.Nope' }] }),
    ).rejects.toMatchObject({
      code: 'CONDITION_UNKNOWN',
      message: expect.stringContaining('"kite.core.condition.Nope" is not a kite.core condition;'),
    })
    await expect(
      testCondition(not, { conditions: [{ type: 'acme.greeting.NameMatches', name: 'x' }] }),
    ).rejects.toThrow(/only those can be nested; use one of kite\.core\.condition\.ExecutionStatus/)
  })
})
