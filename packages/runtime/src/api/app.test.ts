import { request as httpRequest } from 'node:http'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { echo, flowYaml, task } from '../../test/fixtures/flows.js'
import { useTestServer } from '../../test/fixtures/test-server.js'
import { createApi } from './app.js'

const kite = useTestServer('kite-api-', { env: { KITE_SECRET_TOKEN: 'very-secret' } })

// biome-ignore lint/suspicious/noExplicitAny: API answers are checked by the assertions below
type Json = any
type JsonResponse = Omit<Response, 'json'> & { json(): Promise<Json> }
const api = (path: string, init: RequestInit = {}): Promise<JsonResponse> =>
  fetch(`${kite.server.url}/api/v1${path}`, init)
const yaml = (body: string, method = 'POST', path = '/flows') =>
  api(path, { method, headers: { 'content-type': 'application/x-yaml' }, body })
/** The JSON of a 200 answer (anything else fails with the answer's text). */
const ok = async (response: JsonResponse): Promise<Json> => {
  expect(response.status, await response.clone().text()).toBe(200)
  return response.json()
}
const json = (path: string, body: unknown) =>
  api(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })

/** A refusal's code and the sorted paths of its errors. */
const refusal = async (response: JsonResponse): Promise<{ code: string; paths: string[] }> => {
  const body = await response.json()
  return { code: body.code, paths: body.errors.map((error: { path: string }) => error.path).sort() }
}

async function expectUp() {
  const health = await api('/health')
  expect(health.status).toBe(200)
  expect(await health.json()).toMatchObject({ status: 'UP' })
}

const HELLO = flowYaml(
  'hello',
  'company.team',
  [
    task('greet', 'test.versioned.Hello', { version: '^1', name: '{{ inputs.name }}' }),
    task('log', 'test.fixtures.Log', {
      message: "{{ outputs.greet.message }} token={{ secret('TOKEN') }}",
    }),
  ],
  { inputs: [{ id: 'name', type: 'STRING', defaults: 'world' }] },
)

describe('flows API', () => {
  it('creates a flow and answers with its resolved plugin versions', async () => {
    const body = await ok(await yaml(HELLO))
    expect(body).toMatchObject({
      namespace: 'company.team',
      id: 'hello',
      revision: 1,
      source: HELLO,
    })
    expect(body.plugins).toEqual([
      expect.objectContaining({
        taskId: 'greet',
        type: 'test.versioned.Hello',
        version: '1.2.0',
        versionSpec: '^1',
        decidedBy: 'task',
      }),
      expect.objectContaining({
        taskId: 'log',
        type: 'test.fixtures.Log',
        version: '1.0.0',
        decidedBy: 'defaultVersion',
      }),
    ])
    expect((await yaml(HELLO)).status).toBe(409)
  })

  it('updates with PUT (a revision per change), reads, lists revisions and deletes', async () => {
    const changed = HELLO.replace('defaults: world', 'defaults: everyone')
    const put = await yaml(changed, 'PUT', '/flows/company.team/hello')
    expect(put.status).toBe(200)
    expect((await put.json()).revision).toBe(2)
    expect((await (await yaml(changed, 'PUT', '/flows/company.team/hello')).json()).revision).toBe(
      2,
    )
    const mismatch = await yaml(changed, 'PUT', '/flows/company.team/other')
    expect(mismatch.status).toBe(422)
    expect((await mismatch.json()).errors).toEqual([
      { path: 'id', message: 'must be "other" to match the URL' },
    ])
    expect((await (await api('/flows/company.team/hello?revision=1')).json()).source).toBe(HELLO)
    expect(
      (await (await api('/flows/company.team/hello/revisions')).json()).map(
        (item: { revision: number }) => item.revision,
      ),
    ).toEqual([1, 2])
    expect((await (await api('/flows?namespace=company')).json()).total).toBeGreaterThanOrEqual(1)
    await yaml(HELLO.replace('id: hello', 'id: doomed'))
    expect((await api('/flows/company.team/doomed', { method: 'DELETE' })).status).toBe(204)
    expect((await api('/flows/company.team/doomed')).status).toBe(404)
    expect((await api('/flows/company.team/doomed', { method: 'DELETE' })).status).toBe(404)
  })

  it('lists flows with what the UI shows of each: description, labels, inputs, tasks', async () => {
    const source = flowYaml('described', 'company.listed', [echo('a', 1), echo('b', 2)], {
      description: 'Shown in the flows list',
      labels: { team: 'data' },
      inputs: [{ id: 'who', type: 'STRING', defaults: 'Ada' }],
    })
    await ok(await yaml(source))
    const listed = await ok(await api('/flows?namespace=company.listed'))
    expect(listed.results).toEqual([
      expect.objectContaining({
        id: 'described',
        description: 'Shown in the flows list',
        labels: { team: 'data' },
        disabled: false,
        inputs: [expect.objectContaining({ id: 'who', type: 'STRING' })],
        tasks: 2,
        triggers: [],
      }),
    ])
  })

  it('validates without saving', async () => {
    const ok = await yaml(HELLO.replace('id: hello', 'id: never-saved'), 'POST', '/flows/validate')
    expect(ok.status).toBe(200)
    expect(await ok.json()).toMatchObject({ valid: true, id: 'never-saved' })
    expect((await api('/flows/company.team/never-saved')).status).toBe(404)
    const bad = await yaml(
      'id: x\nnamespace: n\ntasks:\n  - id: a\n    type: test.fixtures.Nope\n',
      'POST',
      '/flows/validate',
    )
    expect(bad.status).toBe(422)
    expect(await bad.json()).toMatchObject({
      valid: false,
      errors: [expect.objectContaining({ path: 'tasks[0]', line: 5, column: 11, taskId: 'a' })],
    })
  })
})

