import { defineCondition, z } from '@kite/sdk'
import { renderedBoolean } from './rendered-boolean.js'

export const expression = defineCondition({
  name: 'condition.Expression',
  title: 'Expression',
  description:
    "Passes when `expression` renders to `true`. It is rendered when the condition is tested, in the condition's own context (on a flow trigger: the upstream execution, its outputs and labels). Rendering to `false` or to nothing fails the condition; any other text is an error.",
  properties: z.object({
    expression: z
      .string()
      .min(1)
      .meta({ dynamic: false })
      .describe('A `{{ }}` template that renders to `true` or `false`.'),
  }),
  examples: [
    {
      title: 'Only for big exports',
      code: 'expression: "{{ outputs.export.size > 1000 }}"',
    },
  ],
  async test(props, ctx) {
    const text = await ctx.render(props.expression)
    return renderedBoolean(text, `expression "${props.expression}"`)
  },
})
