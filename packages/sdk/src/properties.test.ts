import { describe, expect, it } from 'vitest'
import { z } from './index.js'
import { propertiesJsonSchema } from './json-schema.js'
import { renderProperties } from './properties.js'

const schema = propertiesJsonSchema(
  z.object({
    message: z.string(),
    script: z.string().meta({ dynamic: false }),
    options: z.object({ text: z.string(), template: z.string().meta({ dynamic: false }) }),
    list: z.array(z.string()),
  }),
)
const render = (value: unknown): unknown =>
  typeof value === 'string'
    ? value.replaceAll('{{ x }}', 'X')
    : Array.isArray(value)
      ? value.map(render)
      : value

describe('renderProperties', () => {
  it('renders dynamic properties and leaves dynamic: false ones alone, also nested', () => {
    expect(
      renderProperties(
        {
          message: 'a {{ x }}',
          script: 'b {{ x }}',
          options: { text: '{{ x }}', template: '{{ x }}' },
          list: ['{{ x }}'],
          unknown: '{{ x }}',
        },
        schema,
        render,
      ),
    ).toEqual({
      message: 'a X',
      script: 'b {{ x }}',
      options: { text: 'X', template: '{{ x }}' },
      list: ['X'],
      unknown: 'X',
    })
  })
})
