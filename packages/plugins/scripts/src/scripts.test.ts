import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { invokeTask } from '@kite/sdk/host'
import { createTestContext, runTask } from '@kite/sdk/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nodeScript } from './node-script.js'
import { pythonScript } from './python-script.js'
import { shellCommands, shellScript } from './shell.js'

const hasPython = spawnSync('python3', ['--version']).status === 0
let scratch: string

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'kite-scripts-test-'))
})
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true })
})

/** True while the process exists and is not a zombie. */
async function isAlive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

describe('node.Script', () => {
  it('reads inputs, sets outputs and logs its lines', async () => {
    const { outputs, logs } = await runTask(
      nodeScript,
      {
        inputs: { numbers: '{{ inputs.numbers }}' },
        script: [
          'const total = kite.inputs.numbers.reduce((sum, n) => sum + n, 0)',
          "console.log('total:', total)",
          "console.error('a warning')",
          'kite.setOutputs({ total })',
          `console.log('::kite::' + JSON.stringify({ outputs: { printed: [1, 2] } }))`,
        ].join('\n'),
      },
      { inputs: { numbers: [1, 2, 3] } },
    )
    expect(outputs).toEqual({
      exitCode: 0,
      outputs: { total: 6, printed: [1, 2] },
      outputFiles: {},
    })
    expect(logs).toContainEqual({ level: 'info', message: 'total: 6' })
    expect(logs).toContainEqual({ level: 'warn', message: 'a warning' })
    expect(logs.some((entry) => entry.message.includes('::kite::'))).toBe(false)
  })

  it('runs as an ES module in the working directory, with require', async () => {
    const { outputs, context } = await runTask(nodeScript, {
      script: [
        "import { writeFile } from 'node:fs/promises'",
        "await writeFile('report.json', JSON.stringify({ cwd: process.cwd() }))",
        "const { join } = require('node:path')",
        "kite.setOutputs({ joined: join('a', 'b') })",
      ].join('\n'),
      outputFiles: ['*.json'],
    })
    expect(outputs.outputs).toEqual({ joined: 'a/b' })
    const uri = outputs.outputFiles['report.json'] ?? ''
    expect(JSON.parse(await context.readStorage(uri))).toEqual({ cwd: context.ctx.workingDir })
  })

  it('does not pass the worker environment on', async () => {
    process.env.KITE_TEST_LEAK = 'leaked'
    try {
      const { outputs } = await runTask(nodeScript, {
        script: 'kite.setOutputs({ env: process.env })',
        env: { GREETING: 'hi', COUNT: 3 },
      })
      const env = outputs.outputs.env as Record<string, string>
      expect(env).toMatchObject({ GREETING: 'hi', COUNT: '3' })
      expect(env.KITE_TEST_LEAK).toBeUndefined()
      for (const name of Object.keys(env)) {
        expect(['GREETING', 'COUNT', 'PATH', 'HOME', 'LANG']).toContain(name)
      }
      expect(env.PATH).toBe(process.env.PATH)
    } finally {
      delete process.env.KITE_TEST_LEAK
    }
  })

  it('fails with the exit code and the last lines of stderr', async () => {
    await expect(
      runTask(nodeScript, {
        script: "console.error('first'); console.error('cannot open input.csv'); process.exit(3)",
      }),
    ).rejects.toMatchObject({
      code: 'SCRIPT_FAILED',
      message:
        'node script exited with code 3; last lines of stderr:\nfirst\ncannot open input.csv',
    })
  })

  it('fails on an exception with its stack', async () => {
    await expect(runTask(nodeScript, { script: "throw new Error('boom')" })).rejects.toThrow(
      /node script exited with code 1; last lines of stderr:[\s\S]*Error: boom/,
    )
  })

  it('fails on a malformed output line', async () => {
    await expect(
      runTask(nodeScript, { script: "console.log('::kite::{oops')" }),
    ).rejects.toMatchObject({ code: 'OUTPUT_LINE_INVALID' })
  })
})

describe('python.Script', () => {
  it.runIf(hasPython)('reads inputs and sets outputs', async () => {
    const { outputs, logs } = await runTask(pythonScript, {
      inputs: { text: 'the quick brown fox' },
      script: [
        'import sys',
        'words = len(kite.inputs["text"].split())',
        'print(f"{words} words")',
        'print("careful", file=sys.stderr)',
        'kite.set_outputs({"words": words, "name": __name__})',
      ].join('\n'),
    })
    expect(outputs.outputs).toEqual({ words: 4, name: '__main__' })
    expect(logs).toContainEqual({ level: 'info', message: '4 words' })
    expect(logs).toContainEqual({ level: 'warn', message: 'careful' })
  })

  it.runIf(hasPython)('fails with the exit code and the traceback', async () => {
    await expect(
      runTask(pythonScript, { script: 'raise ValueError("bad row 7")' }),
    ).rejects.toThrow(
      /python script exited with code 1; last lines of stderr:[\s\S]*ValueError: bad row 7/,
    )
  })

  it('explains a worker without python3', async () => {
    await expect(
      runTask(pythonScript, { script: 'print(1)', env: { PATH: join(scratch, 'empty') } }),
    ).rejects.toMatchObject({
      code: 'COMMAND_NOT_FOUND',
      message: expect.stringContaining('python3 was not found on this worker'),
    })
  })
})

