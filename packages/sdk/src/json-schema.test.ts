import { describe, expect, it } from 'vitest'
import { fetch } from '../test/fixtures/pokemon-plugin.js'
import { z } from './index.js'
import { describeJsonType, outputsJsonSchema, propertiesJsonSchema } from './json-schema.js'

describe('propertiesJsonSchema', () => {
  const schema = propertiesJsonSchema(fetch.properties)

  it('is the input side: a property with a default is optional and shows the default', () => {
    expect(schema.type).toBe('object')
    expect(schema.properties?.pokemon).toMatchObject({
      type: 'string',
      default: 'pikachu',
      description: 'Name of the Pokémon.',
    })
    expect(schema.required ?? []).not.toContain('pokemon')
  })

  it('marks every property $dynamic, false only where meta says so', () => {
    expect(schema.properties?.pokemon?.$dynamic).toBe(true)
    expect(schema.properties?.raw?.$dynamic).toBe(false)
    expect(schema.properties?.raw).not.toHaveProperty('dynamic')
  })

  it('marks deprecated properties with $deprecated', () => {
    expect(schema.properties?.legacyId?.$deprecated).toBe(true)
    expect(schema.properties?.pokemon?.$deprecated).toBe(false)
  })

  it('keeps titles and examples given with meta', () => {
    const json = propertiesJsonSchema(
      z.object({ uri: z.string().meta({ title: 'URI', examples: ['http://127.0.0.1/'] }) }),
    )
    expect(json.properties?.uri).toMatchObject({ title: 'URI', examples: ['http://127.0.0.1/'] })
    expect(json.required).toEqual(['uri'])
  })

  it('does not crash on types JSON Schema cannot express', () => {
    const json = propertiesJsonSchema(z.object({ when: z.date().optional() }))
    expect(json.properties).toHaveProperty('when')
  })
})

describe('outputsJsonSchema', () => {
  it('is the output side: a field with a default is required', () => {
    const json = outputsJsonSchema(z.object({ note: z.string().default('x'), height: z.number() }))
    expect(json.required).toEqual(['note', 'height'])
  })
})

describe('describeJsonType', () => {
  it.each([
    [{ type: 'string' }, 'string'],
    [{ enum: ['GET', 'POST'] }, '"GET" | "POST"'],
    [{ type: 'array', items: { type: 'number' } }, 'array<number>'],
    [{ anyOf: [{ type: 'string' }, { type: 'null' }] }, 'string | null'],
    [{ type: 'string', format: 'uri' }, 'string (uri)'],
    [{}, 'any'],
  ])('describes %j as %s', (schema, text) => {
    expect(describeJsonType(schema)).toBe(text)
  })
})
