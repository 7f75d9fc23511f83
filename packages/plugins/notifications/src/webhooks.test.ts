import { runTask } from '@kite/sdk/testing'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { discordWebhook } from './discord.js'
import { slackIncomingWebhook } from './slack.js'
import { teamsWebhook } from './teams.js'
import { startRecordingServer } from './test-server.js'
import { webhook } from './webhook.js'

let server: Awaited<ReturnType<typeof startRecordingServer>>
beforeAll(async () => {
  server = await startRecordingServer()
})
afterAll(() => server.close())
beforeEach(() => server.reset())

describe('SlackIncomingWebhook', () => {
  it('posts text and blocks as JSON to the URL from a secret', async () => {
    const { outputs } = await runTask(
      slackIncomingWebhook,
      {
        url: "{{ secret('SLACK_WEBHOOK') }}",
        text: 'Flow {{ flow.id }} failed',
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*failed*' } }],
      },
      { secrets: { SLACK_WEBHOOK: server.url('/services/T000/B000/XXXX') } },
    )
    expect(outputs).toEqual({ code: 200, body: 'ok' })
    const [request] = server.requests
    expect(request?.method).toBe('POST')
    expect(request?.path).toBe('/services/T000/B000/XXXX')
    expect(request?.headers['content-type']).toBe('application/json')
    expect(server.lastJson()).toEqual({
      text: 'Flow test-flow failed',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*failed*' } }],
    })
  })

  it('sends a payload given as JSON text, with text added', async () => {
    await runTask(slackIncomingWebhook, {
      url: server.url(),
      payload: '{"unfurl_links": false, "text": "replaced"}',
      text: 'hello',
    })
    expect(server.lastJson()).toEqual({ unfurl_links: false, text: 'hello' })
  })

  it('fails on a 500 with the status and the body, without the URL path', async () => {
    server.answer({ status: 500, body: 'internal_error: something broke' })
    const failure = runTask(slackIncomingWebhook, {
      url: server.url('/services/SECRET-TOKEN'),
      text: 'hi',
    })
    await expect(failure).rejects.toMatchObject({
      code: 'WEBHOOK_FAILED',
      kind: 'operational',
      message: expect.stringMatching(
        /^the Slack server 127\.0\.0\.1:\d+ answered 500 Internal Server Error to POST: internal_error: something broke$/,
      ),
    })
    await expect(failure).rejects.not.toThrow(/SECRET-TOKEN/)
  })

  it('refuses to send nothing, and a payload that is not JSON', async () => {
    await expect(runTask(slackIncomingWebhook, { url: server.url() })).rejects.toMatchObject({
      code: 'PAYLOAD_INVALID',
    })
    await expect(
      runTask(slackIncomingWebhook, { url: server.url(), payload: '{oops' }),
    ).rejects.toThrow(/`payload` is not valid JSON/)
    expect(server.requests).toHaveLength(0)
  })
})

describe('DiscordWebhook', () => {
  it('posts content, username, avatar and embeds with Discord field names', async () => {
    server.answer({ status: 204 })
    const { outputs } = await runTask(discordWebhook, {
      url: server.url('/api/webhooks/1/abc'),
      content: 'Version 2 is out',
      username: 'Kite',
      avatarUrl: 'https://example.com/kite.png',
      embeds: [{ title: 'Import', description: '12 rows', color: 3066993 }],
    })
    expect(outputs).toEqual({ code: 204, body: '' })
    expect(server.lastJson()).toEqual({
      content: 'Version 2 is out',
      username: 'Kite',
      avatar_url: 'https://example.com/kite.png',
      embeds: [{ title: 'Import', description: '12 rows', color: 3066993 }],
    })
  })

  it('refuses content longer than Discord accepts', async () => {
    await expect(
      runTask(discordWebhook, { url: server.url(), content: 'x'.repeat(2001) }),
    ).rejects.toThrow(/content:/)
  })
})

