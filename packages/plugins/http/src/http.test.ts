import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { guardOutputs, outputsJsonSchema } from '@kite/sdk/host'
import { pollTrigger, runTask } from '@kite/sdk/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { download } from './download.js'
import { request } from './request.js'
import { trigger } from './trigger.js'

const binary = randomBytes(300_000)
let server: Server
let base: string
let status = { state: 'running' }
const closedEarly: string[] = []

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function json(res: ServerResponse, code: number, value: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json; charset=utf-8' })
  res.end(JSON.stringify(value))
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const authorization = req.headers.authorization
  switch (url.pathname) {
    case '/json':
      return json(res, 200, { hello: 'world', items: [1, 2] })
    case '/text':
      res.writeHead(200, { 'content-type': 'text/plain' })
      return void res.end('plain text')
    case '/echo': {
      const body = await readBody(req)
      return json(res, 200, {
        method: req.method,
        contentType: req.headers['content-type'] ?? null,
        custom: req.headers['x-custom'] ?? null,
        body,
      })
    }
    case '/fail':
      return json(res, 500, { error: 'database is down' })
    case '/missing':
      res.writeHead(404, { 'content-type': 'text/plain' })
      return void res.end('no such thing\nat all')
    case '/slow':
      req.on('close', () => {
        if (!res.writableEnded) closedEarly.push(url.searchParams.get('id') ?? '')
      })
      setTimeout(() => {
        if (!res.destroyed) json(res, 200, { late: true })
      }, 5000).unref()
      return
    case '/basic':
      if (authorization !== `Basic ${Buffer.from('ada:lovelace').toString('base64')}`) {
        res.writeHead(401, { 'www-authenticate': 'Basic' })
        return void res.end('bad credentials')
      }
      return json(res, 200, { user: 'ada' })
    case '/bearer':
      if (authorization !== 'Bearer t0k3n') {
        res.writeHead(401)
        return void res.end('bad token')
      }
      return json(res, 200, { ok: true })
    case '/binary':
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-disposition': 'attachment; filename="data.bin"',
      })
      return void res.end(binary)
    case '/files/report.csv':
      res.writeHead(200, { 'content-type': 'text/csv' })
      return void res.end('a,b\n1,2\n')
    case '/status':
      return json(res, 200, status)
    default:
      res.writeHead(404)
      res.end()
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500)
      res.end(String(error))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

