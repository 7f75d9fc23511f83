import { describe, expect, it } from 'vitest'
import { applyPluginDefaults, type DefaultsLevel } from './plugin-defaults.js'

const level = (name: DefaultsLevel['level'], entries: DefaultsLevel['entries']): DefaultsLevel => ({
  level: name,
  label: name,
  entries,
})

describe('applyPluginDefaults', () => {
  it('fills only unset properties; forced values win over the task', () => {
    const merged = applyPluginDefaults('kite.http.Request', { uri: 'http://a', method: 'POST' }, [
      level('flow', [
        {
          type: 'kite.http',
          values: { method: 'GET', timeout: 'PT10S', version: '^1' },
          forced: false,
        },
        { type: 'kite.http', values: { headers: { a: '1' } }, forced: true },
      ]),
      level('instance', [{ type: 'kite.http', values: { uri: 'http://forced' }, forced: true }]),
    ])
    expect(merged).toEqual({
      uri: 'http://forced',
      method: 'POST',
      timeout: 'PT10S',
      headers: { a: '1' },
    })
  })

  it('prefers the most specific entry, then the nearest level', () => {
    const merged = applyPluginDefaults('kite.http.Request', {}, [
      level('flow', [
        { type: 'kite', values: { a: 'flow-group', b: 'flow-group' }, forced: false },
      ]),
      level('namespace', [{ type: 'kite.http.Request', values: { a: 'ns-exact' }, forced: false }]),
      level('instance', [
        { type: 'kite', values: { b: 'instance-group', c: 'instance' }, forced: false },
      ]),
    ])
    expect(merged).toEqual({ a: 'ns-exact', b: 'flow-group', c: 'instance' })
  })

  it('ignores entries for other types and never sets id, type or version', () => {
    const values = { x: 1 }
    expect(
      applyPluginDefaults('kite.http.Request', values, [
        level('flow', [
          { type: 'kite.httpx', values: { y: 2 }, forced: true },
          { type: 'kite.http', values: { id: 'no', type: 'no', version: '1' }, forced: true },
        ]),
      ]),
    ).toEqual({ x: 1 })
  })
})
