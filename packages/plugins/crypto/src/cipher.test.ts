import { randomBytes } from 'node:crypto'
import { createSharedContext, runTask } from '@kite/sdk/testing'
import { describe, expect, it } from 'vitest'
import { decrypt, encrypt } from './cipher.js'

const KEY = randomBytes(32).toString('base64')
const secrets = { ENCRYPTION_KEY: KEY }
const key = "{{ secret('ENCRYPTION_KEY') }}"

async function roundTrip(value: string, extra: Record<string, unknown> = {}) {
  const encrypted = await runTask(encrypt, { key, value, ...extra }, { secrets })
  const token = String(encrypted.outputs.value)
  const decrypted = await runTask(decrypt, { key, value: token, ...extra }, { secrets })
  return { token, plaintext: decrypted.outputs.value, logs: [...encrypted.logs, ...decrypted.logs] }
}

describe('Encrypt and Decrypt', () => {
  it('round-trips text under a base64 key as a self-describing v1 value', async () => {
    const { token, plaintext, logs } = await roundTrip('crème brûlée ☕ secret')
    expect(token).toMatch(/^v1:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]+$/)
    expect(plaintext).toBe('crème brûlée ☕ secret')
    expect(JSON.stringify(logs)).not.toContain(KEY)
    const again = await roundTrip('crème brûlée ☕ secret')
    expect(again.token).not.toBe(token)
  })

  it('round-trips with a hex key, a passphrase, associated data and an empty text', async () => {
    const hex = randomBytes(32).toString('hex')
    const encrypted = await runTask(encrypt, { key: hex, keyFormat: 'HEX', value: '' })
    const decrypted = await runTask(decrypt, {
      key: hex,
      keyFormat: 'HEX',
      value: encrypted.outputs.value,
    })
    expect(decrypted.outputs).toEqual({ value: '' })
    const pass = { key: 'correct horse battery staple', keyFormat: 'PASSPHRASE' }
    const sealed = await runTask(encrypt, { ...pass, value: 'hi', associatedData: 'order-42' })
    expect(sealed.outputs.value).toMatch(/^v1s:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]{16}:/)
    const opened = await runTask(decrypt, {
      ...pass,
      value: sealed.outputs.value,
      associatedData: 'order-42',
    })
    expect(opened.outputs.value).toBe('hi')
    await expect(
      runTask(decrypt, { ...pass, value: sealed.outputs.value, associatedData: 'order-43' }),
    ).rejects.toMatchObject({ code: 'DECRYPTION_FAILED' })
  })

  it('decrypts the AES-256-GCM known-answer vector (GCM spec test case 14)', async () => {
    const b64url = (hex: string) => Buffer.from(hex, 'hex').toString('base64url')
    const token = [
      'v1',
      b64url('000000000000000000000000'),
      b64url('d0d1c8a799996bf0265b98b5d48ab919'),
      b64url('cea7403d4d606b6e074ec5d3baf39d18'),
    ].join(':')
    const { outputs } = await runTask(decrypt, {
      key: Buffer.alloc(32).toString('base64'),
      value: token,
      outputEncoding: 'BASE64',
    })
    expect(outputs.value).toBe(Buffer.alloc(16).toString('base64'))
  })

  it('detects tampering and a wrong key without leaking the key', async () => {
    const { token } = await roundTrip('pay 100 to Ada')
    const [prefix, iv = '', tag = '', ciphertext = ''] = token.split(':')
    // Changes the first character: one base64url digit, six bits of the part.
    const flip = (part: string) => `${part[0] === 'A' ? 'B' : 'A'}${part.slice(1)}`
    for (const altered of [
      [prefix, iv, tag, flip(ciphertext)].join(':'),
      [prefix, iv, flip(tag), ciphertext].join(':'),
      [prefix, flip(iv), tag, ciphertext].join(':'),
    ]) {
      await expect(runTask(decrypt, { key, value: altered }, { secrets })).rejects.toMatchObject({
        code: 'DECRYPTION_FAILED',
        message:
          'decryption failed: the key (or associatedData) is not the one used to encrypt, or the encrypted value was altered',
      })
    }
    const otherKey = randomBytes(32).toString('base64')
    const failure = runTask(decrypt, { key: otherKey, value: token })
    await expect(failure).rejects.toMatchObject({ code: 'DECRYPTION_FAILED' })
    await expect(failure).rejects.not.toThrow(otherKey)
  })

  it('explains a bad key, a key format mismatch and a value it did not make', async () => {
    const short = randomBytes(16).toString('base64')
    const failure = runTask(encrypt, { key: short, value: 'x' })
    await expect(failure).rejects.toMatchObject({
      code: 'KEY_INVALID',
      message: expect.stringContaining(
        'the key is not 32 bytes of base64 (it decodes to 16 bytes)',
      ),
    })
    await expect(failure).rejects.not.toThrow(short)
    await expect(
      runTask(encrypt, { key: 'not hex at all!', keyFormat: 'HEX', value: 'x' }),
    ).rejects.toThrow(/it has characters outside that alphabet/)
    const sealed = await runTask(encrypt, { key: 'pw', keyFormat: 'PASSPHRASE', value: 'x' })
    await expect(runTask(decrypt, { key: KEY, value: sealed.outputs.value })).rejects.toMatchObject(
      {
        code: 'KEY_FORMAT_MISMATCH',
        message: 'the value was encrypted with a passphrase: set `keyFormat: PASSPHRASE`',
      },
    )
    await expect(runTask(decrypt, { key: KEY, value: 'hello' })).rejects.toMatchObject({
      code: 'DECRYPTION_INPUT_INVALID',
    })
  })

  it('encrypts and decrypts a stored binary file byte for byte', async () => {
    const { store, read, run, context } = await createSharedContext()
    const original = new Uint8Array(randomBytes(100_000))
    const from = await store('export.bin', original)
    const sealed = await run(encrypt, { key: KEY, from })
    expect(sealed.value).toBeUndefined()
    expect(String(sealed.uri)).toMatch(/export\.bin\.enc$/)
    expect(await context.readStorage(String(sealed.uri))).toMatch(/^v1:/)
    const opened = await run(decrypt, { key: KEY, from: sealed.uri })
    expect(String(opened.uri)).toMatch(/export\.bin$/)
    expect(Buffer.from(await read(String(opened.uri))).equals(Buffer.from(original))).toBe(true)
    await expect(
      run(decrypt, { key: KEY, value: (await context.readStorage(String(sealed.uri))).trim() }),
    ).rejects.toMatchObject({ code: 'OUTPUT_NOT_TEXT' })
  })
})
