import { defineCondition, z } from '@kite/sdk'

/** A condition: flows use it on triggers to decide whether an event starts an execution. */
export const __CONDITION_VAR__ = defineCondition({
  name: '__CONDITION_NAME__',
  title: 'Text contains',
  description: 'Passes when `text` contains `search`.',
  properties: z.object({
    text: z.string().describe('The text to look in, e.g. `{{ trigger.item }}`.'),
    search: z.string().min(1).describe('What to look for.'),
    ignoreCase: z.boolean().describe('Compare without regard to case.').default(false),
  }),
  examples: [{ title: 'Items about cats', code: 'text: "{{ trigger.item }}"\nsearch: cat' }],
  test(props) {
    if (!props.ignoreCase) return props.text.includes(props.search)
    return props.text.toLowerCase().includes(props.search.toLowerCase())
  },
})
