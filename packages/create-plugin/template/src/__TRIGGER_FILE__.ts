import { defineTrigger, z } from '@kite/sdk'

/**
 * A polling trigger: the runtime calls `poll` every `interval` and starts one execution per
 * event it returns; `ctx.state` keeps a cursor between polls and across restarts.
 */
export const __TRIGGER_VAR__ = defineTrigger({
  name: '__TRIGGER_NAME__',
  title: 'New items',
  description: 'Emits one event per item of `items` not seen yet, oldest first.',
  properties: z.object({
    items: z.array(z.string()).describe('Every item so far, oldest first.'),
    batchSize: z.number().int().positive().describe('The most events one poll emits.').default(10),
  }),
  outputs: z.object({
    item: z.string().describe('The new item.'),
    position: z.number().int().describe('Its place in `items`, from 1.'),
  }),
  interval: 'PT1M',
  examples: [{ title: 'Watch a list', code: 'items: [first, second]\nbatchSize: 1' }],
  async poll(props, ctx) {
    const cursor = (await ctx.state.get<number>('cursor')) ?? 0
    const batch = props.items.slice(cursor, cursor + props.batchSize)
    await ctx.state.set('cursor', cursor + batch.length)
    return batch.map((item, index) => ({ item, position: cursor + index + 1 }))
  },
})
