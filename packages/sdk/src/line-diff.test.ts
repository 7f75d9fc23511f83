import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { lineDiff } from './line-diff.js'

/** The two texts a diff stands for: the lines marked same or removed, and same or added. */
const sides = (diff: string) => {
  const lines = diff.split('\n')
  const side = (mark: string) =>
    lines.filter((line) => line[0] === ' ' || line[0] === mark).map((line) => line.slice(2))
  return { before: side('-'), after: side('+') }
}

describe('lineDiff', () => {
  it('marks removed and added lines and keeps the rest', () => {
    expect(lineDiff('a\nb\nc\n', 'a\nx\nc\n')).toBe('  a\n- b\n+ x\n  c')
    expect(lineDiff('a\n', 'a\n')).toBe('  a')
  })

  it('does not count a missing last newline as a change', () => {
    expect(lineDiff('a\nb', 'a\nb\n')).toBe('  a\n  b')
    expect(lineDiff('a\nb\n', 'a\nc')).toBe('  a\n- b\n+ c')
  })

  it('gives back both texts from any pair of texts', () => {
    const text = fc
      .array(fc.constantFrom('a', 'b', 'c', '  - id: x', ''), { maxLength: 12 })
      .map((lines) => lines.join('\n'))
    fc.assert(
      fc.property(text, text, (before, after) => {
        const { before: was, after: is } = sides(lineDiff(before, after))
        expect(was).toEqual(before.replace(/\n$/, '').split('\n'))
        expect(is).toEqual(after.replace(/\n$/, '').split('\n'))
      }),
    )
  })
})
