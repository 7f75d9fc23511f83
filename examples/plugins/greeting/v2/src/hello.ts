import { defineTask, z } from '@kite/sdk'

// 2.0.0: `name` became `who`. The migration moves it, so `kite plugins upgrade` can move flows.
export const hello = defineTask({
  name: 'Hello',
  title: 'Say hello',
  description: 'Greets someone and returns the greeting.',
  properties: z.object({
    who: z.string().min(1).describe('Who to greet (was `name` in 1.x).').default('world'),
    greeting: z.string().describe('The word to greet with.').default('Hello'),
  }),
  outputs: z.object({
    message: z.string().describe('The greeting, e.g. "Hello, world!".'),
  }),
  examples: [{ title: 'Greet Ada', code: 'who: Ada' }],
  migrations: [
    {
      from: '1.x',
      note: '`name` is renamed `who`',
      up({ name, ...rest }) {
        if (name === undefined) return rest
        if (rest.who !== undefined) {
          throw new Error('both `name` and `who` are set; keep one of them')
        }
        return { ...rest, who: name }
      },
    },
  ],
  run(props, ctx) {
    const message = `${props.greeting}, ${props.who}!`
    ctx.logger.info(message)
    return { message }
  },
})

export const goodbye = defineTask({
  name: 'Goodbye',
  title: 'Say goodbye',
  description: 'New in 2.0.0: says goodbye.',
  properties: z.object({ who: z.string().min(1).describe('Who to see off.').default('world') }),
  outputs: z.object({ message: z.string().describe('The farewell.') }),
  examples: [{ title: 'See Ada off', code: 'who: Ada' }],
  run: (props) => ({ message: `Goodbye, ${props.who}!` }),
})
