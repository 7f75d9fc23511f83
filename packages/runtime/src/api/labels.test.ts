import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { fixturePlugins } from '../../test/fixtures/plugins.js'
import { useTestServer } from '../../test/fixtures/test-server.js'

// The real core plugin (its built dist), instead of the fixtures' stand-in for kite.core.
const CORE = join(import.meta.dirname, '../../../plugins/core')
const kite = useTestServer('kite-labels-', {
  plugins: () => fixturePlugins().filter((plugin) => plugin.name !== '@kite/plugin-core'),
  pluginDirs: [CORE],
})

// biome-ignore lint/suspicious/noExplicitAny: API answers are checked by the assertions below
type Json = any
const api = (path: string, init: RequestInit = {}) =>
  fetch(`${kite.server.url}/api/v1${path}`, init)
const start = async (inputs: Record<string, unknown>, query = ''): Promise<Json> => {
  const response = await api(`/executions/labels.api/tagged?wait=true${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(inputs),
  })
  expect(response.status, await response.clone().text()).toBe(200)
  return response.json()
}
const listed = async (query: string): Promise<string[]> => {
  const response = await api(`/executions?namespace=labels.api&${query}`)
  expect(response.status).toBe(200)
  return ((await response.json()) as Json).results.map((execution: Json) => execution.id)
}

describe('execution.Labels outputs', () => {
  it('merge into the execution labels, are seen downstream and filter the executions list', async () => {
    const saved = await api('/flows', {
      method: 'POST',
      headers: { 'content-type': 'application/x-yaml' },
      body: `id: tagged
namespace: labels.api
labels:
  team: data
  tier: bronze
inputs:
  - id: customer
    type: STRING
tasks:
  - id: tag
    type: kite.core.execution.Labels
    labels:
      customer: "{{ inputs.customer }}"
      tier: gold
  - id: list
    type: kite.core.execution.Labels
    labels:
      - key: rows
        value: 3
  - id: after
    type: test.fixtures.Echo
    value: "{{ labels.customer }}/{{ labels.tier }}/{{ labels.rows }}"
`,
    })
    expect(saved.status, await saved.clone().text()).toBe(200)
    const acme = await start({ customer: 'acme' }, '&labels=source:api')
    expect(acme.state.current).toBe('SUCCESS')
    expect(acme.labels).toEqual({
      team: 'data',
      tier: 'gold',
      customer: 'acme',
      rows: '3',
      source: 'api',
    })
    expect(acme.taskRunList.find((run: Json) => run.taskId === 'after').outputs).toEqual({
      value: 'acme/gold/3',
    })
    // Stored, not only in the answer.
    const stored = (await (await api(`/executions/${acme.id}`)).json()) as Json
    expect(stored.labels.customer).toBe('acme')
    const globex = await start({ customer: 'globex' })
    expect(globex.labels.customer).toBe('globex')

    expect(await listed('labels=customer:acme')).toEqual([acme.id])
    expect(await listed('labels=customer:globex')).toEqual([globex.id])
    expect(await listed('labels=tier:gold')).toEqual([globex.id, acme.id])
    expect(await listed('labels=tier:gold&labels=source:api')).toEqual([acme.id])
    expect(await listed('labels=tier:gold,customer:globex')).toEqual([globex.id])
    // The flow's own value was replaced, so nothing is bronze any more.
    expect(await listed('labels=tier:bronze')).toEqual([])
    expect(await listed('labels=customer:')).toEqual([])
  })

  it('filters executions by start date (startDate inclusive, endDate exclusive, any offset)', async () => {
    const all = await listed('labels=tier:gold')
    expect(all.length).toBeGreaterThan(1)
    const [newest, older] = all as [string, string]
    const startOf = async (id: string) =>
      ((await (await api(`/executions/${id}`)).json()) as Json).state.startDate as string
    const newestStart = await startOf(newest)
    const olderStart = await startOf(older)
    const at = (iso: string) => encodeURIComponent(iso)
    expect(await listed(`labels=tier:gold&startDate=${at(newestStart)}`)).toEqual([newest])
    expect(await listed(`labels=tier:gold&endDate=${at(newestStart)}`)).toEqual([older])
    expect(
      await listed(`labels=tier:gold&startDate=${at(olderStart)}&endDate=${at(newestStart)}`),
    ).toEqual([older])
    // The same instant written with another offset selects the same executions.
    const shifted = new Date(newestStart)
    const plusTwo = new Date(shifted.getTime() + 2 * 3600_000).toISOString().replace('Z', '+02:00')
    expect(await listed(`labels=tier:gold&startDate=${at(plusTwo)}`)).toEqual([newest])
    expect(await listed('labels=tier:gold&startDate=2999-01-01T00:00:00Z')).toEqual([])
  })

  it('answers 400 to a start date that is not an ISO date-time with an offset, and stays up', async () => {
    for (const bad of ['yesterday', '2026-12-02', '2026-12-02T10:00:00', '2026-13-40T99:00:00Z']) {
      const response = await api(`/executions?startDate=${encodeURIComponent(bad)}`)
      expect(response.status, bad).toBe(400)
      const body = (await response.json()) as Json
      expect(body.code).toBe('REQUEST_INVALID')
      expect(JSON.stringify(body.errors), bad).toContain('startDate')
    }
    expect((await api('/executions?endDate=nope')).status).toBe(400)
    expect((await api('/executions')).status).toBe(200)
  })

  it('answers 400 to a label filter that is not key:value, and stays up', async () => {
    for (const bad of ['nokey', ':value', 'a:b,broken']) {
      const response = await api(`/executions?labels=${encodeURIComponent(bad)}`)
      expect(response.status, bad).toBe(400)
      const body = (await response.json()) as Json
      expect(body.code).toBe('REQUEST_INVALID')
      expect(body.message).toContain('must be key:value')
    }
    expect((await api('/health')).status).toBe(200)
  })
})