describe('Request', () => {
  it('gets JSON and parses it', async () => {
    const { outputs, logs } = await runTask(request, { uri: `${base}/json` })
    expect(outputs.code).toBe(200)
    expect(outputs.body).toEqual({ hello: 'world', items: [1, 2] })
    expect(outputs.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(outputs.size).toBe(JSON.stringify({ hello: 'world', items: [1, 2] }).length)
    expect(outputs.uri).toBeUndefined()
    expect(logs).toContainEqual({ level: 'info', message: `GET ${base}/json → 200 OK` })
  })

  it('keeps text as text, and JSON as text with TEXT', async () => {
    const text = await runTask(request, { uri: `${base}/text` })
    expect(text.outputs.body).toBe('plain text')
    const raw = await runTask(request, { uri: `${base}/json`, responseType: 'TEXT' })
    expect(raw.outputs.body).toBe('{"hello":"world","items":[1,2]}')
  })

  it('refuses a body that is not JSON with responseType JSON', async () => {
    await expect(
      runTask(request, { uri: `${base}/text`, responseType: 'JSON' }),
    ).rejects.toMatchObject({
      code: 'RESPONSE_NOT_JSON',
      message: expect.stringContaining('the body is not JSON'),
    })
  })

  it('sends a JSON body, rendered from inputs', async () => {
    const { outputs } = await runTask(
      request,
      { uri: `${base}/echo`, method: 'POST', body: { name: '{{ inputs.name }}', n: 2 } },
      { inputs: { name: 'Ada' } },
    )
    expect(outputs.body).toEqual({
      method: 'POST',
      contentType: 'application/json',
      custom: null,
      body: '{"name":"Ada","n":2}',
    })
  })

  it('sends a text body with its content type and headers', async () => {
    const { outputs } = await runTask(request, {
      uri: `${base}/echo`,
      method: 'PUT',
      body: 'a,b\n1,2',
      contentType: 'text/csv',
      headers: { 'X-Custom': 'yes' },
    })
    expect(outputs.body).toEqual({
      method: 'PUT',
      contentType: 'text/csv',
      custom: 'yes',
      body: 'a,b\n1,2',
    })
  })

  it('fails on a 500 with the status and an excerpt of the body', async () => {
    await expect(runTask(request, { uri: `${base}/fail` })).rejects.toMatchObject({
      code: 'HTTP_STATUS',
      kind: 'operational',
      message: `GET ${base}/fail answered 500 Internal Server Error: {"error":"database is down"}`,
    })
    await expect(runTask(request, { uri: `${base}/missing` })).rejects.toMatchObject({
      kind: 'user',
      message: `GET ${base}/missing answered 404 Not Found: no such thing at all`,
    })
  })

  it('returns a failed response with allowFailed', async () => {
    const { outputs } = await runTask(request, { uri: `${base}/fail`, allowFailed: true })
    expect(outputs.code).toBe(500)
    expect(outputs.body).toEqual({ error: 'database is down' })
  })

  it('stops a slow request at requestTimeout', async () => {
    const started = Date.now()
    await expect(
      runTask(request, { uri: `${base}/slow?id=request-timeout`, requestTimeout: 'PT0.3S' }),
    ).rejects.toMatchObject({
      code: 'REQUEST_TIMEOUT',
      message: `GET ${base}/slow?id=request-timeout: no complete response within PT0.3S (requestTimeout)`,
    })
    expect(Date.now() - started).toBeLessThan(3000)
    await expect.poll(() => closedEarly).toContain('request-timeout')
  })

  it("aborts the request when the task's own timeout fires", async () => {
    await expect(
      runTask(request, { uri: `${base}/slow?id=task-timeout` }, { timeout: 'PT0.3S' }),
    ).rejects.toMatchObject({ code: 'TIMEOUT' })
    await expect.poll(() => closedEarly).toContain('task-timeout')
  })

  it('explains a refused connection', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    await expect(runTask(request, { uri: `http://127.0.0.1:${port}/` })).rejects.toMatchObject({
      code: 'REQUEST_FAILED',
      message: expect.stringContaining('ECONNREFUSED'),
    })
  })

  it('sends basic credentials', async () => {
    const ok = await runTask(
      request,
      {
        uri: `${base}/basic`,
        auth: { type: 'basic', username: 'ada', password: "{{ secret('PASSWORD') }}" },
      },
      { secrets: { PASSWORD: 'lovelace' } },
    )
    expect(ok.outputs.body).toEqual({ user: 'ada' })
    await expect(
      runTask(request, {
        uri: `${base}/basic`,
        auth: { type: 'basic', username: 'ada', password: 'nope' },
      }),
    ).rejects.toThrow(/answered 401 Unauthorized: bad credentials/)
  })

  it('sends a bearer token', async () => {
    const ok = await runTask(request, {
      uri: `${base}/bearer`,
      auth: { type: 'bearer', token: 't0k3n' },
    })
    expect(ok.outputs.code).toBe(200)
    await expect(
      runTask(request, { uri: `${base}/bearer`, auth: { type: 'bearer' } }),
    ).rejects.toThrow('auth: bearer authentication needs a `token`')
  })

  it('stores the body with STORE, and only then has a uri', async () => {
    const { outputs, context } = await runTask(request, {
      uri: `${base}/files/report.csv`,
      fetchType: 'STORE',
    })
    expect(outputs.uri).toMatch(/^kite:\/\/\/.*report\.csv$/)
    expect(outputs.size).toBe(8)
    expect(await context.readStorage(outputs.uri ?? '')).toBe('a,b\n1,2\n')
    const exposed = guardOutputs(outputs, outputsJsonSchema(request.outputs), 'get')
    expect(() => exposed.body).toThrow('outputs.get.body does not exist: it produced "uri" instead')
  })

  it('discards the body with NONE', async () => {
    const { outputs } = await runTask(request, { uri: `${base}/json`, fetchType: 'NONE' })
    expect(outputs).toMatchObject({ code: 200, size: 31 })
    expect('body' in outputs || 'uri' in outputs).toBe(false)
  })

  it('refuses a URL that is not http(s) and a GET with a body', async () => {
    await expect(runTask(request, { uri: 'ftp://example.com/x' })).rejects.toThrow(
      /uri: must be an http:\/\/ or https:\/\/ URL/,
    )
    await expect(runTask(request, { uri: `${base}/echo`, body: 'x' })).rejects.toThrow(
      'a GET request cannot have a body',
    )
  })
})

