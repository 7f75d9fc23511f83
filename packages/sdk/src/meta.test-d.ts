import { describe, expectTypeOf, it } from 'vitest'
import type * as host from './host/index.js'
import type * as author from './index.js'
import { kiteMeta, z } from './index.js'

describe("Kite's zod metadata", () => {
  it('takes dynamic, exclusive and deprecated with their types', () => {
    z.string().meta({ dynamic: false })
    z.object({ value: z.string(), uri: z.string() }).meta({ exclusive: [['value', 'uri']] })
    z.number().meta({ deprecated: true })
  })

  it('refuses wrong values for them', () => {
    // @ts-expect-error dynamic is a boolean
    z.string().meta({ dynamic: 'no' })
    // @ts-expect-error an exclusive group names at least two fields
    z.object({}).meta({ exclusive: [['value']] })
    // @ts-expect-error exclusive is a list of groups, not one group
    z.object({}).meta({ exclusive: ['value', 'uri'] })
    // @ts-expect-error deprecated is a boolean
    z.number().meta({ deprecated: 1 })
  })

  it('kiteMeta refuses a misspelt key, which plain .meta() lets through', () => {
    z.string().meta({ dynamc: false }) // compiles: zod's metadata is open JSON Schema
    // @ts-expect-error dynamc is not one of Kite's keys
    z.string().meta(kiteMeta({ dynamc: false }))
    // @ts-expect-error exclusiv is not one of Kite's keys
    z.object({}).meta(kiteMeta({ exclusiv: [['value', 'uri']] }))
    // @ts-expect-error dynamic is a boolean here too
    z.string().meta(kiteMeta({ dynamic: 'no' }))
    z.string().meta(kiteMeta({ dynamic: false, description: 'a script', title: 'Script' }))
    z.object({ value: z.string(), uri: z.string() }).meta(
      kiteMeta({ exclusive: [['value', 'uri']], examples: [{ value: 'x' }] }),
    )
    expectTypeOf(kiteMeta({ deprecated: true })).toEqualTypeOf<author.KiteMeta>()
  })
})

describe('entry points per audience', () => {
  it('keeps host functions out of the author entry', () => {
    expectTypeOf<typeof author>().not.toHaveProperty('invokeTask')
    expectTypeOf<typeof author>().not.toHaveProperty('parseManifest')
    expectTypeOf<typeof author>().not.toHaveProperty('renderProperties')
    expectTypeOf<typeof author>().toHaveProperty('defineTask')
    expectTypeOf<typeof host>().toHaveProperty('invokeTask')
    expectTypeOf<typeof host>().toHaveProperty('createPluginRunContext')
    expectTypeOf<typeof host>().not.toHaveProperty('defineTask')
  })
})
