import { createExpressionEngine } from '@kite/expressions'
import { isDuration, z } from '@kite/sdk'
import { propertiesJsonSchema } from '@kite/sdk/host'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { checkProperties } from './property-validator.js'

const expressions = createExpressionEngine()
const schema = propertiesJsonSchema(
  z.object({
    uri: z.url(),
    method: z.enum(['GET', 'POST']).default('GET'),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.object({ text: z.string() }).optional(),
    retries: z.number().int().min(0).optional(),
  }),
)

describe('checkProperties', () => {
  it('accepts valid properties and expression values of any declared type', () => {
    expect(checkProperties({ uri: 'https://example.com' }, schema, expressions)).toEqual([])
    expect(
      checkProperties(
        { uri: '{{ vars.uri }}', retries: '{{ inputs.n }}', headers: '{{ vars.h }}' },
        schema,
        expressions,
      ),
    ).toEqual([])
  })

  it('reports every problem with its property path', () => {
    expect(
      checkProperties(
        { method: 'PATCH', body: { text: 3 }, retries: -1, headres: {} },
        schema,
        expressions,
      ),
    ).toEqual([
      'headres: unknown property (did you mean "headers"?); known: uri, method, headers, body, retries',
      'uri: is required',
      'method: must be one of "GET", "POST"',
      'body.text: expected string, got integer 3',
      'retries: must be >= 0',
    ])
    expect(checkProperties({ uri: 'not a url' }, schema, expressions)).toEqual([
      'uri: must match format "uri"',
    ])
  })

  it('reports expression syntax errors, nested ones too', () => {
    const problems = checkProperties(
      { uri: '{{ oops', headers: { a: '{% if %}' } },
      schema,
      expressions,
    )
    expect(problems).toHaveLength(2)
    expect(problems[0]).toMatch(/^uri: syntax error/)
    expect(problems[1]).toMatch(/^headers\.a: /)
  })

  it('allows unknown keys when the schema allows extra properties', () => {
    const loose = propertiesJsonSchema(z.looseObject({ a: z.string() }))
    expect(checkProperties({ a: 'x', b: 1 }, loose, expressions)).toEqual([])
  })

  it("checks `format: duration` as Kite's durations, with a clear message", () => {
    const timed = propertiesJsonSchema(
      z.object({ wait: z.string().refine(isDuration).meta({ format: 'duration' }) }),
    )
    for (const wait of ['PT30S', 'PT0.5S', 'P1D', 'P1W', 'PT1H30M', '{{ inputs.wait }}']) {
      expect(checkProperties({ wait }, timed, expressions)).toEqual([])
    }
    for (const wait of ['10 seconds', 'P1M', 'P1Y', 'PT', 'P', '']) {
      expect(checkProperties({ wait }, timed, expressions)).toEqual([
        'wait: must be an ISO-8601 duration such as PT30S, PT5M or PT1H',
      ])
    }
    // Whatever the text, saving refuses exactly what running would (no expressions in it).
    const text = fc.oneof(
      fc.string().filter((value) => !value.includes('{')),
      fc.stringMatching(/^P(\d{1,3}(\.\d)?[WD])?(T(\d{1,2}[HMS]){0,3})?$/),
    )
    fc.assert(
      fc.property(text, (wait) => {
        expect(checkProperties({ wait }, timed, expressions).length === 0).toBe(isDuration(wait))
      }),
    )
  })
})