describe('bad input is answered clearly and the server stays up', () => {
  const cases: Array<[string, string, RegExp, Record<string, unknown>?]> = [
    ['invalid YAML', 'id: x\nnamespace: n\ntasks: [\n', /not valid YAML/],
    [
      'unknown keys',
      'id: x\nnamespace: n\nfoo: 1\ntasks:\n  - id: a\n    type: test.fixtures.Echo\n',
      /unknown key "foo"/,
      { path: 'foo', line: 3 },
    ],
    [
      'wrong types',
      'id: x\nnamespace: n\ntasks:\n  - id: a\n    type: test.fixtures.Add\n    a: one\n',
      /a: expected number, got string "one"/,
      {
        path: 'tasks[0].a',
        line: 6,
        column: 8,
        taskId: 'a',
        type: 'test.fixtures.Add',
        decidedBy: 'defaultVersion',
      },
    ],
    [
      'unknown task type',
      'id: x\nnamespace: n\ntasks:\n  - id: a\n    type: acme.nope.Task\n',
      /unknown type "acme.nope.Task"/,
      { taskId: 'a' },
    ],
    [
      'duplicate ids',
      'id: x\nnamespace: n\ntasks:\n  - id: a\n    type: test.fixtures.Echo\n  - id: a\n    type: test.fixtures.Echo\n',
      /duplicate task id "a"/,
      { path: 'tasks[1].id', line: 6 },
    ],
    [
      'an expression syntax error',
      'id: x\nnamespace: n\ntasks:\n  - id: a\n    type: test.fixtures.Echo\n    value: "{{ oops "\n',
      /value: syntax error/,
      { taskId: 'a' },
    ],
  ]
  for (const [name, body, message, issue] of cases) {
    it(`refuses ${name} with 422`, async () => {
      const response = await yaml(body)
      expect(response.status).toBe(422)
      const answer = await response.json()
      expect(answer.code).toBe('FLOW_INVALID')
      expect(answer.message).toMatch(message)
      expect(answer.errors.length).toBeGreaterThan(0)
      if (issue) expect(answer.errors[0]).toMatchObject(issue)
      await expectUp()
    })
  }

  it('refuses a 5 MB body with 413', async () => {
    const response = await yaml(
      `id: x\nnamespace: n\ndescription: "${'x'.repeat(5 * 1024 * 1024)}"\n`,
    )
    expect(response.status).toBe(413)
    expect(await response.json()).toEqual({
      message: 'the request body is larger than the limit of 1 MiB',
      code: 'BODY_TOO_LARGE',
    })
    await expectUp()
  })

  it('reads a streamed (chunked) body under the limit', async () => {
    const streamed = (chunks: string[]) =>
      api('/flows/validate', {
        method: 'POST',
        headers: { 'content-type': 'application/x-yaml' },
        body: new ReadableStream<Uint8Array>({
          start(controller) {
            for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk))
            controller.close()
          },
        }),
        duplex: 'half',
      } as RequestInit)
    const source = HELLO.replace('id: hello', 'id: streamed')
    const small = await streamed([source.slice(0, 20), source.slice(20)])
    expect(small.status).toBe(200)
    expect(await small.json()).toMatchObject({ valid: true, id: 'streamed' })
    // An oversized streamed body is refused with 413 (uploads.test.ts: on a connection of its own).
  })

  it('refuses invalid inputs, invalid JSON and unknown flows', async () => {
    const inputs = await json('/executions/company.team/hello', {
      name: { not: 'a string' },
      extra: 1,
    })
    expect(inputs.status).toBe(422)
    expect(await refusal(inputs)).toEqual({
      code: 'INPUTS_INVALID',
      paths: ['inputs.extra', 'inputs.name'],
    })
    const broken = await api('/executions/company.team/hello', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{nope',
    })
    expect(broken.status).toBe(400)
    expect(await broken.json()).toEqual({
      message: 'the body is not valid JSON',
      code: 'REQUEST_INVALID',
    })
    const notJson = await api('/executions/company.team/hello', { method: 'POST', body: '{}' })
    expect(notJson.status).toBe(415)
    expect(await notJson.json()).toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: expect.stringContaining('text/plain'),
    })
    const array = await json('/executions/company.team/hello', [1, 2])
    expect(array.status).toBe(400)
    expect((await array.json()).code).toBe('REQUEST_INVALID')
    expect((await json('/executions/company.team/nothing', {})).status).toBe(404)
    expect((await api('/executions?size=0')).status).toBe(400)
    expect((await api('/executions?state=DONE')).status).toBe(400)
    expect((await api('/nowhere')).status).toBe(404)
    expect(await (await api('/nowhere')).json()).toEqual({
      message: 'no route for GET /api/v1/nowhere',
      code: 'NOT_FOUND',
    })
    await expectUp()
  })

  it('tells a POST with no body from one whose body has no Content-Type', async () => {
    // Raw requests: fetch always sends a Content-Type with a body.
    const raw = (headers: Record<string, string>, body?: string) =>
      new Promise<{ status: number; body: { code?: string; state?: { current: string } } }>(
        (resolve, reject) => {
          const request = httpRequest(
            `${kite.server.url}/api/v1/executions/company.team/hello`,
            { method: 'POST', headers },
            (response) => {
              let text = ''
              response.setEncoding('utf8')
              response.on('data', (chunk) => {
                text += chunk
              })
              response.on('end', () =>
                resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }),
              )
            },
          )
          request.on('error', reject)
          request.end(body)
        },
      )
    // No body by its headers (no length, or a length of 0): started with no inputs.
    for (const headers of [{}, { 'content-length': '0' }] as Record<string, string>[]) {
      const started = await raw(headers)
      expect(started.status).toBe(200)
      expect(started.body.state?.current).toBe('CREATED')
    }
    // A body without a Content-Type is still refused, whether its length is stated or streamed.
    for (const headers of [{ 'content-length': '2' }, { 'transfer-encoding': 'chunked' }] as Record<
      string,
      string
    >[]) {
      const refused = await raw(headers, '{}')
      expect(refused.status).toBe(415)
      expect(refused.body.code).toBe('UNSUPPORTED_MEDIA_TYPE')
    }
    await expectUp()
  })

  it('fails an execution whose expression names an undefined variable', async () => {
    await yaml(
      'id: undefined-var\nnamespace: n\nvariables:\n  cfg: {}\ntasks:\n  - id: a\n    type: test.fixtures.Echo\n    value: "{{ vars.cfg.nothing }}"\n',
    )
    const execution = await ok(await json('/executions/n/undefined-var?wait=true', {}))
    expect(execution.state.current).toBe('FAILED')
    expect(execution.taskRunList[0].error).toContain('undefined variable "vars.cfg.nothing"')
    await expectUp()
  })
})

