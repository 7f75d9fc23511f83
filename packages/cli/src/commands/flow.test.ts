import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { helloFlow } from '../../test/fixtures/hello-flow.js'
import { kite, REPO_ROOT, scratchDir, startKite } from '../../test/kite.js'

const GREETING = join(REPO_ROOT, 'examples', 'plugins', 'greeting')
const scratch = scratchDir('kite-cli-flow-')
const LOCAL_HINT =
  'hint: without --server the flow is checked against the --plugin directories alone'
const flowFile = scratch.file
/** `kite flow COMMAND FILE --plugin <the example greeting plugin> ...more`. */
const withGreeting = (command: string, file: string, ...more: string[]) =>
  kite('flow', command, file, '--plugin', GREETING, ...more)

const HELLO = helloFlow(
  'demo',
  `  - id: loop
    type: kite.flow.ForEach
    values: [Ada, Grace]
    tasks:
      - id: each
        type: acme.greeting.Hello
        name: "{{ taskrun.value }}"
`,
)

describe('kite flow validate', { timeout: 120_000 }, () => {
  it('prints the version each task resolved to', async () => {
    const result = await withGreeting('validate', await flowFile('hello.yaml', HELLO))
    expect(result.code).toBe(0)
    expect(result.out).toContain('flow demo/hello is valid (2 plugin tasks)')
    expect(result.out).toContain(
      'greet: acme.greeting.Hello → @acme/kite-plugin-greeting@1.0.0 (version "1.0.0", decided by task)',
    )
  })

  it('lists every problem with its path and line, exit code 2', async () => {
    const file = await flowFile(
      'bad.yaml',
      'id: bad\nnamespace: demo\ntasks:\n  - id: a\n    type: acme.greeting.Hello\n    name: 3\n  - id: a\n    type: acme.greeting.Nope\n',
    )
    const result = await withGreeting('validate', file)
    expect(result.code).toBe(2)
    expect(result.err).toContain('bad.yaml: flow "demo/bad" is invalid')
    expect(result.err).toContain('bad.yaml:7:9: tasks[1].id: duplicate task id "a"')
    const unknownType = await withGreeting(
      'validate',
      await flowFile(
        'unknown.yaml',
        'id: u\nnamespace: demo\ntasks:\n  - id: a\n    type: acme.greeting.Nope\n',
      ),
    )
    expect(unknownType.code).toBe(2)
    expect(unknownType.err).toContain(
      'unknown.yaml:5:11: tasks[0]: task "a": unknown type "acme.greeting.Nope"',
    )
    const invalidYaml = await kite('flow', 'validate', await flowFile('yaml.yaml', 'id: [\n'))
    expect(invalidYaml.code).toBe(2)
    expect(invalidYaml.err).toContain('invalid YAML')
    for (const [name, yaml, expected] of [
      [
        'keys.yaml',
        'id: k\nnamespace: demo\ntaks: []\ntasks:\n  - id: a\n    type: acme.greeting.Hello\n',
        'keys.yaml:3:1: taks: unknown key "taks" (did you mean "tasks"?)',
      ],
      [
        'types.yaml',
        'id: t\nnamespace: demo\ntasks:\n  - id: a\n    type: acme.greeting.Hello\n    name: [1]\n',
        'name: expected string, got array',
      ],
      [
        'syntax.yaml',
        'id: s\nnamespace: demo\ntasks:\n  - id: a\n    type: acme.greeting.Hello\n    name: "{{ oops "\n',
        'name: syntax error',
      ],
    ] as const) {
      const result = await withGreeting('validate', await flowFile(name, yaml))
      expect(result.code, name).toBe(2)
      expect(result.err, name).toContain(expected)
    }
    const missing = await kite('flow', 'validate', join(scratch.path, 'nope.yaml'))
    expect(missing).toMatchObject({ code: 2, err: expect.stringContaining('cannot read') })
  })
})

describe('kite flow validate: typed expressions', () => {
  it('prints FILE:LINE:COL for each of three problems in one flow', async () => {
    const file = await flowFile(
      'typed.yaml',
      [
        'id: typed',
        'namespace: demo',
        'inputs:',
        '  - id: who',
        '    type: STRING',
        'variables:',
        '  greeting: Hi',
        'tasks:',
        '  - id: greet',
        '    type: acme.greeting.Hello',
        '    name: "{{ inputs.whoo }}"',
        '  - id: again',
        '    type: acme.greeting.Hello',
        '    name: "{{ outputs.greet.mesage }} {{ vars.greting }}"',
        '',
      ].join('\n'),
    )
    const result = await withGreeting('validate', file)
    expect(result.code).toBe(2)
    expect(result.err).toContain('typed.yaml: flow "demo/typed" is invalid: 3 problems')
    const lines = result.err.split('\n').filter((line) => /typed\.yaml:\d+:\d+: /.test(line))
    expect(lines).toHaveLength(3)
    expect(lines[0]).toContain(
      'typed.yaml:11:15: tasks[0].name: task "greet": {{ inputs.whoo }}: unknown input "whoo"; did you mean "who"?',
    )
    expect(lines[1]).toContain(
      'typed.yaml:14:15: tasks[1].name: task "again": {{ outputs.greet.mesage }}',
    )
    expect(lines[1]).toContain('did you mean "message"?')
    expect(lines[2]).toContain('typed.yaml:14:42: tasks[1].name: task "again": {{ vars.greting }}')
    expect(lines[2]).toContain('did you mean "greeting"?')
  })
})

