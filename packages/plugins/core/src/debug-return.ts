import { defineTask, z } from '@kite/sdk'

export const debugReturn = defineTask({
  name: 'debug.Return',
  title: 'Return a value',
  description:
    'Renders `format` and returns it as the `value` output: handy to compute a value once and reuse it, or to look at what an expression gives. Numbers and booleans are turned into text; lists and maps into JSON.',
  properties: z.object({
    format: z
      .union([
        z.string(),
        z.number(),
        z.boolean(),
        z.null(),
        z.array(z.unknown()),
        z.record(z.string(), z.unknown()),
      ])
      .describe('The text to return, usually holding `{{ }}` expressions.'),
  }),
  outputs: z.object({
    value: z.string().describe('The rendered text.'),
  }),
  examples: [
    { title: 'Return a greeting', code: 'format: "Hello {{ inputs.name }}"' },
    {
      title: 'Compute a file name',
      code: 'format: "report-{{ now() | date(\'yyyy-MM-dd\') }}.csv"',
    },
  ],
  run(props) {
    const { format } = props
    const value =
      typeof format === 'string'
        ? format
        : format === null
          ? ''
          : typeof format === 'object'
            ? JSON.stringify(format)
            : String(format)
    return { value }
  },
})
