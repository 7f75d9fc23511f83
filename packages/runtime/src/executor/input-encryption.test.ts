import { join } from 'node:path'
import Database from 'better-sqlite3'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { useRestartableRuntimes, waitUntil } from '../../test/fixtures/test-runtime.js'
import { parseConfig } from '../config.js'
import { createInputCipher } from './input-encryption.js'
import { parseJob } from './worker.js'

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

describe('queued task data at rest', () => {
  const runtimes = useRestartableRuntimes('kite-queued-secret-')
  const TOKEN = 'hunter2-queued-secret-value'

  it('is encrypted in the queue table with a key, and the worker runs the task as given', async () => {
    // One slot, taken by the blocker: `use` waits in the queue, where its data can be read.
    const t = await runtimes.start({ secrets: { encryptionKey: KEY }, worker: { slots: 1 } })
    await t.runtime.engine.saveFlow(BLOCKER)
    await t.runtime.engine.saveFlow(SECRET_FLOW)
    const blocker = await t.runtime.engine.start({ namespace: 'test.queued', flowId: 'blocker' })
    const started = await t.runtime.engine.start({
      namespace: 'test.queued',
      flowId: 'secret',
      inputs: { token: TOKEN },
    })
    let payloads: string[] = []
    await waitUntil(async () => {
      payloads = queuePayloads(runtimes.dataDir)
      return payloads.length > 0
    })
    for (const payload of payloads) {
      expect(payload.startsWith('kite:enc:v1:')).toBe(true)
      expect(payload).not.toContain(TOKEN)
    }
    const done = await t.runtime.engine.waitFor(started.id)
    expect(done.state.current).toBe('SUCCESS')
    expect(t.taskRun(done, 'use').outputs).toEqual({ value: `got ${TOKEN}` })
    expect((await t.runtime.engine.waitFor(blocker.id)).state.current).toBe('SUCCESS')
  })

  it('is plain JSON without a key (nothing to encrypt with)', async () => {
    const t = await runtimes.start({ worker: { slots: 1 } })
    await t.runtime.engine.saveFlow(BLOCKER)
    await t.runtime.engine.saveFlow(SECRET_FLOW.replace('type: SECRET', 'type: STRING'))
    await t.runtime.engine.start({ namespace: 'test.queued', flowId: 'blocker' })
    const started = await t.runtime.engine.start({
      namespace: 'test.queued',
      flowId: 'secret',
      inputs: { token: 'visible' },
    })
    let payloads: string[] = []
    await waitUntil(async () => {
      payloads = queuePayloads(runtimes.dataDir)
      return payloads.length > 0
    })
    expect(JSON.parse(payloads[0] ?? '')).toMatchObject({ properties: { value: 'got visible' } })
    expect((await t.runtime.engine.waitFor(started.id)).state.current).toBe('SUCCESS')
  })

  it('fails the attempt clearly on a node without the key (or with another one)', () => {
    const sealed = createInputCipher(KEY).encrypt(JSON.stringify({ executionId: 'x' }))
    expect(parseJob(sealed)).toMatch(
      /^its payload is encrypted, and this node has no secrets\.encryptionKey or not the one/,
    )
    expect(parseJob('{"executionId":1}')).toBe('its payload is not a task job')
  })
})

const BLOCKER = `
id: blocker
namespace: test.queued
tasks:
  - id: hold
    type: test.fixtures.Attempt
    ms: 1500
`

const SECRET_FLOW = `
id: secret
namespace: test.queued
inputs:
  - id: token
    type: SECRET
tasks:
  - id: use
    type: test.fixtures.Echo
    value: "got {{ inputs.token }}"
`

/** The payloads of the queue's entries, read from the database file as anyone could. */
function queuePayloads(dataDir: string): string[] {
  const db = new Database(join(dataDir, 'kite.db'), { readonly: true })
  try {
    const rows = db.prepare('SELECT payload FROM task_queue').all() as Array<{ payload: string }>
    return rows.map((row) => row.payload)
  } finally {
    db.close()
  }
}
