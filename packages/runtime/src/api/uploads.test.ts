import { readdir } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { apiCalls, type Json } from '../../test/fixtures/api-calls.js'
import { echo, flowYaml } from '../../test/fixtures/flows.js'
import { useTestServer } from '../../test/fixtures/test-server.js'

const kite = useTestServer('kite-uploads-')
const { api, save: saveFlow } = apiCalls(kite)

const DATA_INPUT = { id: 'data', type: 'FILE' }
const COUNT_INPUT = { id: 'count', type: 'INT', required: false }
const FLOW = flowYaml(
  'upload',
  'uploads.api',
  [echo('say', '{{ inputs.note }} {{ inputs.count }}')],
  {
    inputs: [DATA_INPUT, { id: 'note', type: 'STRING' }, COUNT_INPUT],
  },
)
const saved = new Set<string>()
/** Saves a flow once for the whole file. */
const saveOnce = async (source: string) => {
  if (saved.has(source)) return
  await saveFlow(source)
  saved.add(source)
}
const save = () => saveOnce(FLOW)
const startForm = (form: FormData | string, headers: Record<string, string> = {}) =>
  api('/executions/uploads.api/upload?wait=true', { method: 'POST', body: form, headers })
/** Every file stored under a namespace, wherever it is under its prefix. */
const storedFiles = async (namespace = 'uploads.api'): Promise<string[]> => {
  const dir = join(kite.server.runtime.storage.root, namespace)
  try {
    return (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name)
  } catch {
    return []
  }
}
const executionCount = async (namespace = 'uploads.api') =>
  ((await (await api(`/executions?namespace=${namespace}`)).json()) as Json).total as number

/** A 100 MB upload to `path` is refused with 413: no execution in `namespace`, no file stored. */
const refusesOversized = async (path: string, namespace: string) => {
  const before = await executionCount(namespace)
  const filesBefore = await storedFiles(namespace)
  const response = await oversizedUpload(path)
  expect(response.status).toBe(413)
  const answer = (await response.json()) as Json
  expect(answer.code).toBe('BODY_TOO_LARGE')
  expect(answer.message).toBe(
    'the upload (executions.maxUploadBytes) is larger than the limit of 50 MiB',
  )
  expect(await executionCount(namespace)).toBe(before)
  expect(await storedFiles(namespace)).toEqual(filesBefore)
}

/**
 * Posts a (fully written) body too large for the server on a connection of its own: the server
 * answers 413 without reading it and drops the connection, which fetch's pool would otherwise
 * hand to the next request.
 */
const postOversized = (
  path: string,
  headers: Record<string, string>,
  chunks: Iterable<string>,
): Promise<{ status: number; body: Json }> =>
  new Promise((resolve, reject) => {
    const request = httpRequest(
      `${kite.server.url}/api/v1${path}`,
      { method: 'POST', headers, agent: false },
      (response) => {
        let text = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => {
          text += chunk
        })
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }),
        )
      },
    )
    // The server answers before reading the whole body and closes: writes then fail (EPIPE),
    // which matters only if no answer came.
    let failure: unknown
    request.on('error', (error) => {
      failure = error
    })
    request.on('close', () => setTimeout(() => reject(failure ?? new Error('closed')), 1000))
    const write = (items: Iterator<string>) => {
      for (let next = items.next(); !next.done; next = items.next()) {
        if (request.destroyed) return
        if (!request.write(next.value)) return void request.once('drain', () => write(items))
      }
      request.end()
    }
    write(chunks[Symbol.iterator]())
  })

/** A streamed multipart body of 100 MB (a `note` field and a `data` file), never held in memory. */
const oversizedUpload = (path: string): Promise<Response> => {
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
  return api(path, {
    method: 'POST',
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    body,
    duplex: 'half',
  } as RequestInit)
}

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
    await refusesOversized('/executions/uploads.api/upload', 'uploads.api')
    // JSON bodies keep the small limit; the server is still up.
    const json = await postOversized(
      '/executions/uploads.api/upload',
      { 'content-type': 'application/json' },
      [JSON.stringify({ note: 'x'.repeat(2 * 1024 * 1024) })],
    )
    expect(json.status).toBe(413)
    expect(json.body.message).toContain('request body')
    expect((await api('/health')).status).toBe(200)
  })
})

const HOOKED = flowYaml(
  'hooked',
  'uploads.hook',
  [echo('say', '{{ trigger.body.count }} {{ inputs.count }}')],
  {
    inputs: [DATA_INPUT, COUNT_INPUT],
    triggers: [{ id: 'hook', type: 'kite.trigger.Webhook', key: 'upload-key' }],
  },
)
const saveHooked = () => saveOnce(HOOKED)
const hook = (init: RequestInit) =>
  api('/executions/webhook/uploads.hook/hooked/upload-key?wait=true', { method: 'POST', ...init })
