import { defineTask, z } from '@kite/sdk'

export const outputValues = defineTask({
  name: 'output.OutputValues',
  title: 'Output values',
  description:
    'Exposes the given values as the `values` output, so later tasks read them as `{{ outputs.<id>.values.<key> }}`. Values may be any JSON: text, numbers, lists, maps.',
  properties: z.object({
    values: z
      .record(z.string(), z.unknown())
      .describe('The values to output, by key; expressions render to their native values.'),
  }),
  outputs: z.object({
    values: z.record(z.string(), z.unknown()).describe('The values, as given.'),
  }),
  examples: [
    {
      title: 'Output a few values',
      code: 'values:\n  customer: "{{ inputs.customer }}"\n  total: "{{ outputs.sum.value }}"\n  tags: [vip, eu]',
    },
  ],
  run: (props) => ({ values: props.values }),
})
