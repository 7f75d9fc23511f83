import { defineTask, z } from '@kite/sdk'
import { messagePayload, nothingToSend, postMessage } from './chat.js'
import { jsonObject, requestTimeoutProperty, responseOutputs, webhookUrl } from './http.js'

export const discordWebhook = defineTask({
  name: 'DiscordWebhook',
  title: 'Post to Discord',
  description:
    'Posts a message to a Discord channel through a [webhook](https://discord.com/developers/docs/resources/webhook#execute-webhook): `content`, `embeds`, and the name and avatar it posts as.',
  properties: z.object({
    url: webhookUrl('Discord'),
    content: z.string().max(2000).optional().describe('The message text (up to 2000 characters).'),
    username: z.string().optional().describe('The name to post as, instead of the webhook’s.'),
    avatarUrl: z.url().optional().describe('The avatar to post with, instead of the webhook’s.'),
    embeds: z
      .array(z.record(z.string(), z.unknown()))
      .max(10)
      .optional()
      .describe('Up to 10 Discord embeds (`title`, `description`, `color`, `fields`…).'),
    tts: z.boolean().optional().describe('Read the message aloud.'),
    payload: jsonObject
      .optional()
      .describe(
        'The whole message as Discord expects it (a mapping or JSON text); the other properties are added to it.',
      ),
    requestTimeout: requestTimeoutProperty,
  }),
  outputs: responseOutputs,
  examples: [
    {
      title: 'Announce a release',
      code: `url: "{{ secret('DISCORD_WEBHOOK') }}"
content: "Version {{ inputs.version }} is out"
username: Kite`,
    },
    {
      title: 'Post an embed',
      code: `url: "{{ secret('DISCORD_WEBHOOK') }}"
embeds:
  - title: Nightly import
    description: "{{ outputs.import.size }} rows imported"
    color: 3066993`,
    },
  ],
  async run(props, ctx) {
    const payload = messagePayload(props.payload)
    const fields = {
      content: props.content,
      username: props.username,
      avatar_url: props.avatarUrl,
      embeds: props.embeds,
      tts: props.tts,
    }
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) payload[key] = value
    if (payload.content === undefined && payload.embeds === undefined) {
      throw nothingToSend('set `content`, `embeds` or a `payload` with either')
    }
    return postMessage(ctx, 'Discord', props, payload)
  },
})
