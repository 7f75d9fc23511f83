import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../config.js'
import { createInputCipher } from './input-encryption.js'

const KEY = 'k'.repeat(32)

describe('the SECRET input cipher', () => {
  it('round-trips any text, with a fresh ciphertext each time', () => {
    const cipher = createInputCipher(KEY)
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        const sealed = cipher.encrypt(text)
        expect(sealed.startsWith('kite:enc:v1:')).toBe(true)
        expect(cipher.decrypt(sealed)).toBe(text)
        // Short texts may occur in the base64 by chance; longer ones must not show through.
        if (text.length >= 12) expect(sealed).not.toContain(text)
      }),
    )
    expect(cipher.encrypt('same')).not.toBe(cipher.encrypt('same'))
    // Values written before a key was set come back as they are.
    expect(cipher.decrypt('plain')).toBe('plain')
  })

  it('refuses another key, a tampered value and a short key, clearly', () => {
    const sealed = createInputCipher(KEY).encrypt('secret')
    expect(() => createInputCipher('x'.repeat(32)).decrypt(sealed)).toThrow(
      'secrets.encryptionKey is not the key it was encrypted with',
    )
    const tampered = `${sealed.slice(0, -4)}AAAA`
    expect(() => createInputCipher(KEY).decrypt(tampered)).toThrow(/cannot decrypt/)
    expect(() => createInputCipher('short')).toThrow(/at least 32 characters.*openssl rand/)
    expect(() => parseConfig({ secrets: { encryptionKey: 'short' } })).toThrow(/encryptionKey/)
  })
})
