import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto'
import { defineTask, KiteError, z } from '@kite/sdk'
import { chooseInput, storageUri } from './input.js'

/**
 * Encrypted values are text: `v1:<iv>:<tag>:<ciphertext>` for a raw key, and
 * `v1s:<salt>:<iv>:<tag>:<ciphertext>` for a passphrase, each part base64url. AES-256-GCM with a
 * 12-byte random IV and a 16-byte tag; passphrases go through scrypt (N=2^15, r=8, p=1) with a
 * 16-byte random salt.
 */
const RAW_PREFIX = 'v1'
const PASSPHRASE_PREFIX = 'v1s'
const IV_BYTES = 12
const TAG_BYTES = 16
const SALT_BYTES = 16
const KEY_BYTES = 32
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }

const KeyFormat = z
  .enum(['BASE64', 'HEX', 'PASSPHRASE'])
  .default('BASE64')
  .describe(
    'BASE64 or HEX: `key` is 32 random bytes (make one with `openssl rand -base64 32`). PASSPHRASE: `key` is a passphrase, stretched with scrypt and a random salt kept in the output.',
  )

const keyProperties = {
  key: z.string().min(1).describe("The key, from a secret: `{{ secret('ENCRYPTION_KEY') }}`."),
  keyFormat: KeyFormat,
  associatedData: z
    .string()
    .optional()
    .describe(
      'Text bound to the encrypted value without being encrypted (e.g. a record id): decrypting needs the same text.',
    ),
}

type KeyProps = { key: string; keyFormat: 'BASE64' | 'HEX' | 'PASSPHRASE' }

export const encrypt = defineTask({
  name: 'Encrypt',
  title: 'Encrypt with AES-256-GCM',
  description:
    'Encrypts text (`value`) or a stored file (`from`) with AES-256-GCM under a key from a secret. The result is one self-describing text, `v1:<iv>:<tag>:<ciphertext>` (base64url parts; `v1s:<salt>:…` for a passphrase): output as `value`, or for a file, stored as a file whose `uri` is output. Tampering is detected on decryption.',
  properties: z.object({
    ...keyProperties,
    value: z.string().optional().describe('The text to encrypt. Set this or `from`.'),
    from: storageUri.optional().describe('A stored file to encrypt. Set this or `value`.'),
  }),
  outputs: z
    .object({
      value: z.string().optional().describe('The encrypted text (when `value` was given).'),
      uri: z
        .string()
        .optional()
        .describe('The stored file holding the encrypted text (when `from` was given).'),
    })
    .meta({ exclusive: [['value', 'uri']] }),
  examples: [
    {
      title: 'Encrypt a token before storing it in the KV store',
      code: `key: "{{ secret('ENCRYPTION_KEY') }}"
value: "{{ outputs.login.body.token }}"`,
    },
    {
      title: 'Encrypt an export with a passphrase',
      code: `key: "{{ secret('EXPORT_PASSPHRASE') }}"
keyFormat: PASSPHRASE
from: "{{ outputs.export.uri }}"`,
    },
  ],
  async run(props, ctx) {
    const input = chooseInput(props)
    const plaintext =
      input.kind === 'value' ? Buffer.from(input.value, 'utf8') : await ctx.storage.get(input.uri)
    const salt = props.keyFormat === 'PASSPHRASE' ? randomBytes(SALT_BYTES) : undefined
    const key = await resolveKey(props, salt)
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES })
    if (props.associatedData !== undefined) cipher.setAAD(Buffer.from(props.associatedData))
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()])
    const parts = [iv, cipher.getAuthTag(), ciphertext].map((part) => part.toString('base64url'))
    const token = salt
      ? [PASSPHRASE_PREFIX, salt.toString('base64url'), ...parts].join(':')
      : [RAW_PREFIX, ...parts].join(':')
    ctx.logger.info(`encrypted ${plaintext.length} bytes with AES-256-GCM`)
    if (input.kind === 'value') return { value: token }
    return { uri: await ctx.storage.put(`${fileName(input.uri)}.enc`, token) }
  },
})

