import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { useTestServer } from '../../test/fixtures/test-server.js'

const KEY = 'a-test-encryption-key-of-32-characters-or-more'
const PASSWORD = 'correct-horse-battery-staple'
const FLOW = `id: login
namespace: secrets.api
inputs:
  - id: password
    type: SECRET
  - id: user
    type: STRING
tasks:
  - id: use
    type: test.fixtures.Echo
    value: "{{ inputs.password | length }}"
  - id: log
    type: test.fixtures.Log
    message: "logging in {{ inputs.user }} with {{ inputs.password }}"
`

// biome-ignore lint/suspicious/noExplicitAny: API answers are checked by the assertions below
type Json = any
const request = (url: string, path: string, init: RequestInit = {}) =>
  fetch(`${url}/api/v1${path}`, init)
const saveFlow = (url: string) =>
  request(url, '/flows', {
    method: 'POST',
    headers: { 'content-type': 'application/x-yaml' },
    body: FLOW,
  })

describe('SECRET inputs without an encryption key', () => {
  const kite = useTestServer('kite-secrets-nokey-')
  it('refuses a flow with a SECRET input at save, saying how to set a key', async () => {
    const response = await saveFlow(kite.server.url)
    expect(response.status).toBe(422)
    const body = (await response.json()) as Json
    expect(body.code).toBe('FLOW_INVALID')
    expect(body.message).toContain('secrets.encryptionKey in kite.yaml')
    expect(body.message).toContain('KITE_ENCRYPTION_KEY')
    expect(body.errors).toEqual([expect.objectContaining({ path: 'inputs.password' })])
    const validate = await request(kite.server.url, '/flows/validate', {
      method: 'POST',
      headers: { 'content-type': 'application/x-yaml' },
      body: FLOW.replace('type: SECRET', 'type: STRING'),
    })
    expect(validate.status).toBe(200)
    expect((await saveFlow(kite.server.url)).status).toBe(422)
  })
})

describe('SECRET inputs with secrets.encryptionKey', () => {
  const kite = useTestServer('kite-secrets-', { config: { secrets: { encryptionKey: KEY } } })

  it('stores them encrypted: the database holds no plain text, the flow still sees the value', async () => {
    const { url, runtime } = kite.server
    expect((await saveFlow(url)).status).toBe(200)
    const started = await request(url, '/executions/secrets.api/login?wait=true', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password: PASSWORD, user: 'ada' }),
    })
    expect(started.status).toBe(200)
    const execution = (await started.json()) as Json
    expect(execution.state.current).toBe('SUCCESS')
    // The task got the plain value; the API masks it; the logs mask it.
    expect(execution.taskRunList.find((run: Json) => run.taskId === 'use').outputs).toEqual({
      value: PASSWORD.length,
    })
    expect(execution.inputs).toEqual({ password: '******', user: 'ada' })
    const logs = (await (await request(url, `/executions/${execution.id}/logs`)).json()) as Json[]
    expect(logs.map((entry) => entry.message)).toContain('logging in ada with ******')
    // Read back through the store, it is the plain value again.
    expect((await runtime.store.getExecution(execution.id))?.inputs.password).toBe(PASSWORD)

    // Nothing on disk holds it: the SQLite file and its WAL.
    await runtime.engine.flushLogs(execution.id)
    const files = (await readdir(runtime.dataDir)).filter((name) => name.startsWith('kite.db'))
    expect(files).toContain('kite.db')
    let sawCiphertext = false
    for (const name of files) {
      const bytes = await readFile(join(runtime.dataDir, name))
      expect(bytes.includes(Buffer.from(PASSWORD)), name).toBe(false)
      if (bytes.includes(Buffer.from('kite:enc:v1:'))) sawCiphertext = true
    }
    expect(sawCiphertext).toBe(true)

    // After a restart on the same data directory, it still decrypts.
    await kite.restart()
    const again = await kite.server.runtime.store.getExecution(execution.id)
    expect(again?.inputs.password).toBe(PASSWORD)
    const listed = (await (
      await request(kite.server.url, '/executions?namespace=secrets.api')
    ).json()) as Json
    expect(listed.results[0].inputs.password).toBe('******')
  })
})
