import { defineTask, z } from '@kite/sdk'

export const LogLevel = z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'])
export type LogLevel = z.infer<typeof LogLevel>

export const log = defineTask({
  name: 'log.Log',
  title: 'Log a message',
  description:
    "Writes one message, or one line per message of a list, to the execution's logs at the given level.",
  properties: z.object({
    level: LogLevel.default('INFO').describe('The log level of the lines.'),
    message: z
      .union([z.string(), z.array(z.string()).min(1)])
      .describe('The message, or a list of messages logged one after the other.'),
  }),
  examples: [
    { title: 'Log a greeting', code: 'message: "Hello {{ inputs.name }}"' },
    {
      title: 'Log several lines as warnings',
      code: 'level: WARN\nmessage:\n  - "disk almost full"\n  - "{{ outputs.check.freeBytes }} bytes left"',
    },
  ],
  run(props, ctx) {
    const write = {
      TRACE: ctx.logger.trace,
      DEBUG: ctx.logger.debug,
      INFO: ctx.logger.info,
      WARN: ctx.logger.warn,
      ERROR: ctx.logger.error,
    }[props.level]
    const messages = typeof props.message === 'string' ? [props.message] : props.message
    for (const message of messages) write(message)
  },
})