export const decrypt = defineTask({
  name: 'Decrypt',
  title: 'Decrypt AES-256-GCM',
  description:
    'Decrypts what `kite.crypto.Encrypt` produced, given as text (`value`) or a stored file (`from`), with the same key (and `associatedData`). A wrong key or an altered value fails the task without revealing anything. Text input gives a text `value`; a file gives a stored file (`uri`).',
  properties: z.object({
    ...keyProperties,
    value: z.string().optional().describe('The encrypted text. Set this or `from`.'),
    from: storageUri
      .optional()
      .describe('A stored file holding the encrypted text. Set this or `value`.'),
    outputEncoding: z
      .enum(['UTF8', 'BASE64'])
      .default('UTF8')
      .describe('How a decrypted `value` is written: UTF8 text, or BASE64 for binary data.'),
  }),
  outputs: z
    .object({
      value: z.string().optional().describe('The decrypted text (when `value` was given).'),
      uri: z.string().optional().describe('The stored decrypted file (when `from` was given).'),
    })
    .meta({ exclusive: [['value', 'uri']] }),
  examples: [
    {
      title: 'Decrypt a value kept in the KV store',
      code: `key: "{{ secret('ENCRYPTION_KEY') }}"
value: "{{ kv('api-token') }}"`,
    },
    {
      title: 'Decrypt a stored file encrypted with a passphrase',
      code: `key: "{{ secret('EXPORT_PASSPHRASE') }}"
keyFormat: PASSPHRASE
from: "{{ outputs.download.uri }}"`,
    },
  ],
  async run(props, ctx) {
    const input = chooseInput(props)
    const token =
      input.kind === 'value'
        ? input.value
        : new TextDecoder().decode(await ctx.storage.get(input.uri))
    const parsed = parseToken(token.trim(), props.keyFormat)
    const key = await resolveKey(props, parsed.salt)
    const decipher = createDecipheriv('aes-256-gcm', key, parsed.iv, { authTagLength: TAG_BYTES })
    decipher.setAuthTag(parsed.tag)
    if (props.associatedData !== undefined) decipher.setAAD(Buffer.from(props.associatedData))
    let plaintext: Buffer
    try {
      plaintext = Buffer.concat([decipher.update(parsed.ciphertext), decipher.final()])
    } catch (error) {
      throw new KiteError(
        'decryption failed: the key (or associatedData) is not the one used to encrypt, or the encrypted value was altered',
        { code: 'DECRYPTION_FAILED', kind: 'user', cause: error },
      )
    }
    ctx.logger.info(`decrypted ${plaintext.length} bytes`)
    if (input.kind === 'from') {
      return { uri: await ctx.storage.put(fileName(input.uri).replace(/\.enc$/, ''), plaintext) }
    }
    return { value: toText(plaintext, props.outputEncoding) }
  },
})

async function resolveKey(props: KeyProps, salt: Buffer | undefined): Promise<Buffer> {
  if (props.keyFormat === 'PASSPHRASE') {
    if (!salt) throw new Error('a passphrase key needs a salt')
    return new Promise((resolve, reject) =>
      scrypt(props.key, salt, KEY_BYTES, SCRYPT, (error, key) =>
        error ? reject(error) : resolve(key),
      ),
    )
  }
  const text = props.key.trim()
  const valid =
    props.keyFormat === 'HEX' ? /^[0-9a-fA-F]*$/.test(text) : /^[A-Za-z0-9+/\-_]*={0,2}$/.test(text)
  const key = Buffer.from(text, props.keyFormat === 'HEX' ? 'hex' : 'base64')
  // Say what is wrong with the key without showing any of it.
  if (!valid || key.length !== KEY_BYTES) {
    throw new KiteError(
      `the key is not ${KEY_BYTES} bytes of ${props.keyFormat === 'HEX' ? 'hex' : 'base64'} (${valid ? `it decodes to ${key.length} bytes` : 'it has characters outside that alphabet'}): make one with \`openssl rand -${props.keyFormat === 'HEX' ? 'hex' : 'base64'} 32\`, or set \`keyFormat: PASSPHRASE\``,
      { code: 'KEY_INVALID', kind: 'user' },
    )
  }
  return key
}

function parseToken(
  token: string,
  keyFormat: KeyProps['keyFormat'],
): { salt?: Buffer; iv: Buffer; tag: Buffer; ciphertext: Buffer } {
  const parts = token.split(':')
  const [prefix] = parts
  const invalid = () =>
    new KiteError(
      'the value is not something kite.crypto.Encrypt produced (expected "v1:<iv>:<tag>:<ciphertext>" or "v1s:<salt>:<iv>:<tag>:<ciphertext>")',
      { code: 'DECRYPTION_INPUT_INVALID', kind: 'user' },
    )
  const decode = (part: string | undefined, bytes?: number): Buffer => {
    if (part === undefined || !/^[A-Za-z0-9_-]*$/.test(part)) throw invalid()
    const buffer = Buffer.from(part, 'base64url')
    if (bytes !== undefined && buffer.length !== bytes) throw invalid()
    return buffer
  }
  if (prefix === RAW_PREFIX && parts.length === 4) {
    if (keyFormat === 'PASSPHRASE') throw mismatch('a key', 'BASE64 or HEX')
    return {
      iv: decode(parts[1], IV_BYTES),
      tag: decode(parts[2], TAG_BYTES),
      ciphertext: decode(parts[3]),
    }
  }
  if (prefix === PASSPHRASE_PREFIX && parts.length === 5) {
    if (keyFormat !== 'PASSPHRASE') throw mismatch('a passphrase', 'PASSPHRASE')
    return {
      salt: decode(parts[1], SALT_BYTES),
      iv: decode(parts[2], IV_BYTES),
      tag: decode(parts[3], TAG_BYTES),
      ciphertext: decode(parts[4]),
    }
  }
  throw invalid()
}

function mismatch(what: string, format: string): KiteError {
  return new KiteError(`the value was encrypted with ${what}: set \`keyFormat: ${format}\``, {
    code: 'KEY_FORMAT_MISMATCH',
    kind: 'user',
  })
}

function toText(plaintext: Buffer, encoding: 'UTF8' | 'BASE64'): string {
  if (encoding === 'BASE64') return plaintext.toString('base64')
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(plaintext)
  } catch {
    throw new KiteError(
      'the decrypted data is not UTF-8 text: set `outputEncoding: BASE64` to get it as base64',
      { code: 'OUTPUT_NOT_TEXT', kind: 'user' },
    )
  }
}

function fileName(uri: string): string {
  return uri.slice(uri.lastIndexOf('/') + 1) || 'data'
}
