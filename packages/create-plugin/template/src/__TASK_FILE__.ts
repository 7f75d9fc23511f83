import { defineTask, z } from '@kite/sdk'

/**
 * A task: `properties` are what a flow writes under the task (rendered from `{{ }}` expressions,
 * then validated), `outputs` what later tasks read as `{{ outputs.<task id>.* }}`.
 */
export const __TASK_VAR__ = defineTask({
  name: '__TASK_NAME__',
  title: '__TASK_TITLE__',
  description: '__TASK_DESCRIPTION__',
  properties: z.object({
    name: z.string().min(1).describe('Who to greet.').default('world'),
  }),
  outputs: z.object({
    message: z.string().describe('The greeting, e.g. "Hello, world!".'),
  }),
  examples: [
    { title: 'Greet Ada', code: 'name: Ada' },
    { title: 'Greet an input', code: 'name: "{{ inputs.name }}"' },
  ],
  run(props, ctx) {
    const message = `Hello, ${props.name}!`
    ctx.logger.info(message)
    return { message }
  },
})
