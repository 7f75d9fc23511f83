import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { useTestServer } from '../../test/fixtures/test-server.js'

const kite = useTestServer('kite-uploads-')

// biome-ignore lint/suspicious/noExplicitAny: API answers are checked by the assertions below
type Json = any
const api = (path: string, init: RequestInit = {}) =>
  fetch(`${kite.server.url}/api/v1${path}`, init)
const FLOW = `id: upload
namespace: uploads.api
inputs:
  - id: data
    type: FILE
  - id: note
    type: STRING
  - id: count
    type: INT
    required: false
tasks:
  - id: say
    type: test.fixtures.Echo
    value: "{{ inputs.note }} {{ inputs.count }}"
`
let saved = false
const save = async () => {
  if (saved) return
  const response = await api('/flows', {
    method: 'POST',
    headers: { 'content-type': 'application/x-yaml' },
    body: FLOW,
  })
  expect(response.status).toBe(200)
  saved = true
}
const startForm = (form: FormData | string, headers: Record<string, string> = {}) =>
  api('/executions/uploads.api/upload?wait=true', { method: 'POST', body: form, headers })
/** Every file stored for the flow, wherever it is under its prefix. */
const storedFiles = async (): Promise<string[]> => {
  const dir = join(kite.server.runtime.storage.root, 'uploads.api')
  try {
    return (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name)
  } catch {
    return []
  }
}
const executionCount = async () =>
  ((await (await api('/executions?namespace=uploads.api')).json()) as Json).total as number

describe('FILE inputs through multipart/form-data', () => {
  it('stores a file part in internal storage and puts its kite:/// URI in inputs', async () => {
    await save()
    const bytes = new Uint8Array(4096).map((_, index) => (index * 7) % 256)
    const form = new FormData()
    form.append('data', new Blob([bytes]), 'sample.bin')
    form.append('note', new Blob(['from a file part']), 'note.txt')
    form.append('count', '3')
    const response = await startForm(form)
    expect(response.status).toBe(200)
    const execution = (await response.json()) as Json
    expect(execution.state.current).toBe('SUCCESS')
    expect(execution.inputs.note).toBe('from a file part')
    expect(execution.inputs.count).toBe(3)
    const uri = execution.inputs.data as string
    expect(uri).toMatch(
      new RegExp(
        `^kite:///uploads\\.api/upload/executions/${execution.id}/inputs/data/.+-sample\\.bin$`,
      ),
    )
    const file = await api(`/executions/${execution.id}/file?uri=${encodeURIComponent(uri)}`)
    expect(file.status).toBe(200)
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(bytes)
  })

  it('validates form fields like JSON inputs (422), and answers garbage multipart with 400', async () => {
    await save()
    const before = await executionCount()
    const wrong = new FormData()
    wrong.append('data', new Blob(['x']), 'x.txt')
    wrong.append('note', 'n')
    wrong.append('count', 'three')
    const invalid = await startForm(wrong)
    expect(invalid.status).toBe(422)
    expect(((await invalid.json()) as Json).message).toContain('input "count" (INT)')

    for (const [body, type] of [
      ['this is not multipart', 'multipart/form-data; boundary=xyz'],
      [
        '--xyz\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--xyz--\r\n',
        'multipart/form-data; boundary=xyz',
      ],
      ['--abc\r\n\r\n', 'multipart/form-data'],
    ] as const) {
      const garbage = await startForm(body, { 'content-type': type })
      expect([400, 422], body).toContain(garbage.status)
      const answer = (await garbage.json()) as Json
      expect(answer.code, body).toMatch(/REQUEST_INVALID|INPUTS_INVALID/)
      expect(answer.message.length).toBeGreaterThan(10)
    }
    expect(await executionCount()).toBe(before)
    expect((await api('/health')).status).toBe(200)
  })

  it('refuses a 100 MB streamed upload over executions.maxUploadBytes (413) and stores nothing', async () => {
    await save()
    const before = await executionCount()
    const filesBefore = await storedFiles()
    const boundary = 'kite-upload-boundary'
    const encoder = new TextEncoder()
    const head = encoder.encode(
      `--${boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nbig\r\n--${boundary}\r\nContent-Disposition: form-data; name="data"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    )
    const tail = encoder.encode(`\r\n--${boundary}--\r\n`)
    const chunk = new Uint8Array(1024 * 1024).fill(97)
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(head)
      },
      pull(controller) {
        if (sent === 100) {
          controller.enqueue(tail)
          controller.close()
          return
        }
        sent++
        controller.enqueue(chunk)
      },
    })
    const response = await api('/executions/uploads.api/upload', {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
      duplex: 'half',
    } as RequestInit)
    expect(response.status).toBe(413)
    const answer = (await response.json()) as Json
    expect(answer.code).toBe('BODY_TOO_LARGE')
    expect(answer.message).toBe(
      'the upload (executions.maxUploadBytes) is larger than the limit of 50 MiB',
    )
    expect(await executionCount()).toBe(before)
    expect(await storedFiles()).toEqual(filesBefore)
    // JSON bodies keep the small limit; the server is still up.
    const json = await api('/executions/uploads.api/upload', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ note: 'x'.repeat(2 * 1024 * 1024) }),
    })
    expect(json.status).toBe(413)
    expect(((await json.json()) as Json).message).toContain('request body')
    expect((await api('/health')).status).toBe(200)
  })
})
