import { readFile, writeFile } from 'node:fs/promises'
import { createServer as createNetServer } from 'node:net'
import { join } from 'node:path'
import { createServer, definePluginVersion, type KiteServer } from '@kite/runtime'
import { definePlugin, defineTask, z } from '@kite/sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { helloFlow } from '../../test/fixtures/hello-flow.js'
import { kite, REPO_ROOT, runKite, scratchDir } from '../../test/kite.js'

// `kite flow save|validate|run|schema` against a real runtime server with real plugin directories.
const GREETING = join(REPO_ROOT, 'examples', 'plugins', 'greeting')
/** `cli.renamed.Hello` keeps its old id `cli.renamed.Greet` as an alias. */
const renamed = definePluginVersion({
  name: '@test/kite-plugin-cli-renamed',
  version: '2.0.0',
  plugin: definePlugin({
    group: 'cli.renamed',
    title: 'Renamed',
    tasks: [
      defineTask({
        name: 'Hello',
        aliases: ['cli.renamed.Greet'],
        properties: z.object({ who: z.string() }),
        run: () => {},
      }),
    ],
  }),
})
const scratch = scratchDir('kite-cli-flow-server-')
let server: KiteServer
beforeAll(async () => {
  server = await createServer({
    dataDir: join(scratch.path, 'data'),
    port: 0,
    pluginDirs: [join(REPO_ROOT, 'packages', 'plugins', 'core'), GREETING, join(GREETING, 'v2')],
    plugins: [renamed],
  })
})
afterAll(() => server?.close())

const flowFile = scratch.file

const HELLO = helloFlow('cli.server')

async function expectUp() {
  expect((await fetch(`${server.url}/api/v1/health`)).status).toBe(200)
}

