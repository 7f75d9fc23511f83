import { describe, expect, it } from 'vitest'
import { isPluginAllowed } from './plugin-security.js'

describe('isPluginAllowed', () => {
  it('allows everything without rules', () => {
    expect(isPluginAllowed('@acme/x', { includes: [], excludes: [] })).toBe(true)
  })
  it('needs an include when there are includes, and an exclude wins', () => {
    const security = { includes: ['@acme/*', '@kite/plugin-core'], excludes: ['@acme/bad*'] }
    expect(isPluginAllowed('@acme/kite-plugin-greeting', security)).toBe(true)
    expect(isPluginAllowed('@kite/plugin-core', security)).toBe(true)
    expect(isPluginAllowed('@kite/plugin-http', security)).toBe(false)
    expect(isPluginAllowed('@acme/bad-plugin', security)).toBe(false)
  })
})
