import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { defineTask, z } from '@kite/sdk'
import { beforeAll, describe, expect, it } from 'vitest'
import { runKite } from '../../test/kite.js'
import { taskPlugin, useRuntimeServer } from '../../test/runtime-server.js'

const say = defineTask({
  name: 'Say',
  title: 'Say',
  description: 'Logs its message; fails on "boom".',
  properties: z.object({ message: z.string() }),
  outputs: z.object({ said: z.string() }),
  run(props, ctx) {
    ctx.logger.info(`saying ${props.message}`)
    if (props.message === 'boom') throw new Error('it went boom')
    return { said: props.message }
  },
})

const kiteServer = useRuntimeServer('kite-cli-executions-', {
  plugins: [taskPlugin('@acme/kite-plugin-exec', 'acme.exec', [say])],
})
let ok: string
let failed: string
beforeAll(async () => {
  const { engine } = kiteServer.server.runtime
  for (const [id, message] of [
    ['fine', 'hello'],
    ['broken', 'boom'],
  ]) {
    await engine.saveFlow(
      `id: ${id}\nnamespace: cli.exec\ntasks:\n  - id: say\n    type: acme.exec.Say\n    message: ${message}\n`,
    )
  }
  ok = (
    await engine.waitFor(
      (
        await engine.start({ namespace: 'cli.exec', flowId: 'fine', labels: { outcome: 'fine' } })
      ).id,
    )
  ).id
  failed = (
    await engine.waitFor((await engine.start({ namespace: 'cli.exec', flowId: 'broken' })).id)
  ).id
})

const kite = (...args: string[]) =>
  runKite(['executions', ...args], { env: { KITE_SERVER: kiteServer.server.url } })