describe('kite flow on a server', { timeout: 180_000 }, () => {
  it('saves a flow, and a new revision when it exists', async () => {
    const file = await flowFile('hello.yaml', HELLO)
    const first = await kite('flow', 'save', file, '--server', server.url)
    expect(first.err).toBe('')
    expect(first.code).toBe(0)
    expect(first.out).toContain(`saved flow cli.server/hello revision 1 on ${server.url}`)
    expect(first.out).toContain(
      'greet: acme.greeting.Hello → @acme/kite-plugin-greeting@1.0.0 (version "1.0.0", decided by task)',
    )
    // An unchanged source keeps its revision; a changed one is the next.
    await writeFile(
      file,
      HELLO.replace('namespace: cli.server', 'namespace: cli.server\ndescription: changed'),
    )
    const second = await runKite(['flow', 'save', file], { env: { KITE_SERVER: server.url } })
    expect(second.code).toBe(0)
    expect(second.out).toContain('saved flow cli.server/hello revision 2')
  })

  it('prints a warning as FILE:LINE:COL: warning: when a flow uses an old type id', async () => {
    const file = await flowFile(
      'alias.yaml',
      'id: alias\nnamespace: cli.server\ntasks:\n  - id: hi\n    type: cli.renamed.Greet\n    who: Ada\n',
    )
    const warning = `alias.yaml:5:11: warning: tasks[0].type: task "hi": \`cli.renamed.Greet\` is an alias of \`cli.renamed.Hello\` since 2.0.0; rename it`
    for (const command of ['validate', 'save']) {
      const result = await kite('flow', command, file, '--server', server.url)
      expect(result.code).toBe(0)
      expect(result.err.trim().split('\n')).toEqual([expect.stringContaining(warning)])
    }
    await expectUp()
  })

  it('validates on the server, every problem as FILE:LINE:COL', async () => {
    const good = await kite(
      'flow',
      'validate',
      await flowFile('good.yaml', HELLO),
      '--server',
      server.url,
    )
    expect(good.code).toBe(0)
    expect(good.out).toContain(`flow cli.server/hello is valid on ${server.url} (1 plugin task)`)

    const bad = await flowFile(
      'bad.yaml',
      [
        'id: bad',
        'namespace: cli.server',
        'tasks:',
        '  - id: a',
        '    type: acme.greeting.Hello',
        '    version: "2.0.0"',
        '    name: Ada',
        '  - id: b',
        '    type: acme.greeting.Nope',
        '  - id: c',
        '    type: kite.core.log.Log',
        '    message: "{{ inputs.whoo }}"',
        '',
      ].join('\n'),
    )
    const result = await kite('flow', 'validate', bad, '--server', server.url)
    expect(result.code).toBe(2)
    expect(result.err).toContain('bad.yaml: validate the flow: flow "cli.server/bad" is invalid')
    const located = result.err.split('\n').filter((line) => /bad\.yaml:\d+:\d+: /.test(line))
    expect(located).toHaveLength(3)
    expect(result.err).toContain('3 problems')
    expect(result.err).toContain('bad.yaml:7:5: tasks[0].name: ')
    expect(result.err).toContain('name: unknown property')
    expect(result.err).toContain(
      'bad.yaml:9:11: tasks[1]: task "b": unknown type "acme.greeting.Nope"',
    )
    expect(result.err).toContain('bad.yaml:12:18: tasks[2].message: ')
    expect(result.err).toContain('unknown input "whoo"')
    await expectUp()
  })

  it('answers garbage with a clear error and keeps the server up', async () => {
    const garbage = await flowFile('garbage.yaml', 'id: [unclosed\n  namespace: "x\n\u0000')
    const validate = await kite('flow', 'validate', garbage, '--server', server.url)
    expect(validate.code).toBe(2)
    expect(validate.err).toMatch(/garbage\.yaml/)
    const save = await kite('flow', 'save', garbage, '--server', server.url)
    expect(save.code).toBe(2)
    expect(save.err).toContain('garbage.yaml')
    const missing = await kite(
      'flow',
      'save',
      join(scratch.path, 'nope.yaml'),
      '--server',
      server.url,
    )
    expect(missing.code).toBe(2)
    expect(missing.err).toContain('cannot read')
    const mixed = await kite(
      'flow',
      'validate',
      garbage,
      '--server',
      server.url,
      '--plugin',
      GREETING,
    )
    expect(mixed.code).toBe(2)
    expect(mixed.err).toContain('--plugin applies to a local run')
    const badUrl = await kite('flow', 'save', garbage, '--server', 'ftp://x')
    expect(badUrl.code).not.toBe(0)
    expect(badUrl.err).toContain('expected an http(s) URL')
    await expectUp()
  })

  it('says so when the server cannot be reached', async () => {
    const port = await freePort()
    const result = await kite(
      'flow',
      'run',
      await flowFile('down.yaml', HELLO),
      '--server',
      `http://127.0.0.1:${port}`,
    )
    expect(result.code).toBe(1)
    expect(result.err).toContain(`cannot reach the runtime at http://127.0.0.1:${port}`)
  })

  it('runs on the server, prints task runs and outputs, exit code by final state', async () => {
    const file = await flowFile('run.yaml', HELLO)
    const result = await kite('flow', 'run', file, '--server', server.url, '--input', 'who=Ada')
    expect(result.err).toBe('')
    expect(result.code).toBe(0)
    expect(result.out).toMatch(/^execution \S+ of cli\.server\/hello \(revision \d+\) on /)
    expect(result.out).toMatch(/✓ greet\s+acme\.greeting\.Hello@1\.0\.0\s+SUCCESS/)
    expect(result.out).toContain('flow outputs: {"message":"Hello, Ada!"}')
    expect(result.out).toMatch(/✓ SUCCESS/)

    const failing = await flowFile(
      'fail.yaml',
      'id: failing\nnamespace: cli.server\ntasks:\n  - id: stop\n    type: kite.core.execution.Fail\n    errorMessage: stopped on purpose\n',
    )
    const failed = await kite('flow', 'run', failing, '--server', server.url)
    expect(failed.code).toBe(1)
    expect(failed.out).toContain('stopped on purpose')
    expect(failed.out).toMatch(/✗ FAILED/)

    const badInput = await kite('flow', 'run', file, '--server', server.url, '--input', 'nokey')
    expect(badInput.code).toBe(2)
    await expectUp()
  })

  it('uploads --input f=@path files (FILE inputs) to the server, and reads them in a local run', async () => {
    const flow = await flowFile(
      'upload.yaml',
      `id: upload
namespace: cli.server
inputs:
  - id: data
    type: FILE
  - id: who
    type: STRING
tasks:
  - id: say
    type: kite.core.log.Log
    message: "{{ inputs.who }}"
outputs:
  - id: uri
    value: "{{ inputs.data }}"
  - id: who
    value: "{{ inputs.who }}"
`,
    )
    const bytes = Buffer.from(Array.from({ length: 2048 }, (_, index) => (index * 13) % 256))
    await writeFile(join(scratch.path, 'payload.bin'), bytes)
    await writeFile(join(scratch.path, 'who.txt'), 'Grace')
    const inputs = [
      '--input',
      `data=@${join(scratch.path, 'payload.bin')}`,
      '--input',
      `who=@${join(scratch.path, 'who.txt')}`,
    ]
    const remote = await kite('flow', 'run', flow, '--server', server.url, ...inputs)
    expect(remote.err).toBe('')
    expect(remote.code).toBe(0)
    const id = /^execution (\S+) of cli\.server\/upload/.exec(remote.out)?.[1]
    const execution = (await (await fetch(`${server.url}/api/v1/executions/${id}`)).json()) as {
      outputs: { who: string }
      inputs: { data: string }
    }
    expect(execution.outputs.who).toBe('Grace')
    expect(execution.inputs.data).toMatch(/^kite:\/\/\/cli\.server\/upload\/.+-payload\.bin$/)
    const file = await fetch(
      `${server.url}/api/v1/executions/${id}/file?uri=${encodeURIComponent(execution.inputs.data)}`,
    )
    expect(Buffer.from(await file.arrayBuffer())).toEqual(bytes)

    const local = await kite(
      'flow',
      'run',
      flow,
      '--plugin',
      join(REPO_ROOT, 'packages', 'plugins', 'core'),
      ...inputs,
    )
    expect(local.err).toBe('')
    expect(local.code).toBe(0)
    expect(local.out).toMatch(
      /flow outputs: \{"uri":"kite:\/\/\/cli\.server\/upload\/[^"]+-payload\.bin","who":"Grace"\}/,
    )
    const missing = await kite(
      'flow',
      'run',
      flow,
      '--server',
      server.url,
      '--input',
      'data=@/no/such/file',
    )
    expect(missing.code).toBe(2)
    expect(missing.err).toContain('cannot read /no/such/file')
    await expectUp()
  })

  it('writes the flow JSON Schema of the server, or of --plugin directories', async () => {
    const output = join(scratch.path, 'flow.schema.json')
    const written = await kite('flow', 'schema', '--server', server.url, '-o', output)
    expect(written.code).toBe(0)
    expect(written.out).toContain('wrote the flow JSON Schema')
    // The file is the route's answer (which the runtime's tests validate flows with).
    const route = await (await fetch(`${server.url}/api/v1/plugins/schemas/flow`)).json()
    expect(JSON.parse(await readFile(output, 'utf8'))).toEqual(route)
    expect(JSON.stringify(route)).toContain('acme.greeting.Hello 2.0.0')

    const local = await kite('flow', 'schema', '--plugin', GREETING)
    expect(local.code).toBe(0)
    const schema = JSON.parse(local.out)
    expect(JSON.stringify(schema)).toContain('acme.greeting.Hello 1.0.0')
    expect(JSON.stringify(schema)).not.toContain('acme.greeting.Hello 2.0.0')

    const both = await kite('flow', 'schema', '--server', server.url, '--plugin', GREETING)
    expect(both.code).toBe(2)
    const unwritable = await kite(
      'flow',
      'schema',
      '--server',
      server.url,
      '-o',
      join(scratch.path, 'no', 'such', 'x.json'),
    )
    expect(unwritable.code).toBe(1)
    expect(unwritable.err).toContain('cannot write')
  })
})

/** A port nothing listens on: bound, then released. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      const port = typeof address === 'object' && address ? address.port : 0
      probe.close(() => resolve(port))
    })
  })
}
