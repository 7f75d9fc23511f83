import { defineTask, z } from '@kite/sdk'
import { messagePayload, nothingToSend, postMessage } from './chat.js'
import { jsonObject, requestTimeoutProperty, responseOutputs, webhookUrl } from './http.js'

export const slackIncomingWebhook = defineTask({
  name: 'SlackIncomingWebhook',
  title: 'Post to Slack',
  description:
    'Posts a message to a Slack channel through an [incoming webhook](https://api.slack.com/messaging/webhooks): plain `text`, [Block Kit](https://api.slack.com/block-kit) `blocks`, or a whole `payload`.',
  properties: z.object({
    url: webhookUrl('Slack incoming'),
    text: z
      .string()
      .optional()
      .describe('The message text (Slack mrkdwn); with `blocks`, the notification fallback.'),
    blocks: z.array(z.record(z.string(), z.unknown())).optional().describe('Block Kit blocks.'),
    payload: jsonObject
      .optional()
      .describe(
        'The whole message as Slack expects it (a mapping or JSON text); `text` and `blocks` are added to it.',
      ),
    requestTimeout: requestTimeoutProperty,
  }),
  outputs: responseOutputs,
  examples: [
    {
      title: 'Tell a channel a flow failed',
      code: `url: "{{ secret('SLACK_WEBHOOK') }}"
text: ":red_circle: {{ flow.namespace }}.{{ flow.id }} failed (execution {{ execution.id }})"`,
    },
    {
      title: 'Send Block Kit blocks',
      code: `url: "{{ secret('SLACK_WEBHOOK') }}"
text: Deployment finished
blocks:
  - type: section
    text: { type: mrkdwn, text: "*Deployed* version {{ inputs.version }}" }`,
    },
  ],
  async run(props, ctx) {
    const payload = messagePayload(props.payload)
    if (props.text !== undefined) payload.text = props.text
    if (props.blocks !== undefined) payload.blocks = props.blocks
    if (payload.text === undefined && payload.blocks === undefined) {
      throw nothingToSend('set `text`, `blocks` or a `payload` with either')
    }
    return postMessage(ctx, 'Slack', props, payload)
  },
})