describe('kite flow run', { timeout: 120_000 }, () => {
  it('stops quietly when its reader goes away (`kite flow run f.yml | head -1`)', async () => {
    const file = await flowFile('piped.yaml', HELLO)
    const run = startKite(['flow', 'run', file, '--plugin', GREETING], /^execution /m)
    await run.ready
    run.child.stdout?.destroy()
    expect(await run.exited).toBe(0)
    expect(run.output().err).not.toMatch(/EPIPE|Unhandled 'error' event/)
  })

  it('runs the flow and prints task runs, states and outputs (exit 0 on SUCCESS)', async () => {
    const result = await withGreeting(
      'run',
      await flowFile('hello.yaml', HELLO),
      '--input',
      'who=Ada',
    )
    expect(result.err).toBe('')
    expect(result.code).toBe(0)
    expect(result.out).toMatch(/execution \w+ of demo\/hello \(revision 1\)/)
    expect(result.out).toContain('[greet] info: Hello, Ada!')
    expect(result.out).toMatch(/✓ greet\s+acme\.greeting\.Hello@1\.0\.0\s+SUCCESS/)
    expect(result.out).toContain('outputs: {"message":"Hello, Ada!"}')
    expect(result.out).toMatch(/✓ {3}each \["Grace"\]/)
    expect(result.out).toContain('flow outputs: {"message":"Hello, Ada!"}')
    expect(result.out).toMatch(/✓ SUCCESS in \d+ ms/)
  })

  it('exits 1 when the execution fails, printing why', async () => {
    const file = await flowFile(
      'fails.yaml',
      'id: fails\nnamespace: demo\nvariables:\n  people: {}\ntasks:\n  - id: greet\n    type: acme.greeting.Hello\n    name: "{{ vars.people.nobody }}"\n',
    )
    const result = await withGreeting('run', file, '--no-logs')
    expect(result.code).toBe(1)
    expect(result.out).toMatch(/✗ greet\s+acme\.greeting\.Hello@1\.0\.0\s+FAILED/)
    expect(result.out).toContain('error: property "name": undefined variable "vars.people.nobody"')
    expect(result.out).toContain('✗ FAILED')
  })

  it('exits 2 for invalid inputs and invalid flows', async () => {
    const file = await flowFile('hello.yaml', HELLO)
    const unknown = await withGreeting('run', file, '--input', 'whom=Ada')
    expect(unknown.code).toBe(2)
    expect(unknown.err).toContain('inputs.whom: unknown input "whom"')
    const malformed = await withGreeting('run', file, '--input', 'oops')
    expect(malformed).toMatchObject({ code: 2, err: expect.stringContaining('must be key=value') })
    const noPlugin = await kite('flow', 'run', file)
    expect(noPlugin.code).toBe(2)
    expect(noPlugin.err).toContain('unknown type "acme.greeting.Hello"')
    // Without --plugin nothing is installed here, first-party plugins included: say so.
    expect(noPlugin.err).toContain(LOCAL_HINT)
    const noPluginCheck = await kite('flow', 'validate', file)
    expect(noPluginCheck.code).toBe(2)
    expect(noPluginCheck.err).toContain(LOCAL_HINT)
    expect(
      (
        await withGreeting(
          'validate',
          await flowFile(
            'nope.yaml',
            'id: n\nnamespace: d\ntasks:\n  - id: a\n    type: acme.greeting.Nope\n',
          ),
        )
      ).err,
    ).not.toContain(LOCAL_HINT)
    const badPlugin = await kite('flow', 'run', file, '--plugin', scratch.path)
    expect(badPlugin.code).toBe(2)
    expect(badPlugin.err).toContain('cannot read package.json')
  })

  it('keeps state in --data when asked', async () => {
    const data = join(scratch.path, 'data')
    const run = async () =>
      withGreeting('run', await flowFile('hello.yaml', HELLO), '--data', data, '--no-logs')
    const result = await run()
    expect(result.code).toBe(0)
    const again = await run()
    expect(again.out).toContain('(revision 1)')
  })
})