describe('TeamsWebhook', () => {
  it('posts an Adaptive Card built from title, text, facts and link', async () => {
    server.answer({ status: 202, body: '' })
    await runTask(teamsWebhook, {
      url: server.url('/workflows/abc'),
      title: 'Flow failed',
      text: 'Execution 42 failed.',
      facts: { Namespace: 'company.team' },
      link: { title: 'Open', url: 'https://kite.example.com/executions/42' },
    })
    expect(server.lastJson()).toEqual({
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          content: {
            $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
            type: 'AdaptiveCard',
            version: '1.4',
            body: [
              {
                type: 'TextBlock',
                text: 'Flow failed',
                weight: 'Bolder',
                size: 'Medium',
                wrap: true,
              },
              { type: 'TextBlock', text: 'Execution 42 failed.', wrap: true },
              { type: 'FactSet', facts: [{ title: 'Namespace', value: 'company.team' }] },
            ],
            actions: [
              {
                type: 'Action.OpenUrl',
                title: 'Open',
                url: 'https://kite.example.com/executions/42',
              },
            ],
          },
        },
      ],
    })
  })

  it('sends a full payload as it is, and refuses a payload mixed with message properties', async () => {
    const payload = { '@type': 'MessageCard', summary: 'Hi', text: 'Hi' }
    await runTask(teamsWebhook, { url: server.url(), payload })
    expect(server.lastJson()).toEqual(payload)
    await expect(
      runTask(teamsWebhook, { url: server.url(), payload, text: 'also' }),
    ).rejects.toThrow(/set either `payload` or the message properties/)
  })
})

describe('Webhook', () => {
  it('sends JSON with the method and headers given', async () => {
    server.answer({ status: 201, body: '{"id":7}' })
    const { outputs } = await runTask(
      webhook,
      {
        url: server.url('/deploy'),
        method: 'PUT',
        headers: { Authorization: "Bearer {{ secret('TOKEN') }}" },
        json: { service: 'api', replicas: 3 },
      },
      { secrets: { TOKEN: 't0ken' } },
    )
    expect(outputs).toEqual({ code: 201, body: '{"id":7}' })
    const request = server.requests[0]
    expect(request?.method).toBe('PUT')
    expect(request?.headers.authorization).toBe('Bearer t0ken')
    expect(request?.headers['content-type']).toBe('application/json')
    expect(request?.body).toBe('{"service":"api","replicas":3}')
  })

  it('sends a text body with its own content type, and GET without one', async () => {
    await runTask(webhook, {
      url: server.url('/text'),
      body: 'a=1&b=2',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    })
    expect(server.requests[0]).toMatchObject({
      method: 'POST',
      body: 'a=1&b=2',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    await runTask(webhook, { url: server.url('/ping?x=1'), method: 'GET' })
    expect(server.requests[1]).toMatchObject({ method: 'GET', path: '/ping?x=1', body: '' })
  })

  it('fails on a 404 with a long body cut short', async () => {
    server.answer({ status: 404, body: `not found ${'.'.repeat(2000)}` })
    await expect(runTask(webhook, { url: server.url('/nowhere'), json: {} })).rejects.toMatchObject(
      {
        code: 'WEBHOOK_FAILED',
        kind: 'user',
        message: expect.stringMatching(/answered 404 Not Found to POST: not found \.{490}\.*…$/),
      },
    )
  })

  it('fails when nobody listens, and when the server is too slow', async () => {
    const closed = await startRecordingServer()
    const url = closed.url()
    await closed.close()
    await expect(runTask(webhook, { url, json: {} })).rejects.toMatchObject({
      code: 'WEBHOOK_UNREACHABLE',
      message: expect.stringContaining('ECONNREFUSED'),
    })
    server.answer({ status: 200, delay: 2000 })
    await expect(
      runTask(webhook, { url: server.url(), json: {}, requestTimeout: 'PT0.2S' }),
    ).rejects.toMatchObject({
      code: 'WEBHOOK_TIMEOUT',
      message: expect.stringMatching(/did not answer within PT0\.2S$/),
    })
  })

  it('refuses a GET with a body and a URL that is not http', async () => {
    await expect(
      runTask(webhook, { url: server.url(), method: 'GET', json: { a: 1 } }),
    ).rejects.toThrow(/a GET request cannot carry a body/)
    await expect(runTask(webhook, { url: 'ftp://example.com/x', json: {} })).rejects.toThrow(
      /url: must be an http or https URL/,
    )
  })
})
