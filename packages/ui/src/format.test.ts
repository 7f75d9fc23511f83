import { describe, expect, it } from 'vitest'
import { typeInGroup } from './format'

describe('typeInGroup', () => {
  it('keeps what tells types of one plugin apart', () => {
    const types = [
      'kite.scripts.node.Script',
      'kite.scripts.python.Script',
      'kite.scripts.shell.Script',
    ]
    expect(types.map((type) => typeInGroup(type, 'kite.scripts'))).toEqual([
      'node.Script',
      'python.Script',
      'shell.Script',
    ])
    expect(typeInGroup('acme.greeting.Hello', 'acme.greeting')).toBe('Hello')
  })

  it('keeps the whole id outside the group, or without one', () => {
    expect(typeInGroup('kite.scriptsx.Run', 'kite.scripts')).toBe('kite.scriptsx.Run')
    expect(typeInGroup('kite.core.log.Log', undefined)).toBe('kite.core.log.Log')
  })
})
