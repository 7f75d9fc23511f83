import { defineTask, isDuration, KiteError, parseDuration, z } from '@kite/sdk'

export const sleep = defineTask({
  name: 'flow.Sleep',
  title: 'Sleep',
  description:
    "Waits for a duration, then succeeds. Kite's runtime waits for it itself, as a timer recorded with the task run: a sleeping task holds no worker slot and no thread, so thousands of executions can sleep at once, and the wait survives a restart (it ends at the recorded time, at once if that has passed). A kill of the execution, or the timeout of a flowable around it, ends it KILLED; the task's own `timeout`, when shorter, ends it FAILED. `retry` does not apply.",

  properties: z.object({
    duration: z
      .string()
      .refine(isDuration, 'must be an ISO-8601 duration such as PT30S, PT5M or PT1H')
      // In the manifest too, so saving a flow refuses a bad literal duration.
      .meta({ format: 'duration' })
      .describe('How long to wait, as an ISO-8601 duration (`PT30S`, `PT5M`, `PT1H`).'),
  }),
  examples: [{ title: 'Wait ten seconds', code: 'duration: PT10S' }],
  async run(props, ctx) {
    const milliseconds = parseDuration(props.duration)
    ctx.logger.debug(`sleeping for ${props.duration}`)
    await wait(milliseconds, ctx.signal)
  },
})

/** Resolves after `milliseconds`, or rejects as soon as `signal` aborts. */
function wait(milliseconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const stop = () => {
      clearTimeout(timer)
      reject(
        new KiteError(`sleep interrupted: ${abortReason(signal)}`, {
          code: 'ABORTED',
          kind: 'user',
          cause: signal.reason,
        }),
      )
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', stop)
      resolve()
    }, milliseconds)
    if (signal.aborted) stop()
    else signal.addEventListener('abort', stop, { once: true })
  })
}

function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason
  if (reason instanceof Error) return reason.message
  return typeof reason === 'string' ? reason : 'the task was stopped'
}
