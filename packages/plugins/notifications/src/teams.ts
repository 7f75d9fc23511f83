import { defineTask, KiteError, z } from '@kite/sdk'
import { messagePayload, nothingToSend, postMessage } from './chat.js'
import { jsonObject, requestTimeoutProperty, responseOutputs, webhookUrl } from './http.js'

export const teamsWebhook = defineTask({
  name: 'TeamsWebhook',
  title: 'Post to Microsoft Teams',
  description:
    'Posts a message to a Microsoft Teams channel through a webhook (a Teams Workflows "post to a channel when a webhook request is received" URL, or a legacy incoming webhook). `title`, `text`, `facts` and `link` become an Adaptive Card; `payload` sends your own message instead.',
  properties: z.object({
    url: webhookUrl('Teams'),
    title: z.string().optional().describe('A bold heading.'),
    text: z.string().optional().describe('The message text (Adaptive Card markdown subset).'),
    facts: z
      .record(z.string(), z.string())
      .optional()
      .describe('Name/value pairs shown as a table.'),
    link: z
      .object({
        title: z.string().describe('The button label.'),
        url: z.url().describe('Where the button leads.'),
      })
      .optional()
      .describe('A button that opens a URL.'),
    payload: jsonObject
      .optional()
      .describe(
        'The whole message (a mapping or JSON text), sent as it is; the other message properties must then be left out.',
      ),
    requestTimeout: requestTimeoutProperty,
  }),
  outputs: responseOutputs,
  examples: [
    {
      title: 'Report a failure with a link to the execution',
      code: `url: "{{ secret('TEAMS_WEBHOOK') }}"
title: "Flow {{ flow.id }} failed"
text: "Execution {{ execution.id }} failed in {{ flow.namespace }}."
facts:
  Namespace: "{{ flow.namespace }}"
  Execution: "{{ execution.id }}"
link:
  title: Open in Kite
  url: "https://kite.example.com/executions/{{ execution.id }}"`,
    },
  ],
  async run(props, ctx) {
    const card = [props.title, props.text, props.facts, props.link].some((v) => v !== undefined)
    if (props.payload !== undefined && card) {
      throw new KiteError(
        'set either `payload` or the message properties (`title`, `text`, `facts`, `link`), not both',
        { code: 'PAYLOAD_INVALID', kind: 'user' },
      )
    }
    if (props.payload === undefined && !card) {
      throw nothingToSend('set `text`, `title`, `facts`, `link` or `payload`')
    }
    const json = props.payload !== undefined ? messagePayload(props.payload) : adaptiveCard(props)
    return postMessage(ctx, 'Teams', props, json)
  },
})

/** The message envelope Teams webhooks accept, holding one Adaptive Card. */
export function adaptiveCard(message: {
  title?: string
  text?: string
  facts?: Record<string, string>
  link?: { title: string; url: string }
}): Record<string, unknown> {
  const body: Record<string, unknown>[] = []
  if (message.title !== undefined) {
    body.push({
      type: 'TextBlock',
      text: message.title,
      weight: 'Bolder',
      size: 'Medium',
      wrap: true,
    })
  }
  if (message.text !== undefined) body.push({ type: 'TextBlock', text: message.text, wrap: true })
  if (message.facts !== undefined) {
    body.push({
      type: 'FactSet',
      facts: Object.entries(message.facts).map(([title, value]) => ({ title, value })),
    })
  }
  const content: Record<string, unknown> = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body,
  }
  if (message.link !== undefined) {
    content.actions = [{ type: 'Action.OpenUrl', title: message.link.title, url: message.link.url }]
  }
  return {
    type: 'message',
    attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content }],
  }
}
