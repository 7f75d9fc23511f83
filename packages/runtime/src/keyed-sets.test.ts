import { describe, expect, it } from 'vitest'
import { addToSet, removeFromSet } from './keyed-sets.js'

describe('keyed sets', () => {
  it('keeps a set per key, and drops the set with its last value', () => {
    const map = new Map<string, Set<number>>()
    addToSet(map, 'a', 1)
    addToSet(map, 'a', 2)
    addToSet(map, 'b', 3)
    expect([...(map.get('a') ?? [])]).toEqual([1, 2])
    removeFromSet(map, 'a', 1)
    removeFromSet(map, 'a', 9)
    removeFromSet(map, 'missing', 1)
    expect([...(map.get('a') ?? [])]).toEqual([2])
    removeFromSet(map, 'a', 2)
    expect(map.has('a')).toBe(false)
    expect([...map.keys()]).toEqual(['b'])
  })
})
