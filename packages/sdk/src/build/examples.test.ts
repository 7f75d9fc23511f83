import { describe, expect, it } from 'vitest'
import { defineCondition, defineTask } from '../define.js'
import { z } from '../index.js'
import { validateExamples } from './examples.js'

describe('task examples', () => {
  it('refuses an example that does not validate against its own schema', () => {
    const task = defineTask({
      name: 'Greet',
      properties: z.object({ name: z.string(), times: z.number() }),
      examples: [
        { title: 'Good', code: 'name: Ada\ntimes: 2' },
        { title: 'Expression', code: 'name: Ada\ntimes: "{{ inputs.times }}"' },
        { title: 'Bad', code: 'name: 42\ntimes: 2' },
        { title: 'Broken', code: 'name: [unclosed' },
      ],
      run: () => undefined,
    })
    const problems = validateExamples(task).join('\n')
    expect(problems).toMatch(/"Greet" example 3 \("Bad"\): name: .*expected string/i)
    expect(problems).toContain('"Greet" example 4 ("Broken"): the YAML does not parse')
    expect(problems).not.toContain('"Expression"')
  })

  it('validates full-flow examples on the blocks using the type', () => {
    const task = defineTask({
      name: 'Greet',
      properties: z.object({ name: z.string() }),
      examples: [
        {
          title: 'Flow',
          full: true,
          code: 'id: f\nnamespace: n\ntasks:\n  - id: a\n    type: acme.greet.Greet\n    version: "1.0.0"\n    name: 7',
        },
      ],
      run: () => undefined,
    })
    expect(validateExamples(task)).toEqual([
      expect.stringMatching(/"Flow"\): name: .*expected string/i),
    ])
  })
})

describe('condition examples', () => {
  it('keep keys such as `conditions` that tasks reserve for the flow', () => {
    const or = defineCondition({
      name: 'Or',
      properties: z.object({ conditions: z.array(z.record(z.string(), z.unknown())).min(1) }),
      examples: [{ title: 'Two', code: 'conditions:\n  - type: a.b.C\n  - type: a.b.D' }],
      test: () => true,
    })
    expect(validateExamples(or)).toEqual([])
    const empty = defineCondition({ ...or, examples: [{ title: 'None', code: 'conditions: []' }] })
    expect(validateExamples(empty)).toEqual([
      expect.stringMatching(/"Or" example 1 \("None"\): conditions: /),
    ])
  })
})
