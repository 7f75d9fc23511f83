import { describe, expectTypeOf, it } from 'vitest'
import { defineTask, z } from './index.js'

describe('defineTask at compile time', () => {
  it('refuses a run() whose result does not match the outputs schema', () => {
    defineTask({
      name: 'Wrong',
      properties: z.object({}),
      outputs: z.object({ height: z.number() }),
      // @ts-expect-error height must be a number
      run: () => ({ height: 'tall' }),
    })
  })

  it('refuses reading a property the schema does not have', () => {
    defineTask({
      name: 'WrongProp',
      properties: z.object({ a: z.string() }),
      run(props) {
        // @ts-expect-error b is not a property
        return void props.b
      },
    })
  })

  it('types props after defaults and the result before them', () => {
    const task = defineTask({
      name: 'Fetch',
      properties: z.object({ pokemon: z.string().default('pikachu') }),
      outputs: z.object({ height: z.number(), note: z.string().default('none') }),
      run: (props) => ({ height: props.pokemon.length }),
    })
    expectTypeOf<Parameters<typeof task.run>[0]>().toEqualTypeOf<{ pokemon: string }>()
    expectTypeOf<Awaited<ReturnType<typeof task.run>>>().toEqualTypeOf<{
      height: number
      note?: string | undefined
    }>()
  })
})
