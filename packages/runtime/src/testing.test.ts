import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../test/greeting-server.js'
import { createFlowTester, type FlowTester } from './testing.js'

const GREETING = join(REPO_ROOT, 'examples/plugins/greeting')

const greetFlow = `id: greet
namespace: demo
inputs:
  - id: name
    type: STRING
tasks:
  - id: hello
    type: acme.greeting.Hello
    name: "{{ inputs.name }}"
`

describe('createFlowTester', () => {
  let scratch: string
  let kite: FlowTester

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'kite-flow-tester-'))
    await mkdir(join(scratch, 'flows'))
    await writeFile(join(scratch, 'flows/greet.yaml'), greetFlow)
    kite = await createFlowTester({ plugins: [GREETING], flows: 'flows', cwd: scratch })
  }, 60_000)

  afterAll(async () => {
    await kite?.close()
    await rm(scratch, { recursive: true, force: true })
  })

  it('loads the folder and runs a flow to SUCCESS with the task outputs', async () => {
    expect(kite.flows.map((saved) => `${saved.flow.namespace}/${saved.flow.id}`)).toEqual([
      'demo/greet',
    ])
    const execution = await kite.run('demo', 'greet', { inputs: { name: 'Ada' } })
    expect(execution.state.current).toBe('SUCCESS')
    const hello = execution.taskRun('hello')
    expect(hello.state.current).toBe('SUCCESS')
    expect(JSON.stringify(hello.outputs)).toContain('Ada')
  })

  it("fails with the task's error when the plugin refuses its input", async () => {
    const execution = await kite.run('demo', 'greet', { inputs: { name: '' } })
    expect(execution.state.current).toBe('FAILED')
    expect(execution.taskRun('hello').error).toMatch(/name/)
    expect(execution.logs.some((entry) => entry.level === 'error')).toBe(true)
  })

  it('names the task runs there are when asked for a missing one', async () => {
    const execution = await kite.run('demo', 'greet', { inputs: { name: 'Bob' } })
    expect(() => execution.taskRun('nope')).toThrow(/no task run of task "nope"; it has: hello/)
  })

  it('refuses a flows folder that does not exist, naming it', async () => {
    await expect(
      createFlowTester({ plugins: [GREETING], flows: 'missing', cwd: scratch }),
    ).rejects.toMatchObject({ code: 'FLOW_INVALID', message: expect.stringMatching(/missing/) })
  })

  it('refuses an invalid flow, naming the file', async () => {
    const bad = join(scratch, 'bad')
    await mkdir(bad)
    await writeFile(join(bad, 'broken.yaml'), 'id: [\nnamespace: : :\n')
    await expect(
      createFlowTester({ plugins: [GREETING], flows: 'bad', cwd: scratch }),
    ).rejects.toMatchObject({
      code: 'FLOW_INVALID',
      issues: expect.arrayContaining([
        expect.objectContaining({ path: expect.stringMatching(/broken\.yaml/) }),
      ]),
    })
  })

  it('refuses a plugin directory that is not a built plugin', async () => {
    await expect(
      createFlowTester({ plugins: [scratch], flows: 'flows', cwd: scratch }),
    ).rejects.toThrow(/plugin directory .*package\.json/)
  })

  // The built package: a second entry splits the bundle into chunks, and a wrong module order
  // there once broke `import '@kite/runtime'` (zod-openapi must extend zod before any schema).
  it('is exported as @kite/runtime/testing next to a working @kite/runtime (needs the build)', async () => {
    const built = await import('@kite/runtime/testing')
    expect(typeof built.createFlowTester).toBe('function')
    const index = await import('@kite/runtime')
    expect(typeof index.createServer).toBe('function')
  })
})
