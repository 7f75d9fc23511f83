import { definePlugin } from '@kite/sdk'
import { discordWebhook } from './discord.js'
import { email } from './email.js'
import { slackIncomingWebhook } from './slack.js'
import { teamsWebhook } from './teams.js'
import { webhook } from './webhook.js'

export default definePlugin({
  group: 'kite.notifications',
  title: 'Notifications',
  description:
    'Tell people what flows do: Slack, Discord and Microsoft Teams messages, any webhook, and email over SMTP.',
  tasks: [slackIncomingWebhook, discordWebhook, teamsWebhook, webhook, email],
})
