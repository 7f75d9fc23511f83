import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { RuntimeError } from '../errors.js'
import type { Flow } from '../flow/flow-model.js'
import type { Store } from '../storage/store.js'
import type { ExecutionSummary } from './execution-model.js'

/** The environment variable that may hold the key (`secrets.encryptionKey` in kite.yaml wins). */
export const ENCRYPTION_KEY_ENV = 'KITE_ENCRYPTION_KEY'
/** The shortest key accepted, in characters (`openssl rand -base64 32` gives 44). */
export const MIN_KEY_LENGTH = 32
const PREFIX = 'kite:enc:v1:'
const IV_BYTES = 12
const TAG_BYTES = 16

/** True when `text` is a value `InputCipher.encrypt` wrote. */
export const isEncrypted = (text: string): boolean => text.startsWith(PREFIX)

/** Encrypts and decrypts SECRET input values and queued task data (AES-256-GCM). */
export interface InputCipher {
  encrypt(text: string): string
  /** Values without the marker (written before a key was set) come back as they are. */
  decrypt(text: string): string
}

/**
 * A cipher from the configured key: any text of at least 32 characters, hashed to the 256-bit
 * AES key (so a base64 or a passphrase both work).
 */
export function createInputCipher(key: string): InputCipher {
  if (key.length < MIN_KEY_LENGTH) {
    throw new RuntimeError(
      `secrets.encryptionKey (or ${ENCRYPTION_KEY_ENV}) must be at least ${MIN_KEY_LENGTH} characters; make one with: openssl rand -base64 32`,
      { code: 'CONFIG_INVALID', kind: 'operational' },
    )
  }
  const aesKey = createHash('sha256').update(key).digest()
  return {
    encrypt(text) {
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv('aes-256-gcm', aesKey, iv)
      const sealed = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()])
      return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64')
    },
    decrypt(text) {
      if (!isEncrypted(text)) return text
      const data = Buffer.from(text.slice(PREFIX.length), 'base64')
      try {
        const decipher = createDecipheriv('aes-256-gcm', aesKey, data.subarray(0, IV_BYTES))
        decipher.setAuthTag(data.subarray(IV_BYTES, IV_BYTES + TAG_BYTES))
        return Buffer.concat([
          decipher.update(data.subarray(IV_BYTES + TAG_BYTES)),
          decipher.final(),
        ]).toString('utf8')
      } catch (error) {
        throw new RuntimeError(
          `cannot decrypt a value stored encrypted (a SECRET input): secrets.encryptionKey is not the key it was encrypted with`,
          { code: 'CONFIG_INVALID', kind: 'operational', cause: error },
        )
      }
    },
  }
}

/** Refuses a flow with SECRET inputs when no key is configured, saying how to set one. */
export function checkSecretInputs(flow: Flow, cipher: InputCipher | undefined): void {
  if (cipher) return
  const secrets = flow.inputs.filter((input) => input.type === 'SECRET')
  if (secrets.length === 0) return
  throw new RuntimeError(
    `flow ${flow.namespace}/${flow.id} has SECRET inputs, which are stored encrypted, and this runtime has no encryption key: set secrets.encryptionKey in kite.yaml or the ${ENCRYPTION_KEY_ENV} environment variable (at least ${MIN_KEY_LENGTH} characters, e.g. openssl rand -base64 32)`,
    {
      code: 'FLOW_INVALID',
      issues: secrets.map((input) => ({
        path: `inputs.${input.id}`,
        message: `SECRET input "${input.id}" needs an encryption key (secrets.encryptionKey or ${ENCRYPTION_KEY_ENV})`,
      })),
    },
  )
}

/** An execution with its SECRET input values passed through `transform`. */
function mapSecrets<T extends ExecutionSummary>(execution: T, transform: (text: string) => string) {
  if (!execution.secretInputs || execution.secretInputs.length === 0) return execution
  const inputs = { ...execution.inputs }
  for (const id of execution.secretInputs) {
    const value = inputs[id]
    if (typeof value === 'string') inputs[id] = transform(value)
  }
  return { ...execution, inputs }
}

/**
 * The store with SECRET input values, and the data of task runs that wait in the queue,
 * encrypted in what it writes and decrypted in what it reads: the database never holds them in
 * plain text, the engine, the workers and the API see them as given. A queued task's data holds
 * its rendered properties and the execution's inputs, so a SECRET input (or a `secret()`) used
 * in a property would otherwise sit in the queue table as it is. A payload this key cannot open
 * is handed on as stored: the worker fails that attempt saying so (`parseJob`).
 */
export function encryptSecretInputs(store: Store, cipher: InputCipher): Store {
  const open = <T extends ExecutionSummary>(execution: T) => mapSecrets(execution, cipher.decrypt)
  const openPayload = (payload: string) => {
    try {
      return cipher.decrypt(payload)
    } catch {
      return payload
    }
  }
  return {
    ...store,
    commit: (changes) =>
      store.commit({
        ...changes,
        ...(changes.execution ? { execution: mapSecrets(changes.execution, cipher.encrypt) } : {}),
        ...(changes.enqueue
          ? {
              enqueue: changes.enqueue.map((entry) => ({
                ...entry,
                payload: cipher.encrypt(entry.payload),
              })),
            }
          : {}),
      }),
    claimTaskRuns: async (nodeId, limit) =>
      (await store.claimTaskRuns(nodeId, limit)).map(({ id, payload }) => ({
        id,
        payload: openPayload(payload),
      })),
    getExecution: async (id) => {
      const execution = await store.getExecution(id)
      return execution && open(execution)
    },
    listExecutions: async (filter, page, size) => {
      const result = await store.listExecutions(filter, page, size)
      return { ...result, results: result.results.map(open) }
    },
    listUnfinishedExecutions: async () => (await store.listUnfinishedExecutions()).map(open),
  }
}
