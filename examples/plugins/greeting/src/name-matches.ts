import { defineCondition, KiteError, z } from '@kite/sdk'

export const nameMatches = defineCondition({
  name: 'NameMatches',
  title: 'Name matches a pattern',
  description: 'Passes when `name` matches the regular expression `pattern` (whole string).',
  properties: z.object({
    name: z.string().describe('The name to test, usually `{{ trigger.name }}`.'),
    pattern: z.string().describe('A JavaScript regular expression.'),
    ignoreCase: z.boolean().default(false),
  }),
  examples: [
    { title: 'Names starting with A', code: 'name: "{{ trigger.name }}"\npattern: "A.*"' },
  ],
  test(props) {
    let regex: RegExp
    try {
      regex = new RegExp(`^(?:${props.pattern})$`, props.ignoreCase ? 'i' : '')
    } catch (error) {
      throw new KiteError(`pattern "${props.pattern}" is not a valid regular expression`, {
        code: 'PATTERN_INVALID',
        cause: error,
      })
    }
    return regex.test(props.name)
  },
})
