import { readFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import type { AnyTask, PluginDefinition } from '@kite/sdk'
import { parseManifest } from '@kite/sdk/host'
import { runTask } from '@kite/sdk/testing'
import { SMTPServer } from 'smtp-server'
import { describe, expect, it } from 'vitest'
import { startRecordingServer } from './test-server.js'

// npm test builds every package before testing; by hand: npx turbo run build --filter=@kite/plugin-notifications
const dist = new URL('../dist/', import.meta.url)

async function loadBuilt() {
  const plugin = ((await import(new URL('index.js', dist).href)) as { default: PluginDefinition })
    .default
  return (name: string): AnyTask => {
    const found = plugin.find(`kite.notifications.${name}`)
    if (found?.kind !== 'task') throw new Error(`no task ${name} in the bundle`)
    return found
  }
}

describe('the built bundle', () => {
  it('has a manifest with every task', async () => {
    const manifest = parseManifest(
      JSON.parse(await readFile(new URL('kite-plugin.json', dist), 'utf8')),
    )
    expect(manifest.tasks.map((task) => task.type).sort()).toEqual([
      'kite.notifications.DiscordWebhook',
      'kite.notifications.Email',
      'kite.notifications.SlackIncomingWebhook',
      'kite.notifications.TeamsWebhook',
      'kite.notifications.Webhook',
    ])
  })

  it('posts to Slack and sends an email with its bundled nodemailer', async () => {
    const task = await loadBuilt()
    const http = await startRecordingServer()
    const messages: string[] = []
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, _session, callback) {
        const chunks: Buffer[] = []
        stream.on('data', (chunk: Buffer) => chunks.push(chunk))
        stream.on('end', () => {
          messages.push(Buffer.concat(chunks).toString('utf8'))
          callback()
        })
      },
    })
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve))
    try {
      await runTask(task('SlackIncomingWebhook'), {
        url: http.url('/hook'),
        text: 'from the bundle',
      })
      expect(http.lastJson()).toEqual({ text: 'from the bundle' })
      const { outputs } = await runTask(task('Email'), {
        host: '127.0.0.1',
        port: (smtp.server.address() as AddressInfo).port,
        security: 'NONE',
        from: 'kite@example.com',
        to: 'ada@example.com',
        subject: 'Bundled',
        text: 'sent by the bundle',
      })
      expect(outputs).toMatchObject({ accepted: ['ada@example.com'] })
      expect(messages).toHaveLength(1)
      expect(messages[0]).toMatch(/^Subject: Bundled$/m)
      expect(messages[0]).toContain('sent by the bundle')
    } finally {
      await http.close()
      await new Promise<void>((resolve) => smtp.close(() => resolve()))
    }
  })
})