describe('FILE inputs through multipart/form-data on the webhook route', () => {
  it('stores a file part and gives the execution its kite:/// URI; the fields are trigger.body too', async () => {
    await saveHooked()
    const bytes = new Uint8Array(2048).map((_, index) => (index * 13) % 256)
    const form = new FormData()
    form.append('data', new Blob([bytes]), 'hooked.bin')
    form.append('count', '5')
    const response = await hook({ body: form })
    expect(response.status).toBe(200)
    const execution = (await response.json()) as Json
    expect(execution.state.current).toBe('SUCCESS')
    expect(execution.trigger).toMatchObject({ id: 'hook', type: 'kite.trigger.Webhook' })
    expect(execution.inputs.count).toBe(5)
    expect(execution.taskRunList[0].outputs.value).toBe('5 5')
    const uri = execution.inputs.data as string
    expect(uri).toMatch(
      new RegExp(
        `^kite:///uploads\\.hook/hooked/executions/${execution.id}/inputs/data/.+-hooked\\.bin$`,
      ),
    )
    const file = await api(`/executions/${execution.id}/file?uri=${encodeURIComponent(uri)}`)
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(bytes)
  })

  it('answers invalid inputs with 422 and garbage multipart with 400, starting and storing nothing', async () => {
    await saveHooked()
    const before = await executionCount('uploads.hook')
    const filesBefore = await storedFiles('uploads.hook')
    const wrong = new FormData()
    wrong.append('data', new Blob(['x']), 'x.txt')
    wrong.append('count', 'five')
    const invalid = await hook({ body: wrong })
    expect(invalid.status).toBe(422)
    const answer = (await invalid.json()) as Json
    expect(answer.code).toBe('INPUTS_INVALID')
    expect(answer.message).toContain('input "count" (INT)')
    const unknown = new FormData()
    unknown.append('data', new Blob(['x']), 'x.txt')
    unknown.append('other', 'y')
    expect((await hook({ body: unknown })).status).toBe(422)

    for (const [body, type] of [
      ['this is not multipart', 'multipart/form-data; boundary=xyz'],
      ['--abc\r\n\r\n', 'multipart/form-data'],
    ] as const) {
      const garbage = await hook({ body, headers: { 'content-type': type } })
      expect(garbage.status, body).toBe(400)
      const refused = (await garbage.json()) as Json
      expect(refused.code, body).toBe('REQUEST_INVALID')
      expect(refused.message, body).toContain('not valid multipart/form-data')
    }
    // A wrong key still reveals nothing, multipart or not.
    const form = new FormData()
    form.append('data', new Blob(['x']), 'x.txt')
    const wrongKey = await api('/executions/webhook/uploads.hook/hooked/nope', {
      method: 'POST',
      body: form,
    })
    expect(wrongKey.status).toBe(404)
    expect(await executionCount('uploads.hook')).toBe(before)
    expect(await storedFiles('uploads.hook')).toEqual(filesBefore)
    expect((await api('/health')).status).toBe(200)
  })

  it('refuses a 100 MB streamed upload over executions.maxUploadBytes (413) and stores nothing', async () => {
    await saveHooked()
    await refusesOversized('/executions/webhook/uploads.hook/hooked/upload-key', 'uploads.hook')
    expect((await api('/health')).status).toBe(200)
  })

  it('answers any multipart body with a clear 4xx or a started execution, never a 500', async () => {
    await saveHooked()
    const boundary = 'fc-boundary'
    const part = fc.record({
      name: fc.oneof(fc.constantFrom('data', 'count', 'other', ''), fc.string({ maxLength: 8 })),
      filename: fc.option(fc.string({ maxLength: 12 }), { nil: undefined }),
      body: fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('5', '', '--fc-boundary')),
    })
    const bodies = fc.oneof(
      // Well-formed multipart with arbitrary names, files and values.
      fc
        .array(part, { maxLength: 4 })
        .map(
          (parts) =>
            `${parts
              .map(
                (item) =>
                  `--${boundary}\r\nContent-Disposition: form-data; name="${item.name}"${item.filename === undefined ? '' : `; filename="${item.filename}"`}\r\n\r\n${item.body}\r\n`,
              )
              .join('')}--${boundary}--\r\n`,
        ),
      // Anything at all.
      fc.string({ maxLength: 200 }),
    )
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const response = await hook({
          body,
          headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
        })
        expect([200, 400, 422]).toContain(response.status)
        const answer = (await response.json()) as Json
        if (response.status === 200) expect(answer.inputs.data).toMatch(/^kite:\/\/\//)
        else expect(answer.message.length).toBeGreaterThan(10)
      }),
      { numRuns: 60 },
    )
    expect((await api('/health')).status).toBe(200)
  })
})