describe('Download', () => {
  it('stores a binary file byte for byte', async () => {
    const { outputs, context } = await runTask(download, { uri: `${base}/binary` })
    expect(outputs).toMatchObject({
      code: 200,
      size: binary.length,
      contentType: 'application/octet-stream',
    })
    expect(outputs.uri).toMatch(/data\.bin$/)
    const stored = await context.ctx.storage.get(outputs.uri)
    expect(Buffer.from(stored).equals(binary)).toBe(true)
  })

  it('names the file after the URL or fileName', async () => {
    const byUrl = await runTask(download, { uri: `${base}/files/report.csv` })
    expect(byUrl.outputs.uri).toMatch(/report\.csv$/)
    const named = await runTask(download, {
      uri: `${base}/files/report.csv`,
      fileName: 'daily.csv',
    })
    expect(named.outputs.uri).toMatch(/daily\.csv$/)
  })

  it('fails on an error status', async () => {
    await expect(runTask(download, { uri: `${base}/fail` })).rejects.toMatchObject({
      code: 'HTTP_STATUS',
    })
  })
})

describe('Trigger', () => {
  it('fires when the response matches the condition', async () => {
    const { events } = await pollTrigger(trigger, {
      uri: `${base}/status`,
      responseCondition: "{{ response.code == 200 and 'running' in response.body }}",
    })
    expect(events).toHaveLength(1)
    expect(events[0]?.code).toBe(200)
    expect(JSON.parse(events[0]?.body ?? '')).toEqual({ state: 'running' })
    expect(events[0]?.headers['content-type']).toMatch(/json/)
  })

  it('does not fire when the condition is false', async () => {
    const { events } = await pollTrigger(trigger, {
      uri: `${base}/status`,
      responseCondition: "{{ 'done' in response.body }}",
    })
    expect(events).toEqual([])
  })

  it('fires on errors only if the condition says so (default: status below 400)', async () => {
    expect((await pollTrigger(trigger, { uri: `${base}/fail` })).events).toEqual([])
    expect((await pollTrigger(trigger, { uri: `${base}/json` })).events).toHaveLength(1)
  })

  it('with onlyOnChange, fires again only when the response changes', async () => {
    const props = { uri: `${base}/status`, onlyOnChange: true }
    const first = await pollTrigger(trigger, props)
    expect(first.events).toHaveLength(1)
    const second = await pollTrigger(trigger, props, {
      state: Object.fromEntries(first.context.state),
    })
    expect(second.events).toEqual([])
    status = { state: 'done' }
    const third = await pollTrigger(trigger, props, {
      state: Object.fromEntries(second.context.state),
    })
    expect(third.events.map((event) => JSON.parse(event.body))).toEqual([{ state: 'done' }])
    status = { state: 'running' }
  })

  it('explains a condition that is not a boolean', async () => {
    await expect(
      pollTrigger(trigger, { uri: `${base}/status`, responseCondition: '{{ response.code }}' }),
    ).rejects.toMatchObject({
      code: 'NOT_A_BOOLEAN',
      message: expect.stringContaining('rendered to "200"'),
    })
  })
})
