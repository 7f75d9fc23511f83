import { beforeAll, describe, expect, it } from 'vitest'
import { runKite } from '../../test/kite.js'
import { useRuntimeServer } from '../../test/runtime-server.js'

const kiteServer = useRuntimeServer('kite-cli-triggers-', { scheduler: { start: false } })

beforeAll(async () => {
  await kiteServer.server.runtime.engine.saveFlow(`id: nightly
namespace: cli
triggers:
  - id: at-night
    type: kite.trigger.Schedule
    cron: "0 3 * * *"
    timezone: Europe/Paris
tasks:
  - id: wait
    type: kite.flow.Pause
    delay: PT0S
`)
})

/** `kite triggers ...args` against the test's runtime server. */
const kite = (...args: string[]) =>
  runKite(['triggers', ...args, '--server', kiteServer.server.url])

describe('kite triggers', { timeout: 120_000 }, () => {
  it('lists triggers with their state', async () => {
    await kiteServer.server.runtime.scheduler.tick()
    const listed = await kite('list')
    expect(listed.code).toBe(0)
    expect(listed.out).toMatch(
      /^cli\/nightly\/at-night {2}kite\.trigger\.Schedule {2}enabled {2}cron "0 3 \* \* \*" {2}next \d{4}-/,
    )
    const json = await kite('list', '--namespace', 'cli', '--json')
    expect(JSON.parse(json.out)).toEqual([
      expect.objectContaining({ triggerId: 'at-night', timezone: 'Europe/Paris', enabled: true }),
    ])
    expect((await kite('list', '--namespace', 'other')).out).toBe('no triggers\n')
  })

  it('disables, enables and resets one trigger', async () => {
    const disabled = await kite('disable', 'cli', 'nightly', 'at-night')
    expect(disabled.out).toMatch(/^trigger cli\/nightly\/at-night disabled\n.* disabled /)
    expect((await kiteServer.server.runtime.scheduler.list())[0]?.enabled).toBe(false)
    const enabled = await kite('enable', 'cli', 'nightly', 'at-night')
    expect(enabled.code).toBe(0)
    expect((await kiteServer.server.runtime.scheduler.list())[0]?.enabled).toBe(true)
    const reset = await kite('reset', 'cli', 'nightly', 'at-night')
    expect(reset.out).toMatch(/^trigger cli\/nightly\/at-night reset/)
    expect((await kiteServer.server.runtime.scheduler.list())[0]?.nextDate).toBeUndefined()
  })

  it('explains an unknown trigger and an unreachable server', async () => {
    const unknown = await kite('disable', 'cli', 'nightly', 'nope')
    expect(unknown.code).toBe(1)
    expect(unknown.err).toBe(
      'kite: disable trigger nope: trigger "nope" of flow cli/nightly not found\n',
    )
    const unreachable = await runKite(['triggers', 'list', '--server', 'http://127.0.0.1:9'])
    expect(unreachable.code).toBe(1)
    expect(unreachable.err).toMatch(/cannot reach the runtime at http:\/\/127\.0\.0\.1:9/)
  })
})
