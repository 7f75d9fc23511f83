import { defineTask, z } from '@kite/sdk'

export const hello = defineTask({
  name: 'Hello',
  title: 'Say hello',
  description: 'Greets someone by name and returns the greeting.',
  properties: z.object({
    name: z.string().min(1).describe('Who to greet.').default('world'),
    greeting: z.string().describe('The word to greet with.').default('Hello'),
  }),
  outputs: z.object({
    message: z.string().describe('The greeting, e.g. "Hello, world!".'),
  }),
  examples: [
    { title: 'Greet Ada', code: 'name: Ada' },
    { title: 'Greet an input', code: 'name: "{{ inputs.name }}"\ngreeting: Bonjour' },
  ],
  run(props, ctx) {
    const message = `${props.greeting}, ${props.name}!`
    ctx.logger.info(message)
    return { message }
  },
})