describe('executions API', () => {
  it('starts with JSON inputs and waits, with the resolved set recorded', async () => {
    const execution = await ok(
      await json('/executions/company.team/hello?wait=true', { name: 'Ada' }),
    )
    expect(execution).toMatchObject({
      namespace: 'company.team',
      flowId: 'hello',
      flowRevision: 2,
      state: { current: 'SUCCESS' },
      inputs: { name: 'Ada' },
    })
    expect(execution.plugins).toContainEqual(
      expect.objectContaining({
        type: 'test.versioned.Hello',
        package: '@test/kite-plugin-versioned',
        version: '1.2.0',
        decidedBy: 'task',
      }),
    )
    expect(
      execution.taskRunList.map(
        (run: { taskId: string; pluginVersion: string; state: { current: string } }) => [
          run.taskId,
          run.pluginVersion,
          run.state.current,
        ],
      ),
    ).toEqual([
      ['greet', '1.2.0', 'SUCCESS'],
      ['log', '1.0.0', 'SUCCESS'],
    ])
    const fetched = await (await api(`/executions/${execution.id}`)).json()
    expect(fetched.taskRunList[0].outputs).toEqual({ message: 'Hello, Ada!', version: '1.2.0' })
    const logs = await (await api(`/executions/${execution.id}/logs`)).json()
    expect(logs.map((line: { message: string }) => line.message)).toContain(
      'Hello, Ada! token=******',
    )
    expect(await (await api(`/executions/${execution.id}/logs?minLevel=error`)).json()).toEqual([])
    expect((await api('/executions/nope')).status).toBe(404)
  })

  it('answers at once without wait, and lists newest first with filters and paging', async () => {
    const created = await (await json('/executions/company.team/hello', {})).json()
    expect(created.state.current).toBe('CREATED')
    await kite.server.runtime.engine.waitFor(created.id)
    const page = await (await api('/executions?namespace=company&flowId=hello&size=1')).json()
    expect(page).toMatchObject({ page: 1, size: 1 })
    expect(page.total).toBeGreaterThanOrEqual(2)
    expect(page.results[0].id).toBe(created.id)
    expect(page.results[0].taskRunList).toBeUndefined()
    const second = await (
      await api('/executions?namespace=company&flowId=hello&size=1&page=2')
    ).json()
    expect(second.results[0].id).not.toBe(created.id)
    const failed = await (await api('/executions?state=FAILED&flowId=hello')).json()
    expect(failed.total).toBe(0)
  })

  it('follows an execution with Server-Sent Events until it ends', async () => {
    await yaml(
      'id: slow\nnamespace: n\ntasks:\n  - id: nap\n    type: test.fixtures.Slow\n    ms: 200\n  - id: done\n    type: test.fixtures.Log\n    message: finished\n',
    )
    const created = await (await json('/executions/n/slow', {})).json()
    const response = await api(`/executions/${created.id}/follow`)
    expect(response.headers.get('content-type')).toContain('text/event-stream')
    const text = await response.text()
    const events = [...text.matchAll(/^event: (\w+)\ndata: (.*)$/gm)].map((match) => ({
      event: match[1],
      data: JSON.parse(match[2]!),
    }))
    expect(events.at(-1)).toEqual({ event: 'end', data: { state: 'SUCCESS' } })
    expect(events.filter((item) => item.event === 'log').map((item) => item.data.message)).toEqual([
      'sleeping 200 ms',
      'finished',
    ])
    const states = events
      .filter((item) => item.event === 'execution')
      .map((item) => item.data.state.current)
    expect(states.at(-1)).toBe('SUCCESS')
    expect((await api('/executions/nope/follow')).status).toBe(404)
  })

  it('kills a running execution, and refuses to kill it twice', async () => {
    await yaml(
      'id: long\nnamespace: n\ntasks:\n  - id: nap\n    type: test.fixtures.Slow\n    ms: 20000\n',
    )
    const created = await (await json('/executions/n/long', {})).json()
    for (let tries = 0; tries < 200; tries++) {
      const current = await (await api(`/executions/${created.id}`)).json()
      if (current.taskRunList.length > 0) break
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    const kill = await api(`/executions/${created.id}/kill`, { method: 'POST' })
    expect(kill.status).toBe(202)
    expect((await kite.server.runtime.engine.waitFor(created.id)).state.current).toBe('KILLED')
    const again = await api(`/executions/${created.id}/kill`, { method: 'POST' })
    expect(again.status).toBe(409)
    expect((await again.json()).message).toContain('it is KILLED')
  })

  it('resumes a paused execution', async () => {
    await yaml(
      'id: pause\nnamespace: n\ntasks:\n  - id: wait\n    type: kite.flow.Pause\n  - id: after\n    type: test.fixtures.Echo\n    value: 1\n',
    )
    const paused = await (await json('/executions/n/pause?wait=true', {})).json()
    expect(paused.state.current).toBe('PAUSED')
    const resumed = await api(`/executions/${paused.id}/resume`, { method: 'POST' })
    expect(resumed.status).toBe(200)
    expect((await kite.server.runtime.engine.waitFor(paused.id)).state.current).toBe('SUCCESS')
    expect((await api(`/executions/${paused.id}/resume`, { method: 'POST' })).status).toBe(409)
  })

  it('starts executions from a webhook trigger', async () => {
    await yaml(
      flowYaml('hooked', 'n', [echo('echo', '{{ trigger.body.who }}')], {
        triggers: [{ id: 'hook', type: 'kite.trigger.Webhook', key: 's3cret-key' }],
      }),
    )
    const response = await json('/executions/webhook/n/hooked/s3cret-key?wait=true', {
      who: 'Grace',
    })
    expect(response.status).toBe(200)
    const execution = await response.json()
    expect(execution.taskRunList[0].outputs).toEqual({ value: 'Grace' })
    expect(execution.trigger).toMatchObject({ id: 'hook', type: 'kite.trigger.Webhook' })
    expect((await json('/executions/webhook/n/hooked/wrong', {})).status).toBe(404)
    // No body at all, and a streamed (chunked) one: the flow sees '' and the whole text.
    const bodyOf = async (init: RequestInit) => {
      const answer = await api('/executions/webhook/n/hooked/s3cret-key?wait=true', init)
      expect(answer.status).toBe(200)
      return (await answer.json()).trigger.variables.body
    }
    expect(await bodyOf({ method: 'POST' })).toBe('')
    const streamed = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const part of ['{"who":', '"Ada"}']) controller.enqueue(new TextEncoder().encode(part))
        controller.close()
      },
    })
    expect(
      await bodyOf({
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: streamed,
        duplex: 'half',
      } as RequestInit),
    ).toEqual({ who: 'Ada' })
  })

  it('serves an execution file, only of that execution', async () => {
    await yaml(
      'id: files\nnamespace: n\ntasks:\n  - id: put\n    type: test.fixtures.Store\n    text: file body\n',
    )
    const execution = await (await json('/executions/n/files?wait=true', {})).json()
    const uri = execution.taskRunList[0].outputs.uri
    const file = await api(`/executions/${execution.id}/file?uri=${encodeURIComponent(uri)}`)
    expect(file.status).toBe(200)
    expect(await file.text()).toBe('file body')
    expect(
      (await api(`/executions/${execution.id}/file?uri=${encodeURIComponent('kite:///n/other/x')}`))
        .status,
    ).toBe(400)
  })
})

