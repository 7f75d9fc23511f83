import { defineTrigger, z } from '@kite/sdk'

export const visitors = defineTrigger({
  name: 'Visitors',
  title: 'New visitors',
  description:
    'Emits one event per visitor not seen yet, in order, remembering how far it got between polls.',
  properties: z.object({
    names: z.array(z.string()).describe('The guest book: every visitor so far, oldest first.'),
    batchSize: z.number().int().positive().describe('The most events one poll emits.').default(10),
  }),
  outputs: z.object({
    name: z.string().describe('The visitor.'),
    position: z.number().int().describe('Their place in the guest book, from 1.'),
  }),
  interval: 'PT1M',
  examples: [{ title: 'Watch a guest book', code: 'names: [Ada, Grace]\nbatchSize: 1' }],
  async poll(props, ctx) {
    const cursor = (await ctx.state.get<number>('cursor')) ?? 0
    const batch = props.names.slice(cursor, cursor + props.batchSize)
    await ctx.state.set('cursor', cursor + batch.length)
    return batch.map((name, index) => ({ name, position: cursor + index + 1 }))
  },
})
