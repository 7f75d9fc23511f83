import { defineTask, isDuration, KiteError, parseDuration, type RunContext, z } from '@kite/sdk'
import { createTransport } from 'nodemailer'

const addresses = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)])
const storageUri = z.string().startsWith('kite:///', 'must be a kite:/// URI')

const attachment = z.union([
  storageUri,
  z.object({
    uri: storageUri.describe('The stored file (a kite:/// URI).'),
    name: z.string().min(1).optional().describe('The file name shown (default: from the URI).'),
    contentType: z.string().optional().describe('The MIME type (default: guessed from the name).'),
  }),
])

const DEFAULT_PORTS = { TLS: 465, STARTTLS: 587, NONE: 25 } as const

export const email = defineTask({
  name: 'Email',
  title: 'Send an email',
  description:
    'Sends an email over SMTP: text and/or HTML body, several recipients, and files from internal storage as attachments. The password should come from a secret.',
  properties: z.object({
    host: z.string().min(1).describe('The SMTP server.'),
    port: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .optional()
      .describe('The SMTP port (default: 465 with TLS, 587 with STARTTLS, 25 with NONE).'),
    security: z
      .enum(['STARTTLS', 'TLS', 'NONE'])
      .default('STARTTLS')
      .describe(
        'STARTTLS: connect in plain text, then require the upgrade to TLS; TLS: TLS from the start (port 465); NONE: never encrypt (only for a relay on a trusted network).',
      ),
    verifyCertificate: z
      .boolean()
      .default(true)
      .describe("Check the server's TLS certificate; turn off only for a self-signed test server."),
    username: z.string().optional().describe('The login, if the server wants one.'),
    password: z.string().optional().describe("The password, e.g. `{{ secret('SMTP_PASSWORD') }}`."),
    from: z
      .string()
      .min(1)
      .describe('The sender: `ops@example.com` or `"Kite" <ops@example.com>`.'),
    to: addresses.describe('Recipients: one address, a comma-separated list or a list.'),
    cc: addresses.optional().describe('Copy recipients.'),
    bcc: addresses.optional().describe('Hidden recipients.'),
    replyTo: z.string().optional().describe('Where replies go.'),
    subject: z.string().default('').describe('The subject line.'),
    text: z.string().optional().describe('The plain-text body.'),
    html: z
      .string()
      .optional()
      .describe('The HTML body (shown instead of `text` by mail readers).'),
    attachments: z
      .array(attachment)
      .default([])
      .describe('Files from internal storage: URIs, or `{ uri, name, contentType }`.'),
    connectionTimeout: z
      .string()
      .refine(isDuration, 'must be an ISO-8601 duration such as PT30S')
      .default('PT30S')
      .describe('How long to wait for the server at each step (ISO-8601 duration).'),
  }),
  outputs: z.object({
    messageId: z.string().describe('The Message-ID of the email sent.'),
    accepted: z.array(z.string()).describe('Recipients the server accepted.'),
    rejected: z.array(z.string()).describe('Recipients the server refused.'),
  }),
  examples: [
    {
      title: 'Send a report with an attachment',
      code: `host: smtp.example.com
username: kite@example.com
password: "{{ secret('SMTP_PASSWORD') }}"
from: '"Kite" <kite@example.com>'
to: [team@example.com, boss@example.com]
subject: "Daily report {{ execution.startDate | date('yyyy-MM-dd') }}"
text: The report is attached.
attachments:
  - uri: "{{ outputs.export.uri }}"
    name: report.csv`,
    },
    {
      title: 'Relay through a local server',
      code: `host: localhost
security: NONE
from: kite@localhost
to: ops@localhost
subject: "{{ flow.id }} finished"
html: "<p>Execution <b>{{ execution.id }}</b> finished.</p>"`,
    },
  ],
  async run(props, ctx) {
    const port = props.port ?? DEFAULT_PORTS[props.security]
    const attachments = await Promise.all(
      props.attachments.map(async (entry) => {
        const file = typeof entry === 'string' ? { uri: entry } : entry
        return {
          filename: file.name ?? fileNameOf(file.uri),
          content: Buffer.from(await ctx.storage.get(file.uri)),
          contentType: file.contentType,
        }
      }),
    )
    const timeout = parseDuration(props.connectionTimeout)
    const transport = createTransport({
      host: props.host,
      port,
      secure: props.security === 'TLS',
      requireTLS: props.security === 'STARTTLS',
      ignoreTLS: props.security === 'NONE',
      tls: { rejectUnauthorized: props.verifyCertificate },
      auth:
        props.username !== undefined ? { user: props.username, pass: props.password } : undefined,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
    })
    // nodemailer takes no AbortSignal: closing the transport ends the connection.
    const stop = () => transport.close()
    ctx.signal.addEventListener('abort', stop, { once: true })
    try {
      const info = await transport.sendMail({
        from: props.from,
        to: props.to,
        cc: props.cc,
        bcc: props.bcc,
        replyTo: props.replyTo,
        subject: props.subject,
        text: props.text,
        html: props.html,
        attachments,
      })
      const accepted = info.accepted.map(addressText)
      const rejected = info.rejected.map(addressText)
      if (rejected.length > 0) ctx.logger.warn(`the server refused: ${rejected.join(', ')}`)
      ctx.logger.info(
        `email "${props.subject}" sent through ${props.host}:${port} to ${accepted.length} recipient(s)`,
      )
      return { messageId: info.messageId, accepted, rejected }
    } catch (error) {
      throw smtpError(error, { ...props, port }, ctx)
    } finally {
      ctx.signal.removeEventListener('abort', stop)
      transport.close()
    }
  },
})

function fileNameOf(uri: string): string {
  return decodeURIComponent(uri.slice(uri.lastIndexOf('/') + 1)) || 'attachment'
}

function addressText(address: string | { address: string }): string {
  return typeof address === 'string' ? address : address.address
}

/** nodemailer's error codes, turned into messages that say what to fix. */
function smtpError(
  error: unknown,
  props: { host: string; port: number; username?: string; security: string },
  ctx: RunContext,
): KiteError {
  const server = `${props.host}:${props.port}`
  if (ctx.signal.aborted) {
    return new KiteError('sending the email was stopped (timeout or kill)', {
      code: 'ABORTED',
      kind: 'user',
      cause: error,
    })
  }
  const fields: { code?: unknown; response?: unknown; message?: unknown } =
    typeof error === 'object' && error !== null ? error : {}
  const response = typeof fields.response === 'string' ? fields.response : undefined
  const message = typeof fields.message === 'string' ? fields.message : String(error)
  switch (fields.code) {
    case 'EAUTH':
      return new KiteError(
        `the SMTP server ${server} refused the login${props.username ? ` of "${props.username}"` : ''}: ${response ?? message}`,
        { code: 'SMTP_AUTH_FAILED', kind: 'user', cause: error },
      )
    case 'EENVELOPE':
      return new KiteError(`the SMTP server ${server} refused the message: ${message}`, {
        code: 'SMTP_REJECTED',
        kind: 'user',
        cause: error,
      })
    case 'ECONNECTION':
    case 'ETIMEDOUT':
    case 'ESOCKET':
    case 'EDNS':
    case 'ETLS':
      return new KiteError(
        `could not talk to the SMTP server ${server} (security ${props.security}): ${message}`,
        { code: 'SMTP_UNREACHABLE', kind: 'operational', cause: error },
      )
    default:
      return new KiteError(`sending the email through ${server} failed: ${response ?? message}`, {
        code: 'SMTP_FAILED',
        kind: 'operational',
        cause: error,
      })
  }
}
