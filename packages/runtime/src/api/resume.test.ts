import { describe, expect, it } from 'vitest'
import { apiCalls, type Json } from '../../test/fixtures/api-calls.js'
import { approvalFlow } from '../../test/fixtures/flows.js'
import { useTestServer } from '../../test/fixtures/test-server.js'

const kite = useTestServer('kite-resume-')

const { api, save } = apiCalls(kite)
const postJson = (path: string, body: string) =>
  api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
/** Posts a flow and answers the response (the flows the tests refuse). */
const saveFlow = (source: string) =>
  api('/flows', { method: 'POST', headers: { 'content-type': 'application/x-yaml' }, body: source })

const APPROVAL = approvalFlow('resume.api')

describe('POST /executions/{id}/resume with onResume inputs', () => {
  it('validates the inputs (422, still paused) and hands them to the tasks after the Pause', async () => {
    await save(APPROVAL)
    const paused = (await (
      await postJson('/executions/resume.api/approval?wait=true', '{}')
    ).json()) as Json
    expect(paused.state.current).toBe('PAUSED')

    const wrongType = await postJson(`/executions/${paused.id}/resume`, '{"approved":"maybe"}')
    expect(wrongType.status).toBe(422)
    const wrongBody = (await wrongType.json()) as Json
    expect(wrongBody.message).toContain('input "approved" (BOOLEAN)')
    const unknown = await postJson(`/executions/${paused.id}/resume`, '{"approved":true,"x":1}')
    expect(unknown.status).toBe(422)
    expect(((await unknown.json()) as Json).message).toContain('unknown input "x"')
    const missing = await postJson(`/executions/${paused.id}/resume`, '{}')
    expect(missing.status).toBe(422)
    expect(((await missing.json()) as Json).message).toContain('input "approved" is required')
    const notJson = await postJson(`/executions/${paused.id}/resume`, '{"approved":')
    expect(notJson.status).toBe(400)
    // Nothing resumed: still paused, the server still up.
    const still = (await (await api(`/executions/${paused.id}`)).json()) as Json
    expect(still.state.current).toBe('PAUSED')

    const resumed = await postJson(`/executions/${paused.id}/resume`, '{"approved":"true"}')
    expect(resumed.status).toBe(200)
    const done = await kite.server.runtime.engine.waitFor(paused.id)
    expect(done.state.current).toBe('SUCCESS')
    const wait = done.taskRunList.find((run) => run.taskId === 'wait')
    expect(wait?.outputs).toEqual({ onResume: { approved: true, note: 'none' } })
    const after = done.taskRunList.find((run) => run.taskId === 'after')
    expect(after?.outputs).toEqual({ value: 'true-none' })
  })

  it('refuses inputs for a Pause that declares none, and an unknown execution', async () => {
    expect(
      (
        await saveFlow(
          'id: plain\nnamespace: resume.api\ntasks:\n  - id: wait\n    type: kite.flow.Pause\n',
        )
      ).status,
    ).toBe(200)
    const paused = (await (
      await postJson('/executions/resume.api/plain?wait=true', '{}')
    ).json()) as Json
    const extra = await postJson(`/executions/${paused.id}/resume`, '{"approved":true}')
    expect(extra.status).toBe(422)
    expect(((await extra.json()) as Json).message).toContain('no inputs')
    expect((await api(`/executions/${paused.id}/resume`, { method: 'POST' })).status).toBe(200)
    expect((await kite.server.runtime.engine.waitFor(paused.id)).state.current).toBe('SUCCESS')
    expect((await postJson('/executions/nope/resume', '{}')).status).toBe(404)
    expect((await api('/health')).status).toBe(200)
  })

  it('refuses a malformed onResume list at save, with the place to fix', async () => {
    const duplicate = await saveFlow(
      'id: dup\nnamespace: resume.api\ntasks:\n  - id: wait\n    type: kite.flow.Pause\n    onResume:\n      - id: a\n        type: INT\n      - id: a\n        type: STRING\n',
    )
    expect(duplicate.status).toBe(422)
    expect(JSON.stringify(await duplicate.json())).toContain('duplicate onResume input id \\"a\\"')
    const badType = await saveFlow(
      'id: badtype\nnamespace: resume.api\ntasks:\n  - id: wait\n    type: kite.flow.Pause\n    onResume:\n      - id: a\n        type: NUMBERISH\n',
    )
    expect(badType.status).toBe(422)
    expect(JSON.stringify(await badType.json())).toContain('onResume')
    const notAList = await saveFlow(
      'id: notalist\nnamespace: resume.api\ntasks:\n  - id: wait\n    type: kite.flow.Pause\n    onResume: yes\n',
    )
    expect(notAList.status).toBe(422)
    expect((await api('/health')).status).toBe(200)
  })

  it('refuses an onResume input the flow reads under a wrong name, at save', async () => {
    const response = await saveFlow(
      APPROVAL.replace('id: approval', 'id: misread').replace('onResume.note', 'onResume.nots'),
    )
    expect(response.status).toBe(422)
    expect(((await response.json()) as Json).message).toContain('nots')
  })
})