describe('shell.Commands', () => {
  it('runs the commands in order, with env, input files and output files', async () => {
    const { outputs, logs, context } = await runTask(shellCommands, {
      commands: ['mkdir -p out', 'printf "stored file" > out/data.txt', 'echo hi > out/skip.log'],
      outputFiles: ['out/*.txt'],
    })
    expect(Object.keys(outputs.outputFiles)).toEqual(['out/data.txt'])
    expect(await context.readStorage(outputs.outputFiles['out/data.txt'] ?? '')).toBe('stored file')
    expect(logs).toEqual([])
    await context.cleanup()
  })

  it('copies stored files in and takes env from expressions', async () => {
    const context = await createTestContext({ inputs: { name: 'Ada' } })
    const stored = await context.ctx.storage.put('data.txt', 'stored file')
    const properties = context.render({
      commands: [
        'echo "hello $NAME"',
        'cat inline.txt copied.txt > out.txt',
        'echo "::kite::{\\"outputs\\":{\\"lines\\":$(wc -l < out.txt)}}"',
      ],
      env: { NAME: '{{ inputs.name }}' },
      inputFiles: { 'inline.txt': 'inline\n', 'nested/copied.txt': stored, 'copied.txt': stored },
      outputFiles: ['out.txt', 'nested/**'],
    })
    const outputs = await invokeTask(shellCommands, properties, context.ctx)
    expect(context.logs).toContainEqual({ level: 'info', message: 'hello Ada' })
    expect(outputs).toMatchObject({ exitCode: 0, outputs: { lines: 1 } })
    const files = outputs.outputFiles as Record<string, string>
    expect(Object.keys(files).sort()).toEqual(['nested/copied.txt', 'out.txt'])
    expect(await context.readStorage(files['out.txt'] ?? '')).toBe('inline\nstored file')
    await context.cleanup()
  })

  it('explains a stored input file that does not exist', async () => {
    await expect(
      runTask(shellCommands, {
        commands: ['true'],
        inputFiles: { 'data.csv': 'kite:///test/test-flow/executions/nope/data.csv' },
      }),
    ).rejects.toMatchObject({
      code: 'INPUT_FILE_MISSING',
      message: expect.stringContaining(
        'inputFiles: cannot copy kite:///test/test-flow/executions/nope/data.csv to "data.csv"',
      ),
    })
  })

  it('stops at the first failing command', async () => {
    await expect(
      runTask(shellCommands, {
        commands: ['echo one', 'ls /definitely/not/here', 'echo never'],
      }),
    ).rejects.toThrow(
      /shell commands exited with code \d+; last lines of stderr:\n.*definitely\/not\/here/,
    )
  })

  it('refuses files outside the working directory', async () => {
    await expect(
      runTask(shellCommands, { commands: ['true'], outputFiles: ['../secrets.txt'] }),
    ).rejects.toMatchObject({ code: 'PATH_INVALID' })
    await expect(
      runTask(shellCommands, { commands: ['true'], inputFiles: { '/etc/evil': 'x' } }),
    ).rejects.toMatchObject({ code: 'PATH_INVALID' })
  })

  it('kills the commands when the task times out', async () => {
    const pidFile = join(scratch, 'sleep.pid')
    const started = Date.now()
    await expect(
      runTask(
        shellCommands,
        { commands: ['echo $$ > "$PID_FILE"', 'exec sleep 30'], env: { PID_FILE: pidFile } },
        { timeout: 'PT1S' },
      ),
    ).rejects.toMatchObject({ code: 'TIMEOUT' })
    const pid = Number(await readFile(pidFile, 'utf8'))
    await expect.poll(() => isAlive(pid), { timeout: 2000 }).toBe(false)
    expect(Date.now() - started).toBeLessThan(3500)
  })

  it('ends its run with ABORTED when the signal aborts, children included', async () => {
    const pidFile = join(scratch, 'child.pid')
    const context = await createTestContext({ type: 'kite.scripts.shell.Commands' })
    const running = invokeTask(
      shellCommands,
      { commands: ['sleep 30 & echo $! > "$PID_FILE"', 'wait'], env: { PID_FILE: pidFile } },
      context.ctx,
    )
    await expect.poll(() => readFile(pidFile, 'utf8').catch(() => '')).not.toBe('')
    context.abort('killed from the UI')
    await expect(running).rejects.toMatchObject({
      code: 'ABORTED',
      message: 'shell commands stopped: killed from the UI',
    })
    const pid = Number(await readFile(pidFile, 'utf8'))
    await expect.poll(() => isAlive(pid), { timeout: 2000 }).toBe(false)
    await context.cleanup()
  })
})

describe('shell.Script', () => {
  it('runs a script and fails on a non-zero exit', async () => {
    const { logs } = await runTask(shellScript, {
      inputFiles: { 'a.txt': 'hello', 'b.txt': 'world!' },
      script: 'for f in *.txt; do\n  echo "$f: $(wc -c < "$f") bytes"\ndone',
    })
    expect(logs.map((entry) => entry.message.replace(/\s+/g, ' '))).toEqual([
      'a.txt: 5 bytes',
      'b.txt: 6 bytes',
    ])
    await expect(runTask(shellScript, { script: 'echo bad >&2\nexit 1' })).rejects.toThrow(
      'shell script exited with code 1; last lines of stderr:\nbad',
    )
  })
})
