import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer, definePluginVersion, type KiteServer } from '@kite/runtime'
import { definePlugin, defineTask, z } from '@kite/sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createKiteClient, type FollowEvent, isKiteClientError, KiteClientError } from './index.js'

const say = defineTask({
  name: 'Say',
  description: 'Logs its message and returns it.',
  properties: z.object({ message: z.string(), ms: z.number().int().min(0).default(0) }),
  outputs: z.object({ said: z.string() }),
  async run(props, ctx) {
    ctx.logger.info(`saying ${props.message}`)
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, props.ms)
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer)
        reject(ctx.signal.reason)
      })
    })
    return { said: props.message }
  },
})
const plugin = definePlugin({
  group: 'acme.client',
  title: 'Client test',
  description: 'A plugin for the client test.',
  tasks: [say],
  triggers: [],
  conditions: [],
})

const TOKEN = 'client-test-token'
let dir: string
let server: KiteServer
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kite-client-'))
  server = await createServer({
    dataDir: dir,
    port: 0,
    adminToken: TOKEN,
    plugins: [definePluginVersion({ name: '@acme/kite-plugin-client', version: '1.0.0', plugin })],
  })
})
afterAll(async () => {
  await server?.close()
  await rm(dir, { recursive: true, force: true })
})

const flow = (id: string, message: string, ms = 0) => `id: ${id}
namespace: company.client
inputs:
  - id: who
    type: STRING
    defaults: world
tasks:
  - id: say
    type: acme.client.Say
    message: "${message} {{ inputs.who }}"
    ms: ${ms}
`

/** The error a call throws, or a failure when it does not throw. */
async function failure(promise: Promise<unknown>): Promise<KiteClientError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  )
  if (!isKiteClientError(error)) throw new Error(`expected a KiteClientError, got ${String(error)}`)
  return error
}

