import { describe, expect, it } from 'vitest'
import { definePlugin, defineTask, z } from '../index.js'
import { createManifest } from '../manifest.js'
import { misspeltMetaKeys } from './meta-keys.js'

const pkg = { name: '@acme/kite-plugin-meta', version: '1.0.0' }

function manifestOf(properties: z.ZodObject, outputs = z.object({})) {
  const task = defineTask({ name: 'Task', properties, outputs, run: () => ({}) as never })
  return createManifest(definePlugin({ group: 'acme.meta', title: 'M', tasks: [task] }), pkg, {
    entry: 'dist/index.js',
    sdkRange: '*',
  })
}

describe('misspelt Kite metadata keys', () => {
  it('accepts the real keys and a property merely named like a misspelling', () => {
    const manifest = manifestOf(
      z.object({
        template: z.string().meta({ dynamic: false }),
        old: z.number().optional().meta({ deprecated: true }),
        dynamc: z.string().optional(),
      }),
      z.object({ value: z.string().optional(), uri: z.string().optional() }).meta({
        exclusive: [['value', 'uri']],
      }),
    )
    expect(misspeltMetaKeys(manifest)).toEqual([])
  })

  it('names each misspelt key, where it is, and the key meant', () => {
    // Misspelt keys are what the types cannot catch: zod's metadata takes any key.
    const manifest = manifestOf(
      z.object({ template: z.string().meta({ Dynamic: false, deprecatd: true }) }),
      z.object({ value: z.string() }).meta({ exclusiv: [['value', 'uri']] }),
    )
    expect(misspeltMetaKeys(manifest)).toEqual([
      'acme.meta.Task properties.template: the metadata key "Dynamic" is not one Kite reads; did you mean "dynamic"?',
      'acme.meta.Task properties.template: the metadata key "deprecatd" is not one Kite reads; did you mean "deprecated"?',
      'acme.meta.Task outputs: the metadata key "exclusiv" is not one Kite reads; did you mean "exclusive"?',
    ])
  })
})
