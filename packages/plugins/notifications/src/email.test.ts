import type { AddressInfo } from 'node:net'
import { invokeTask } from '@kite/sdk/host'
import { createTestContext, runTask } from '@kite/sdk/testing'
import { simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { email } from './email.js'

interface Received {
  from: string
  recipients: string[]
  secure: boolean
  user?: string
  raw: string
}

const received: Received[] = []
let server: SMTPServer
let port: number

beforeAll(async () => {
  server = new SMTPServer({
    // STARTTLS with smtp-server's built-in self-signed certificate; login required.
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth(auth, _session, callback) {
      if (auth.username === 'kite' && auth.password === 's3cret') {
        callback(null, { user: auth.username })
      } else {
        callback(new Error('Authentication failed'))
      }
    },
    onRcptTo(address, _session, callback) {
      if (address.address.endsWith('@blocked.example')) {
        callback(new Error('550 mailbox unavailable'))
      } else {
        callback()
      }
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          recipients: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          secure: session.secure,
          user: typeof session.user === 'string' ? session.user : undefined,
          raw: Buffer.concat(chunks).toString('utf8'),
        })
        callback()
      })
    },
    logger: false,
  })
  server.on('error', () => {})
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.server.address() as AddressInfo).port
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))
beforeEach(() => {
  received.length = 0
})

const smtp = () => ({
  host: '127.0.0.1',
  port,
  verifyCertificate: false,
  username: 'kite',
  password: "{{ secret('SMTP_PASSWORD') }}",
})

describe('Email', () => {
  it('delivers subject, recipients, bodies and a stored attachment over STARTTLS', async () => {
    const context = await createTestContext({ secrets: { SMTP_PASSWORD: 's3cret' } })
    const report = await context.ctx.storage.put('report.csv', 'id,total\n1,42\n')
    const outputs = await invokeTask(
      email,
      {
        ...smtp(),
        password: 's3cret',
        from: '"Kite" <kite@example.com>',
        to: ['ada@example.com', 'grace@example.com'],
        cc: 'linus@example.com',
        bcc: ['hidden@example.com'],
        replyTo: 'ops@example.com',
        subject: 'Daily report ✓',
        text: 'The report is attached.',
        html: '<p>The report is <b>attached</b>.</p>',
        attachments: [{ uri: report, name: 'report.csv' }],
      },
      context.ctx,
    )
    await context.cleanup()
    expect(outputs).toMatchObject({
      messageId: expect.stringMatching(/^<.+@.+>$/),
      accepted: ['ada@example.com', 'grace@example.com', 'linus@example.com', 'hidden@example.com'],
      rejected: [],
    })
    expect(received).toHaveLength(1)
    const [message] = received
    expect(message).toMatchObject({ from: 'kite@example.com', secure: true, user: 'kite' })
    expect(message?.recipients).toEqual([
      'ada@example.com',
      'grace@example.com',
      'linus@example.com',
      'hidden@example.com',
    ])
    const mail = await simpleParser(message?.raw ?? '')
    expect(mail.subject).toBe('Daily report ✓')
    expect(mail.from?.text).toBe('"Kite" <kite@example.com>')
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.text : mail.to).toBe(
      'ada@example.com, grace@example.com',
    )
    expect(mail.cc && !Array.isArray(mail.cc) ? mail.cc.text : mail.cc).toBe('linus@example.com')
    expect(mail.bcc).toBeUndefined()
    expect(message?.raw).not.toContain('hidden@example.com')
    expect(mail.replyTo?.text).toBe('ops@example.com')
    expect(mail.text?.trim()).toBe('The report is attached.')
    expect(mail.html).toBe('<p>The report is <b>attached</b>.</p>')
    expect(mail.messageId).toBe(outputs.messageId)
    expect(mail.attachments).toHaveLength(1)
    expect(mail.attachments[0]?.filename).toBe('report.csv')
    expect(mail.attachments[0]?.contentType).toBe('text/csv')
    expect(mail.attachments[0]?.content.toString('utf8')).toBe('id,total\n1,42\n')
  })

  it('reads the password from a secret and masks it in the logs', async () => {
    const { outputs, logs } = await runTask(
      email,
      { ...smtp(), from: 'kite@example.com', to: 'ada@example.com', subject: 'Hi', text: 'Hello' },
      { secrets: { SMTP_PASSWORD: 's3cret' } },
    )
    expect(outputs.accepted).toEqual(['ada@example.com'])
    expect(logs.at(-1)?.message).toMatch(/email "Hi" sent through 127\.0\.0\.1:\d+ to 1 recipient/)
    expect(received).toHaveLength(1)
  })

  it('fails clearly when the server refuses the login', async () => {
    await expect(
      runTask(
        email,
        { ...smtp(), from: 'kite@example.com', to: 'ada@example.com', text: 'x' },
        { secrets: { SMTP_PASSWORD: 'wrong' } },
      ),
    ).rejects.toMatchObject({
      code: 'SMTP_AUTH_FAILED',
      kind: 'user',
      message: expect.stringMatching(
        /^the SMTP server 127\.0\.0\.1:\d+ refused the login of "kite": 535 Authentication failed/,
      ),
    })
    expect(received).toHaveLength(0)
  })

  it('reports refused recipients, and fails when all are refused', async () => {
    const { outputs, logs } = await runTask(
      email,
      {
        ...smtp(),
        from: 'kite@example.com',
        to: ['ada@example.com', 'x@blocked.example'],
        text: 'x',
      },
      { secrets: { SMTP_PASSWORD: 's3cret' } },
    )
    expect(outputs).toMatchObject({
      accepted: ['ada@example.com'],
      rejected: ['x@blocked.example'],
    })
    expect(logs.some((log) => log.level === 'warn' && log.message.includes('x@blocked'))).toBe(true)
    await expect(
      runTask(
        email,
        { ...smtp(), from: 'kite@example.com', to: 'x@blocked.example', text: 'x' },
        { secrets: { SMTP_PASSWORD: 's3cret' } },
      ),
    ).rejects.toMatchObject({ code: 'SMTP_REJECTED' })
  })

  it('refuses to send in clear text when STARTTLS is required but TLS fails', async () => {
    await expect(
      runTask(
        email,
        {
          ...smtp(),
          verifyCertificate: true,
          from: 'kite@example.com',
          to: 'ada@example.com',
          text: 'x',
        },
        { secrets: { SMTP_PASSWORD: 's3cret' } },
      ),
    ).rejects.toMatchObject({
      code: 'SMTP_UNREACHABLE',
      message: expect.stringContaining('security STARTTLS'),
    })
    expect(received).toHaveLength(0)
  })

  it('fails clearly when no server listens', async () => {
    const closed = new SMTPServer({ logger: false })
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const freePort = (closed.server.address() as AddressInfo).port
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    await expect(
      runTask(email, {
        host: '127.0.0.1',
        port: freePort,
        from: 'kite@example.com',
        to: 'ada@example.com',
        text: 'x',
      }),
    ).rejects.toMatchObject({
      code: 'SMTP_UNREACHABLE',
      message: expect.stringContaining('ECONNREFUSED'),
    })
  })
})
