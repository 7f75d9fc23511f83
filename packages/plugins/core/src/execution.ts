import { defineTask, KiteError, z } from '@kite/sdk'

export const fail = defineTask({
  name: 'execution.Fail',
  title: 'Fail the execution',
  description:
    'Fails its task run with `errorMessage`, which fails the execution unless the task sets `allowFailure`. With `condition`, it fails only when the condition is true and otherwise succeeds doing nothing. Use it after a check, or in a `kite.flow.If` branch.',
  properties: z.object({
    errorMessage: z
      .string()
      .min(1)
      .default('Task failure')
      .describe('The error the task run fails with.'),
    condition: z
      .boolean()
      .optional()
      .describe(
        'Fail only when this is true, usually an expression such as `{{ outputs.check.count == 0 }}`. Fails always when not set.',
      ),
  }),
  examples: [
    { title: 'Fail with a message', code: 'errorMessage: "no rows for {{ inputs.day }}"' },
    {
      title: 'Fail only when a check found nothing',
      code: 'condition: "{{ outputs.query.size == 0 }}"\nerrorMessage: "the export is empty"',
    },
  ],
  run(props, ctx) {
    if (props.condition === false) {
      ctx.logger.debug('condition is false: not failing')
      return
    }
    throw new KiteError(props.errorMessage, { code: 'EXECUTION_FAILED', kind: 'user' })
  },
})

const LabelValue = z.union([z.string(), z.number(), z.boolean()])

export const labels = defineTask({
  name: 'execution.Labels',
  title: 'Add labels to the execution',
  description:
    "Adds labels to the running execution, or changes their values. The task outputs the labels as `labels`, and the runtime applies the labels of this task's outputs to the execution (existing keys are overwritten), so they show in the execution list and can be filtered on. Values may be computed with expressions; numbers and booleans become text.",
  properties: z.object({
    labels: z
      .union([
        z.record(z.string().min(1), LabelValue),
        z.array(
          z.object({
            key: z.string().min(1).describe('The label key.'),
            value: LabelValue.describe('The label value.'),
          }),
        ),
      ])
      .describe('The labels, as a map `{ key: value }` or a list of `{ key, value }` entries.'),
  }),
  outputs: z.object({
    labels: z
      .record(z.string(), z.string())
      .describe('The labels to apply to the execution, values as text.'),
  }),
  examples: [
    {
      title: 'Label by customer',
      code: 'labels:\n  customer: "{{ inputs.customer }}"\n  tier: gold',
    },
    {
      title: 'Labels as a list',
      code: 'labels:\n  - key: rows\n    value: "{{ outputs.query.size }}"',
    },
  ],
  run(props) {
    const entries = Array.isArray(props.labels)
      ? props.labels.map(({ key, value }) => [key, value] as const)
      : Object.entries(props.labels)
    if (entries.length === 0) {
      throw new KiteError('labels is empty: give at least one label', {
        code: 'LABELS_EMPTY',
        kind: 'user',
      })
    }
    return { labels: Object.fromEntries(entries.map(([key, value]) => [key, String(value)])) }
  },
})
