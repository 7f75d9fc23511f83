import { createSharedContext, runTask } from '@kite/sdk/testing'
import { describe, expect, it } from 'vitest'
import { hash, hmac } from './hash.js'

describe('Hash', () => {
  it.each([
    ['SHA256', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    [
      'SHA384',
      'cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7',
    ],
    [
      'SHA512',
      'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
    ],
    ['SHA1', 'a9993e364706816aba3e25717850c26c9cd0d89d'],
    ['MD5', '900150983cd24fb0d6963f7d28e17f72'],
  ])('computes %s of "abc" (published test vector)', async (algorithm, expected) => {
    const { outputs } = await runTask(hash, { value: 'abc', algorithm })
    expect(outputs).toEqual({ hash: expected })
  })

  it('writes base64 and reads hex input', async () => {
    const { outputs } = await runTask(hash, {
      value: '616263',
      valueEncoding: 'HEX',
      encoding: 'BASE64',
    })
    expect(outputs.hash).toBe('ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=')
  })

  it('streams a stored file (one million "a": the NIST long vector)', async () => {
    const { store, run } = await createSharedContext()
    const from = await store('a.txt', 'a'.repeat(1_000_000))
    expect(await run(hash, { from })).toEqual({
      hash: 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0',
    })
  })

  it('verifies an expected checksum', async () => {
    const expected = 'BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD'
    const { logs } = await runTask(hash, { value: 'abc', expected })
    expect(logs).toContainEqual({
      level: 'info',
      message: 'the SHA256 digest matches the expected one',
    })
    await expect(runTask(hash, { value: 'abd', expected })).rejects.toMatchObject({
      code: 'HASH_MISMATCH',
      message: expect.stringMatching(/^the SHA256 digest is a52d159f.* not the expected BA7816BF/),
    })
  })

  it('refuses input that is not in its declared encoding, and both or no inputs', async () => {
    await expect(runTask(hash, { value: 'xyz', valueEncoding: 'HEX' })).rejects.toMatchObject({
      code: 'INPUT_INVALID',
      message: '`value` is not valid hex',
    })
    await expect(runTask(hash, {})).rejects.toMatchObject({ code: 'INPUT_MISSING' })
    await expect(runTask(hash, { value: 'a', from: 'kite:///x/y' })).rejects.toMatchObject({
      code: 'INPUT_AMBIGUOUS',
    })
    await expect(runTask(hash, { value: 'a', algorithm: 'CRC32' })).rejects.toThrow(/algorithm:/)
  })
})

describe('Hmac', () => {
  it('matches RFC 4231 test case 2 with a key from a secret, which stays out of the logs', async () => {
    const { outputs, logs } = await runTask(
      hmac,
      { key: "{{ secret('KEY') }}", value: 'what do ya want for nothing?' },
      { secrets: { KEY: 'Jefe' } },
    )
    expect(outputs.hmac).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843')
    expect(JSON.stringify(logs)).not.toContain('Jefe')
    const sha512 = await runTask(hmac, {
      key: 'Jefe',
      value: 'what do ya want for nothing?',
      algorithm: 'SHA512',
    })
    expect(sha512.outputs.hmac).toBe(
      '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737',
    )
  })

  it('matches RFC 4231 test case 1 with a binary key', async () => {
    const { outputs } = await runTask(hmac, {
      key: '0b'.repeat(20),
      keyEncoding: 'HEX',
      value: 'Hi There',
      encoding: 'BASE64',
    })
    expect(Buffer.from(outputs.hmac, 'base64').toString('hex')).toBe(
      'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
    )
  })

  it('verifies a signature, failing without revealing the right one', async () => {
    const value = 'what do ya want for nothing?'
    const good = '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'
    await expect(runTask(hmac, { key: 'Jefe', value, expected: good })).resolves.toMatchObject({
      outputs: { hmac: good },
    })
    const failure = runTask(hmac, { key: 'Jefe', value: `${value}!`, expected: good })
    await expect(failure).rejects.toMatchObject({
      code: 'HMAC_MISMATCH',
      message: 'the SHA256 HMAC does not match the expected signature',
    })
  })
})
