import { describe, expect, it } from 'vitest'
import { createSecretMasker, MASK, maskSecrets } from './secrets.js'

describe('secret masking', () => {
  it('hides a secret that contains another one whole', () => {
    // Masking the short one first would leave "abc" + MASK + "ghi" visible.
    expect(maskSecrets('token abcdefghi', ['def', 'abcdefghi'])).toBe(`token ${MASK}`)
    expect(createSecretMasker(['def', 'abcdefghi'])('token abcdefghi and def')).toBe(
      `token ${MASK} and ${MASK}`,
    )
  })

  it('ignores empty values and leaves text without secrets alone', () => {
    expect(maskSecrets('nothing here', ['', 'zzz'])).toBe('nothing here')
    expect(createSecretMasker([''])('text')).toBe('text')
  })
})