describe('@kite/client against a real runtime', () => {
  it('saves, validates, reads, lists revisions of and deletes flows', async () => {
    const kite = createKiteClient({ server: `${server.url}/` })
    const created = await kite.flows.save(flow('hello', 'hello'))
    expect(created).toMatchObject({ namespace: 'company.client', id: 'hello', revision: 1 })
    expect(created.plugins).toEqual([
      expect.objectContaining({
        taskId: 'say',
        package: '@acme/kite-plugin-client',
        version: '1.0.0',
      }),
    ])
    const updated = await kite.flows.save(flow('hello', 'hi'))
    expect(updated.revision).toBe(2)
    expect((await kite.flows.get('company.client', 'hello', 1)).source).toContain('hello {{')
    expect(
      (await kite.flows.revisions('company.client', 'hello')).map((item) => item.revision),
    ).toEqual([1, 2])
    expect((await kite.flows.list('company.client')).total).toBe(1)

    const valid = await kite.flows.validate(flow('other', 'x'))
    expect(valid).toMatchObject({ valid: true, id: 'other' })
    const invalid = await failure(
      kite.flows.validate('id: bad\nnamespace: n\ntasks:\n  - id: a\n    type: acme.client.Nope\n'),
    )
    expect(invalid).toMatchObject({ code: 'FLOW_INVALID', status: 422, kind: 'user' })
    // An unknown type points at its `type:` value (SPEC 11 positions).
    expect(invalid.errors[0]).toMatchObject({ path: 'tasks[0]', line: 5, column: 11 })

    await kite.flows.save(flow('doomed', 'bye'))
    await kite.flows.delete('company.client', 'doomed')
    const gone = await failure(kite.flows.get('company.client', 'doomed'))
    expect(gone).toMatchObject({ code: 'FLOW_NOT_FOUND', status: 404 })
    expect(gone.message).toContain('company.client/doomed')
  })

  it('starts executions with wait, lists them and reads their logs', async () => {
    const kite = createKiteClient({ server: server.url })
    await kite.flows.save(flow('waited', 'hello'))
    const done = await kite.executions.start('company.client', 'waited', {
      inputs: { who: 'Ada' },
      labels: { team: 'client' },
      wait: true,
    })
    expect(done.state.current).toBe('SUCCESS')
    expect(done.labels).toEqual({ team: 'client' })
    expect(done.taskRunList[0]?.outputs).toEqual({ said: 'hello Ada' })
    expect((await kite.executions.get(done.id)).id).toBe(done.id)
    const logs = await kite.executions.logs(done.id)
    expect(logs.map((entry) => entry.message)).toContain('saying hello Ada')
    const page = await kite.executions.list({ flowId: 'waited', state: ['SUCCESS'] })
    expect(page.results.map((item) => item.id)).toContain(done.id)
    const none = await kite.executions.list({ flowId: 'waited', state: 'FAILED' })
    expect(none.total).toBe(0)
    const bad = await failure(
      kite.executions.start('company.client', 'waited', { inputs: { who: { not: 'text' } } }),
    )
    expect(bad).toMatchObject({ code: 'INPUTS_INVALID', status: 422 })
    expect(bad.errors.map((issue) => issue.path)).toEqual(['inputs.who'])
  })

  it('follows an execution: its log lines, then its states until it ends', async () => {
    const kite = createKiteClient({ server: server.url })
    await kite.flows.save(flow('followed', 'slowly', 300))
    const started = await kite.executions.start('company.client', 'followed')
    const events: FollowEvent[] = []
    for await (const event of kite.executions.follow(started.id)) events.push(event)
    const logs = events.flatMap((event) => (event.type === 'log' ? [event.log.message] : []))
    expect(logs).toContain('saying slowly world')
    const states = events.flatMap((event) => (event.type === 'state' ? [event.state] : []))
    expect(states.at(-1)).toBe('SUCCESS')
    expect(states).toContain('RUNNING')
    // A state event carries the whole execution.
    const last = events.at(-1)
    expect(last?.type === 'state' && last.execution.taskRunList[0]?.outputs).toEqual({
      said: 'slowly world',
    })
  })

  it('kills a running execution, and says why it cannot twice', async () => {
    const kite = createKiteClient({ server: server.url })
    await kite.flows.save(flow('killed', 'forever', 60_000))
    const started = await kite.executions.start('company.client', 'killed')
    for await (const event of kite.executions.follow(started.id)) {
      if (event.type === 'log') break // leaving the loop closes the stream
    }
    const killing = await kite.executions.kill(started.id)
    expect(['KILLING', 'KILLED']).toContain(killing.state.current)
    const states: string[] = []
    for await (const event of kite.executions.follow(started.id)) {
      if (event.type === 'state') states.push(event.state)
    }
    expect(states.at(-1)).toBe('KILLED')
    const again = await failure(kite.executions.kill(started.id))
    expect(again).toMatchObject({ code: 'EXECUTION_STATE', status: 409 })
    const missing = await failure(kite.executions.get('nope'))
    expect(missing).toMatchObject({ code: 'EXECUTION_NOT_FOUND', status: 404 })
    await expect(collect(kite.executions.follow('nope'))).rejects.toMatchObject({
      code: 'EXECUTION_NOT_FOUND',
    })
  })

  it('gets the flow JSON Schema of the installed versions', async () => {
    const schema = await createKiteClient({ server: server.url }).flows.schema()
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema')
    expect(JSON.stringify(schema)).toContain('"const":"acme.client.Say"')
  })

  it('lists and resolves plugins; admin routes need the token', async () => {
    const open = createKiteClient({ server: server.url })
    const list = await open.plugins.list()
    expect(list.results).toEqual([
      expect.objectContaining({
        name: '@acme/kite-plugin-client',
        versions: [
          expect.objectContaining({
            version: '1.0.0',
            types: [{ type: 'acme.client.Say', kind: 'task' }],
          }),
        ],
      }),
    ])
    const [resolved] = (await open.plugins.resolve(['@acme/kite-plugin-client@^1'])).results
    expect(resolved).toMatchObject({ installed: ['1.0.0'], resolvedInstalled: '1.0.0' })
    const denied = await failure(open.namespaces.setPluginDefaults('company.client', []))
    expect(denied).toMatchObject({ code: 'UNAUTHORIZED', status: 401 })
    const admin = createKiteClient({ server: server.url, token: TOKEN })
    const set = await admin.namespaces.setPluginDefaults('company.client', [
      { type: 'acme.client', values: { version: '1.0.0' } },
    ])
    expect(set.pluginDefaults).toHaveLength(1)
    expect((await open.namespaces.pluginDefaults('company.client')).pluginDefaults).toEqual(
      set.pluginDefaults,
    )
    const inUse = await failure(admin.plugins.uninstall(['@acme/kite-plugin-client@1.0.0']))
    expect(inUse).toMatchObject({ code: 'PLUGIN_IN_USE', status: 409 })
    // The refusal says how to force it, over HTTP and from the CLI.
    expect(inUse.message).toContain('?force=true')
    expect(inUse.message).toContain('kite plugins uninstall @acme/kite-plugin-client@1.0.0 --force')
    const notExact = await failure(admin.plugins.uninstall(['@acme/kite-plugin-client@^1']))
    expect(notExact).toMatchObject({ code: 'REQUEST_INVALID', status: 400 })
  })

  it('reads the cluster: this one node with every role, its slots and plugins', async () => {
    const kite = createKiteClient({ server: server.url })
    const cluster = await kite.cluster()
    const self = cluster.nodes.find((node) => node.self)
    expect(self?.id).toBe(server.runtime.nodeId)
    expect(self?.roles).toEqual(['api', 'executor', 'worker', 'scheduler'])
    expect(self?.slots).toBe(server.runtime.config.worker.slots)
    expect(self?.plugins).toContain('@acme/kite-plugin-client@1.0.0')
    expect(self?.activeScheduler).toBe(true)
    expect(cluster.scheduler).toBeNull()
  })

  it('lists triggers and turns one off and on', async () => {
    const kite = createKiteClient({ server: server.url })
    await kite.flows.save(
      `${flow('scheduled', 'tick')}triggers:\n  - id: nightly\n    type: kite.trigger.Schedule\n    cron: "0 3 * * *"\n`,
    )
    const { results } = await kite.triggers.list({ namespace: 'company.client' })
    expect(results).toEqual([
      expect.objectContaining({ triggerId: 'nightly', kind: 'schedule', enabled: true }),
    ])
    const key = { namespace: 'company.client', flowId: 'scheduled', triggerId: 'nightly' }
    expect((await kite.triggers.disable(key)).enabled).toBe(false)
    expect((await kite.triggers.enable(key)).enabled).toBe(true)
    const missing = await failure(kite.triggers.reset({ ...key, triggerId: 'nope' }))
    expect(missing.status).toBe(404)
  })

  // Last: once a user exists, every route needs a token.
  it('manages users and tokens, and sends KITE_TOKEN', async () => {
    const admin = createKiteClient({ server: server.url, token: TOKEN })
    expect(await admin.me()).toEqual({
      user: { name: 'KITE_ADMIN_TOKEN', role: 'admin' },
      authRequired: false,
    })
    const ada = await admin.users.add({ name: 'ada', role: 'admin', password: 'a good password' })
    expect(ada).toMatchObject({ name: 'ada', role: 'admin' })
    expect((await admin.users.list()).map((user) => user.name)).toEqual(['ada'])
    const open = createKiteClient({ server: server.url })
    expect(await failure(open.flows.list())).toMatchObject({ code: 'UNAUTHENTICATED', status: 401 })
    const created = await admin.tokens.create({ name: 'reader', role: 'viewer' })
    process.env.KITE_TOKEN = created.token
    try {
      const reader = createKiteClient({ server: server.url })
      expect(await reader.me()).toEqual({
        user: { name: 'KITE_ADMIN_TOKEN', role: 'viewer' },
        authRequired: true,
      })
      await expect(reader.flows.list()).resolves.toBeDefined()
      const denied = await failure(reader.flows.delete('company.client', 'hello'))
      expect(denied).toMatchObject({ code: 'FORBIDDEN', status: 403 })
      await admin.tokens.revoke(created.id)
      expect((await failure(reader.flows.list())).status).toBe(401)
    } finally {
      delete process.env.KITE_TOKEN
    }
    expect(await admin.tokens.list()).toEqual([
      expect.objectContaining({ id: created.id, revokedAt: expect.any(String) }),
    ])
    await admin.users.add({ name: 'bob', role: 'viewer', password: 'another password' })
    await admin.users.remove('bob')
    expect(await failure(admin.users.remove('bob'))).toMatchObject({
      code: 'USER_NOT_FOUND',
      status: 404,
    })
  })

  it('says when the runtime cannot be reached', async () => {
    const closed = await createServer({ dataDir: join(dir, 'closed'), port: 0 })
    const url = closed.url
    await closed.close()
    const kite = createKiteClient({ server: url })
    const error = await failure(kite.health())
    expect(error).toBeInstanceOf(KiteClientError)
    expect(error).toMatchObject({ code: 'UNREACHABLE', kind: 'operational' })
    expect(error.message).toContain(url)
  })
})

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = []
  for await (const item of iterable) items.push(item)
  return items
}
