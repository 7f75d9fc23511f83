import { spawn } from 'node:child_process'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createRuntime } from '@kite/runtime'
import sdkPackage from '@kite/sdk/package.json' with { type: 'json' }
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN, cleanEnv, MONOREPO_DIR, requireBuild, run } from '../test/helpers.js'

// Under the monorepo's node_modules, so @kite/sdk, vitest and typescript resolve from it and the
// generated package builds and tests without installing anything.
const root = join(MONOREPO_DIR, 'node_modules', '.cache', `create-kite-plugin-${process.pid}`)

beforeAll(async () => {
  requireBuild()
  await mkdir(root, { recursive: true })
})

afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

async function generate(args: string[]) {
  const created = await run('node', [BIN, ...args, '--yes'], { cwd: root, env: cleanEnv() })
  expect(created.code, created.stderr).toBe(0)
  return join(root, args[0] as string)
}

async function npmRun(dir: string, script: string) {
  const result = await run('npm', ['run', script], { cwd: dir, env: cleanEnv(), timeout: 120_000 })
  expect(result.code, `npm run ${script}\n${result.stdout}\n${result.stderr}`).toBe(0)
  return result
}

async function manifestOf(dir: string) {
  return JSON.parse(await readFile(join(dir, 'dist', 'kite-plugin.json'), 'utf8'))
}

describe('a generated package', { timeout: 180_000 }, () => {
  it('with a task, a trigger and a condition builds, tests and typechecks', async () => {
    const dir = await generate([
      'full',
      '--group',
      'acme.full',
      '--registry',
      'http://127.0.0.1:4873',
    ])
    const test = await npmRun(dir, 'test')
    expect(test.stdout).toMatch(/Test Files\s+5 passed \(5\)/)
    expect(test.stdout).toMatch(/Tests\s+7 passed \(7\)/)
    await npmRun(dir, 'typecheck')
    const build = await npmRun(dir, 'build')
    expect(build.stdout).toContain('✓ @acme/kite-plugin-full@1.0.0 (acme.full): 3 types')

    const manifest = await manifestOf(dir)
    expect(manifest).toMatchObject({
      name: '@acme/kite-plugin-full',
      version: '1.0.0',
      group: 'acme.full',
      sdkRange: `^${sdkPackage.version}`,
      entry: 'dist/index.js',
    })
    expect(manifest.tasks.map((t: { type: string }) => t.type)).toEqual(['acme.full.Hello'])
    expect(manifest.triggers.map((t: { type: string }) => t.type)).toEqual(['acme.full.NewItems'])
    expect(manifest.conditions.map((t: { type: string }) => t.type)).toEqual(['acme.full.Contains'])
    expect(manifest.tasks[0].properties.properties.name).toMatchObject({ default: 'world' })

    const readme = await readFile(join(dir, 'README.md'), 'utf8')
    expect(readme).toContain('### Hello (`acme.full.Hello`)')
    expect(readme).toContain('### New items (`acme.full.NewItems`)')
  })

  it('runs in a runtime that loads the package directory, as --plugin . will', async () => {
    const dir = join(root, 'full')
    const dataDir = join(root, 'runtime-data')
    const runtime = await createRuntime({ dataDir, pluginDirs: [dir], env: {} })
    try {
      await runtime.engine.saveFlow(
        'id: dev\nnamespace: acme.dev\ntasks:\n  - id: hello\n    type: acme.full.Hello\n    version: "1.0.0"\n    name: Ada\n',
      )
      const started = await runtime.engine.start({ namespace: 'acme.dev', flowId: 'dev' })
      const execution = await runtime.engine.waitFor(started.id)
      expect(execution.state.current).toBe('SUCCESS')
      expect(execution.taskRunList[0]?.outputs).toEqual({ message: 'Hello, Ada!' })
    } finally {
      await runtime.close()
    }
  })

  it('rebuilds on every change with npm run dev', async () => {
    const dir = join(root, 'full')
    const dev = spawn('npm', ['run', 'dev'], { cwd: dir, env: cleanEnv(), detached: true })
    let output = ''
    dev.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    const waitFor = async (check: () => Promise<boolean> | boolean, what: string) => {
      const deadline = Date.now() + 60_000
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`npm run dev: no ${what}\n${output}`)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
    try {
      await waitFor(() => output.includes('watching for changes'), 'watch')
      const source = join(dir, 'src', 'hello.ts')
      await writeFile(source, (await readFile(source, 'utf8')).replace('`Hello, ', '`Howdy, '))
      const bundle = join(dir, 'dist', 'index.js')
      await waitFor(async () => (await readFile(bundle, 'utf8')).includes('Howdy, '), 'rebuild')
    } finally {
      // npm and kite-plugin run in their own process group: end both.
      const exited = new Promise((resolve) => dev.on('close', resolve))
      if (dev.pid) process.kill(-dev.pid, 'SIGTERM')
      await exited
    }
  })

  it('with a task alone, an awkward name and description, does too', async () => {
    const dir = await generate([
      'task-only',
      '--name',
      'kite-plugin-task-only',
      '--task',
      'Delete',
      '--description',
      "Deletes what's given, \\ no undo.",
      '--no-trigger',
      '--no-condition',
    ])
    const test = await npmRun(dir, 'test')
    expect(test.stdout).toMatch(/Test Files\s+3 passed \(3\)/)
    await npmRun(dir, 'typecheck')
    await npmRun(dir, 'build')
    const manifest = await manifestOf(dir)
    expect(manifest).toMatchObject({ name: 'kite-plugin-task-only', group: 'community.task-only' })
    expect(manifest.tasks).toMatchObject([
      { type: 'community.task-only.Delete', description: "Deletes what's given, \\ no undo." },
    ])
    expect(manifest.triggers).toEqual([])
    expect(manifest.conditions).toEqual([])
  })
})