describe('kite executions', { timeout: 120_000 }, () => {
  it('lists executions, newest first, with filters', async () => {
    const all = await kite('list')
    expect(all.code).toBe(0)
    expect(all.out.indexOf(failed)).toBeLessThan(all.out.indexOf(ok))
    expect(all.out).toMatch(/page 1, 2 of 2/)
    const onlyFailed = await kite('list', '--state', 'FAILED', '--json')
    const page = JSON.parse(onlyFailed.out) as { results: { id: string }[] }
    expect(page.results.map((item) => item.id)).toEqual([failed])
    const labelled = await kite('list', '--label', 'outcome:fine', '--json')
    expect(JSON.parse(labelled.out).results.map((item: { id: string }) => item.id)).toEqual([ok])
    const none = await kite('list', '--label', 'outcome:other')
    expect(none.out).toBe('no executions\n')
    const noKey = await kite('list', '--label', 'outcome')
    expect(noKey.code).toBe(2)
    expect(noKey.err).toContain('--label must be key:value, got "outcome"')
    const bad = await kite('list', '--state', 'DONE')
    expect(bad.code).toBe(1)
    expect(bad.err).toContain('unknown state "DONE"')
  })

  it('shows one execution with its task runs, and its logs', async () => {
    const shown = await kite('show', ok)
    expect(shown.code).toBe(0)
    expect(shown.out).toContain(`execution ${ok} of cli.exec/fine`)
    expect(shown.out).toMatch(/say\s+acme\.exec\.Say@1\.0\.0\s+SUCCESS/)
    const logs = await kite('logs', failed)
    expect(logs.out).toMatch(/\[say\] info: saying boom/)
    const missing = await kite('show', 'nope')
    expect(missing.code).toBe(1)
    expect(missing.err).toBe('kite: get execution nope: execution "nope" not found\n')
  })

  it('follows an execution to its end; the exit code says how it ended', async () => {
    const fine = await kite('follow', ok)
    expect(fine.code).toBe(0)
    expect(fine.out).toContain('saying hello')
    expect(fine.out).toMatch(/state: SUCCESS\n$/)
    const broken = await kite('follow', failed)
    expect(broken.code).toBe(1)
    expect(broken.out).toMatch(/state: FAILED\n$/)
  })

  it('restarts a failed execution and refuses to restart a successful one', async () => {
    const restarted = await kite('restart', failed)
    expect(restarted.code).toBe(0)
    expect(restarted.out).toMatch(new RegExp(`^restarted ${failed}: (RUNNING|FAILED)\n$`))
    const again = await kiteServer.server.runtime.engine.waitFor(failed)
    expect(again.state.current).toBe('FAILED')
    expect(again.taskRunList[0]?.attempts).toHaveLength(2)
    const refused = await kite('restart', ok)
    expect(refused.code).toBe(1)
    expect(refused.err).toContain('cannot be restarted: it is SUCCESS')
    const missing = await kite('restart', 'nope')
    expect(missing.code).toBe(1)
    expect(missing.err).toContain('execution "nope" not found')
  })

  it('resumes a paused execution with its onResume inputs, and kills one', async () => {
    const { engine } = kiteServer.server.runtime
    await engine.saveFlow(`id: gate
namespace: cli.exec
tasks:
  - id: wait
    type: kite.flow.Pause
    onResume:
      - id: approved
        type: BOOLEAN
  - id: say
    type: acme.exec.Say
    message: "approved={{ outputs.wait.onResume.approved }}"
`)
    const start = async () =>
      engine.waitFor((await engine.start({ namespace: 'cli.exec', flowId: 'gate' })).id, {
        untilPaused: true,
      })
    const paused = await start()
    const wrong = await kite('resume', paused.id, '--input', 'approved=maybe')
    expect(wrong.code).toBe(1)
    expect(wrong.err).toContain('input "approved" (BOOLEAN)')
    const malformed = await kite('resume', paused.id, '--input', 'approved')
    expect(malformed.code).toBe(2)
    expect(malformed.err).toContain('--input must be key=value')
    const resumed = await kite('resume', paused.id, '--input', 'approved=true')
    expect(resumed.code).toBe(0)
    expect(resumed.out).toContain(`resumed ${paused.id}`)
    const done = await engine.waitFor(paused.id)
    expect(done.state.current).toBe('SUCCESS')
    expect(done.taskRunList.find((run) => run.taskId === 'say')?.outputs).toEqual({
      said: 'approved=true',
    })

    const other = await start()
    const killed = await kite('kill', other.id)
    expect(killed.code).toBe(0)
    expect(killed.out).toMatch(new RegExp(`^killing ${other.id}: (KILLING|KILLED)\n$`))
    expect((await engine.waitFor(other.id)).state.current).toBe('KILLED')
    const twice = await kite('kill', other.id)
    expect(twice.code).toBe(1)
    expect(twice.err).toContain('it is KILLED')
  })

  it('replays an ended execution from a task run as a new execution', async () => {
    const { engine } = kiteServer.server.runtime
    const original = await engine.getExecution(ok)
    const say = original?.taskRunList.find((run) => run.taskId === 'say')
    const replayed = await kite('replay', ok, '--task-run', say!.id, '--keep-plugins')
    expect(replayed.code).toBe(0)
    const [first, second] = replayed.out.split('\n')
    const id = /^replay (\S+) of /.exec(first ?? '')?.[1]
    expect(id).toBeDefined()
    expect(id).not.toBe(ok)
    expect(first).toMatch(new RegExp(`^replay ${id} of ${ok}: (CREATED|RUNNING|SUCCESS)$`))
    expect(second).toBe('  @acme/kite-plugin-exec@1.0.0 (say) kept')
    const done = await engine.waitFor(id!)
    expect(done.state.current).toBe('SUCCESS')
    expect(done.replayOf).toEqual({ executionId: ok, taskRunId: say!.id, keepPlugins: true })

    const json = await kite('replay', ok, '--json')
    expect(json.code).toBe(0)
    expect(JSON.parse(json.out).replayOf).toEqual({ executionId: ok, keepPlugins: false })

    const unknown = await kite('replay', ok, '--task-run', 'nope')
    expect(unknown.code).toBe(1)
    expect(unknown.err).toContain(`execution ${ok} has no task run "nope"`)
    const badRevision = await kite('replay', ok, '--revision', 'two')
    expect(badRevision.code).toBe(2)
    expect(badRevision.err).toContain('--revision must be an integer, got "two"')
  })

  it('starts an execution of a saved flow, uploading a FILE input with --input f=@path', async () => {
    await kiteServer.server.runtime.engine.saveFlow(
      'id: upload\nnamespace: cli.upload\ninputs:\n  - id: data\n    type: FILE\n  - id: note\n    type: STRING\ntasks:\n  - id: say\n    type: acme.exec.Say\n    message: "{{ inputs.note }}"\n',
    )
    const file = join(kiteServer.dir, 'payload.bin')
    const bytes = new Uint8Array(3000).map((_, index) => (index * 11) % 256)
    await writeFile(file, bytes)
    const startUpload = (...args: string[]) => kite('start', 'cli.upload', 'upload', ...args)
    const started = await startUpload(
      '--input',
      `data=@${file}`,
      '--input',
      'note=uploaded',
      '--label',
      'via:cli',
      '--wait',
      '--json',
    )
    expect(started.err).toBe('')
    expect(started.code).toBe(0)
    const execution = JSON.parse(started.out)
    expect(execution.state.current).toBe('SUCCESS')
    expect(execution.labels).toMatchObject({ via: 'cli' })
    expect(execution.taskRunList[0].outputs).toEqual({ said: 'uploaded' })
    expect(execution.inputs.data).toMatch(
      /^kite:\/\/\/cli\.upload\/upload\/executions\/.+-payload\.bin$/,
    )
    const stored = await kiteServer.server.runtime.storage.get(execution.inputs.data)
    expect(new Uint8Array(stored)).toEqual(bytes)

    const text = await startUpload('--input', `data=@${file}`, '--input', 'note=x')
    expect(text.code).toBe(0)
    expect(text.out).toMatch(/^execution \S+ of cli\.upload\/upload \(revision 1\): CREATED\n$/)

    const missing = await startUpload('--input', `data=@${join(kiteServer.dir, 'nope.bin')}`)
    expect(missing.code).toBe(2)
    expect(missing.err).toContain(`cannot read ${join(kiteServer.dir, 'nope.bin')}`)
    const invalid = await startUpload('--input', `data=@${file}`)
    expect(invalid.code).toBe(1)
    expect(invalid.err).toContain('input "note" is required')
    const unknownFlow = await kite('start', 'cli.upload', 'nope')
    expect(unknownFlow.code).toBe(1)
    expect(unknownFlow.err).toMatch(/nope/)
  })
})
