// A kill in a cluster of separate `kite server api|executor|worker` processes over PostgreSQL: the
// attempt a worker process runs is stopped there (its slot is free again at once), and the
// execution ends KILLED instead of waiting in KILLING for a task that never ends by itself.
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase } from '../../../runtime/test/fixtures/postgres.js'
import { writePlugin } from '../../../runtime/test/plugin-publishing.js'
import { scratchDir, startKite, stopAllKites } from '../../test/kite.js'

const BUNDLE = `import { definePlugin, defineTask, z } from '@kite/sdk'
export default definePlugin({
  group: 'acme.hang',
  title: 'Hang',
  description: 'Tasks for the kill test.',
  tasks: [
    defineTask({
      name: 'Hang',
      title: 'Hang',
      description: 'Waits until its signal fires.',
      properties: z.object({}),
      outputs: z.object({}),
      async run(_props, ctx) {
        ctx.logger.info('hanging')
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }))
        return {}
      },
    }),
    defineTask({
      name: 'Quick',
      title: 'Quick',
      description: 'Returns at once.',
      properties: z.object({}),
      outputs: z.object({}),
      run: () => ({}),
    }),
  ],
  triggers: [],
  conditions: [],
})
`

const scratch = scratchDir('kite-kill-cluster-')
let database: Awaited<ReturnType<typeof createTestDatabase>>

beforeAll(async () => {
  database = await createTestDatabase()
})
afterAll(async () => {
  await stopAllKites()
  await database?.drop()
})

interface Execution {
  id: string
  state: { current: string }
  taskRunList: Array<{
    taskId: string
    state: { current: string }
    attempts?: Array<{ worker?: string }>
  }>
}

describe('a kill in a cluster of processes (PostgreSQL)', { timeout: 120_000 }, () => {
  it('stops the attempt on the worker process and frees its slot', async () => {
    const plugin = await writePlugin(join(scratch.path, 'hang'), {
      name: '@acme/kite-plugin-hang',
      version: '1.0.0',
      bundle: BUNDLE,
    })
    // One slot: the quick execution after the kill runs only if the killed attempt gave it back.
    const config = await scratch.file(
      'kite.yaml',
      'worker:\n  slots: 1\n  heartbeatTimeout: PT3S\n',
    )
    await mkdir(join(scratch.path, 'nodes'), { recursive: true })
    const start = (role: string, extra: string[] = []) =>
      startKite(
        [
          'server',
          role,
          '--data',
          join(scratch.path, 'nodes', role),
          '--store',
          database.url,
          '--plugin',
          plugin,
          '--config',
          config,
          ...extra,
        ],
        /Press Ctrl-C to stop/,
        { cwd: scratch.path },
      )
    // The api first: it runs the migrations the others then find done.
    const api = start('api', ['--port', '0'])
    await api.ready
    const url = /running at (http:\/\/[\d.:]+)/.exec(api.output().out)?.[1]
    const others = [start('executor'), start('worker')]
    await Promise.all(others.map((node) => node.ready))
    const call = async <T>(path: string, method = 'GET', body?: string): Promise<T> => {
      const response = await fetch(`${url}/api/v1${path}`, {
        method,
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/x-yaml' }, body }),
      })
      expect(response.status, `${method} ${path}`).toBeLessThan(300)
      return (await response.json()) as T
    }
    await call(
      '/flows',
      'POST',
      'id: hang\nnamespace: acme\ntasks:\n  - id: hang\n    type: acme.hang.Hang\n  - id: after\n    type: acme.hang.Quick\n',
    )
    await call(
      '/flows',
      'POST',
      'id: quick\nnamespace: acme\ntasks:\n  - id: quick\n    type: acme.hang.Quick\n',
    )
    const execution = (id: string) => call<Execution>(`/executions/${id}`)
    const until = async <T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> => {
      const deadline = Date.now() + 20_000
      for (;;) {
        const value = await read()
        if (done(value)) return value
        if (Date.now() > deadline) throw new Error(`not reached: ${JSON.stringify(value)}`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }

    const started = await call<Execution>('/executions/acme/hang', 'POST')
    await until(
      () => call<Array<{ message: string }>>(`/executions/${started.id}/logs`),
      (logs) => logs.some((line) => line.message === 'hanging'),
    )
    const killed = await call<Execution>(`/executions/${started.id}/kill`, 'POST')
    expect(['KILLING', 'KILLED']).toContain(killed.state.current)
    const done = await until(
      () => execution(started.id),
      (value) => value.state.current !== 'KILLING' && value.state.current !== 'RUNNING',
    )
    expect(done.state.current).toBe('KILLED')
    expect(done.taskRunList.map((run) => `${run.taskId} ${run.state.current}`)).toEqual([
      'hang KILLED',
    ])
    // The worker's one slot is free: another execution runs.
    const quick = await call<Execution>('/executions/acme/quick?wait=true', 'POST')
    expect(quick.state.current).toBe('SUCCESS')
    // Its attempt names the worker process's node as the one that ran it, not the executor's.
    const cluster = await call<{ nodes: Array<{ id: string; roles: string[] }> }>('/cluster')
    const workerNode = cluster.nodes.find((node) => node.roles.includes('worker'))
    expect(workerNode).toBeDefined()
    expect(quick.taskRunList[0]?.attempts?.[0]?.worker).toBe(workerNode?.id)
  })
})