describe('the OpenAPI document', () => {
  it('describes exactly the routes the app answers', async () => {
    const document = await (await api('/openapi.json')).json()
    expect(document.openapi).toBe('3.1.0')
    const described = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods as object).map((method) => `${method.toUpperCase()} ${path}`),
    )
    const app = createApi({ runtime: kite.server.runtime })
    const answered = app.routes
      .filter((route) => route.method !== 'ALL' && route.path.startsWith('/api/v1'))
      .map((route) => `${route.method} ${route.path.replaceAll(/:(\w+)/g, '{$1}')}`)
    expect([...new Set(answered)].sort()).toEqual(described.sort())
    expect(described).toContain('POST /api/v1/flows')
    expect(described.length).toBeGreaterThan(25)
  })

  it('answers GET /api/v1 with an index of the routes and links', async () => {
    const index = await api('')
    expect(index.status).toBe(200)
    const body = await index.json()
    expect(body.links).toMatchObject({ openapi: '/api/v1/openapi.json', flows: '/api/v1/flows' })
    expect(body.routes).toContainEqual(
      expect.objectContaining({ method: 'GET', path: '/api/v1/executions/{id}/follow' }),
    )
    for (const link of Object.values(body.links) as string[]) {
      const response = await fetch(`${kite.server.url}${link}`)
      expect(response.status, link).toBe(200)
      await response.body?.cancel()
    }
  })

  it('answers bad parameters with the path of each problem', async () => {
    const page = await api('/executions?page=two&size=x')
    expect(page.status).toBe(400)
    expect(await refusal(page)).toEqual({
      code: 'REQUEST_INVALID',
      paths: ['query.page', 'query.size'],
    })
    const level = await api('/executions/none/logs?minLevel=loud')
    expect(level.status).toBe(400)
    expect((await level.json()).errors[0].path).toBe('query.minLevel')
    const specs = await json('/plugins/resolve', { plugins: [1] })
    expect(specs.status).toBe(400)
    expect((await specs.json()).errors[0].path).toBe('body.plugins.0')
    const namespace = await api('/namespaces/Not%20One/plugin-defaults', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '[]',
    })
    expect(namespace.status).toBe(400)
    expect((await namespace.json()).errors[0].path).toBe('param.namespace')
    await expectUp()
  })

  it('answers any query string with 200 or a clear 400, never a crash (property)', async () => {
    const value = fc.oneof(
      fc.string(),
      fc.integer().map(String),
      fc.constantFrom('SUCCESS', 'x,FAILED', ''),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom('page', 'size', 'state', 'namespace', 'flowId'), value),
        async (query) => {
          const response = await api(`/executions?${new URLSearchParams(query)}`)
          expect([200, 400]).toContain(response.status)
          const body = await response.json()
          if (response.status === 400) {
            expect(body.code).toBe('REQUEST_INVALID')
            expect(body.message).toEqual(expect.any(String))
            expect(body.errors?.[0]?.path).toMatch(/^query\./)
          } else expect(body.results).toEqual(expect.any(Array))
        },
      ),
      { numRuns: 60 },
    )
    await expectUp()
  })

  it('answers any JSON body on the plugin routes with a clear 400 or an answer (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (body) => {
        const response = await json('/plugins/resolve', body)
        expect([200, 400]).toContain(response.status)
        const answer = await response.json()
        if (response.status === 400) expect(answer.code).toBe('REQUEST_INVALID')
        else expect(answer.results).toEqual(expect.any(Array))
      }),
      { numRuns: 60 },
    )
    await expectUp()
  })
})
