import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { defineTask, KiteError, z } from '@kite/sdk'
import { BinaryEncoding, decodeBytes, feedInput, valueInput } from './input.js'

const HashAlgorithm = z
  .enum(['SHA256', 'SHA384', 'SHA512', 'SHA1', 'MD5'])
  .default('SHA256')
  .describe(
    'The hash function. SHA1 and MD5 are broken for security uses; use them for checksums only.',
  )

const NODE_NAMES = {
  SHA256: 'sha256',
  SHA384: 'sha384',
  SHA512: 'sha512',
  SHA1: 'sha1',
  MD5: 'md5',
} as const

const OutputEncoding = z
  .enum(['HEX', 'BASE64'])
  .default('HEX')
  .describe('How the digest is written.')

export const hash = defineTask({
  name: 'Hash',
  title: 'Hash a value or file',
  description:
    'Computes a digest (SHA-256 by default) of text or of a stored file. With `expected`, it also verifies a checksum: the task fails when the digest differs.',
  properties: z.object({
    algorithm: HashAlgorithm,
    ...valueInput,
    encoding: OutputEncoding,
    expected: z
      .string()
      .optional()
      .describe('A digest to compare with (same encoding); the task fails when they differ.'),
  }),
  outputs: z.object({ hash: z.string().describe('The digest.') }),
  examples: [
    { title: 'SHA-256 of a text', code: 'value: "{{ inputs.email | lower }}"' },
    {
      title: 'Verify a download against its published checksum',
      code: 'from: "{{ outputs.download.uri }}"\nalgorithm: SHA512\nexpected: "{{ inputs.sha512 }}"',
    },
  ],
  async run(props, ctx) {
    const digest = createHash(NODE_NAMES[props.algorithm])
    await feedInput(ctx, props, (chunk) => digest.update(chunk))
    const result = digest.digest(props.encoding === 'HEX' ? 'hex' : 'base64')
    if (props.expected !== undefined) {
      const same =
        props.encoding === 'HEX'
          ? result === props.expected.trim().toLowerCase()
          : result === props.expected.trim()
      if (!same) {
        throw new KiteError(
          `the ${props.algorithm} digest is ${result}, not the expected ${props.expected.trim()}`,
          { code: 'HASH_MISMATCH', kind: 'user' },
        )
      }
      ctx.logger.info(`the ${props.algorithm} digest matches the expected one`)
    }
    return { hash: result }
  },
})

export const hmac = defineTask({
  name: 'Hmac',
  title: 'HMAC of a value or file',
  description:
    'Computes a keyed HMAC (HMAC-SHA256 by default) of text or of a stored file, e.g. to sign a webhook payload. With `expected`, it verifies a signature in constant time instead.',
  properties: z.object({
    algorithm: HashAlgorithm,
    key: z
      .string()
      .min(1)
      .describe("The secret key, from a secret: `{{ secret('WEBHOOK_SIGNING_KEY') }}`."),
    keyEncoding: BinaryEncoding.default('UTF8').describe(
      'How `key` turns into bytes: UTF8 text, or HEX / BASE64 for a binary key.',
    ),
    ...valueInput,
    encoding: OutputEncoding,
    expected: z
      .string()
      .optional()
      .describe(
        'A signature to verify (same encoding), e.g. from a webhook header; the task fails when it differs.',
      ),
  }),
  outputs: z.object({ hmac: z.string().describe('The HMAC.') }),
  examples: [
    {
      title: 'Sign a payload',
      code: `key: "{{ secret('SIGNING_KEY') }}"
value: "{{ outputs.payload.value | toJson }}"`,
    },
    {
      title: 'Verify a GitHub webhook signature',
      code: `key: "{{ secret('GITHUB_WEBHOOK_SECRET') }}"
value: "{{ trigger.body | toJson }}"
expected: "{{ trigger.headers['x-hub-signature-256'] | replace('sha256=', '') }}"`,
    },
  ],
  async run(props, ctx) {
    const key = decodeBytes(props.key, props.keyEncoding, '`key`')
    const mac = createHmac(NODE_NAMES[props.algorithm], key)
    await feedInput(ctx, props, (chunk) => mac.update(chunk))
    const digest = mac.digest()
    const result = digest.toString(props.encoding === 'HEX' ? 'hex' : 'base64')
    if (props.expected !== undefined) {
      const expected = decodeBytes(
        props.expected.trim(),
        props.encoding === 'HEX' ? 'HEX' : 'BASE64',
        '`expected`',
      )
      if (expected.length !== digest.length || !timingSafeEqual(expected, digest)) {
        throw new KiteError(`the ${props.algorithm} HMAC does not match the expected signature`, {
          code: 'HMAC_MISMATCH',
          kind: 'user',
        })
      }
      ctx.logger.info(`the ${props.algorithm} HMAC matches the expected signature`)
    }
    return { hmac: result }
  },
})
