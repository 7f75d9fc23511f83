import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parsePluginSpec } from './plugin-spec.js'

const segment = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/)
const name = fc.oneof(
  segment,
  fc.tuple(segment, segment).map(([scope, bare]) => `@${scope}/${bare}`),
)
const spec = fc.oneof(
  fc.constantFrom('LATEST', 'oldest', '^1', '~1.2', '>=1 <3', 'beta'),
  fc.tuple(fc.nat(99), fc.nat(99), fc.nat(99)).map((parts) => parts.join('.')),
)

describe('parsePluginSpec', () => {
  it('splits scoped and bare names from their spec', () => {
    expect(parsePluginSpec('@acme/kite-plugin-greeting@^1')).toEqual({
      name: '@acme/kite-plugin-greeting',
      spec: '^1',
    })
    expect(parsePluginSpec('@acme/kite-plugin-greeting')).toEqual({
      name: '@acme/kite-plugin-greeting',
    })
    expect(parsePluginSpec('kite-plugin-x@')).toEqual({ name: 'kite-plugin-x' })
  })

  it('gives back the name and spec it was built from (property)', () => {
    fc.assert(
      fc.property(name, spec, (n, s) => {
        expect(parsePluginSpec(`${n}@${s}`)).toEqual({ name: n, spec: s })
        expect(parsePluginSpec(n)).toEqual({ name: n })
      }),
    )
  })

  it('never throws on any text, and keeps every character (property)', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const parsed = parsePluginSpec(text)
        expect(parsed.spec === undefined ? parsed.name : `${parsed.name}@${parsed.spec}`).toBe(
          text.endsWith('@') && text.indexOf('@', 1) === text.length - 1 ? text.slice(0, -1) : text,
        )
      }),
    )
  })
})
