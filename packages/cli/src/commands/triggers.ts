// The command talks to a runtime over HTTP through @kite/client, it never loads one.
import type { Trigger } from '@kite/client'
import type { Command } from 'commander'
import { runtimeClient, withServerOption } from './options.js'

interface ServerOption {
  server?: string
}

interface ListOptions extends ServerOption {
  namespace?: string
  flowId?: string
  json: boolean
}

/** `kite triggers list|enable|disable|reset` against a running runtime. */
export function registerTriggersCommand(program: Command): void {
  const triggers = program
    .command('triggers')
    .description("list a runtime's triggers with their state; enable, disable or reset one")

  withServerOption(
    triggers
      .command('list')
      .description(
        'every trigger of the saved flows, with its next date, last firing and last error',
      ),
  )
    .option('--namespace <namespace>', 'only this namespace')
    .option('--flow-id <id>', 'only this flow')
    .option('--json', 'print the API answer as JSON', false)
    .action(async (options: ListOptions) => {
      const answer = await runtimeClient(options).triggers.list({
        ...(options.namespace ? { namespace: options.namespace } : {}),
        ...(options.flowId ? { flowId: options.flowId } : {}),
      })
      if (options.json) {
        process.stdout.write(`${JSON.stringify(answer.results, null, 2)}\n`)
        return
      }
      if (answer.results.length === 0) {
        process.stdout.write('no triggers\n')
        return
      }
      for (const trigger of answer.results) process.stdout.write(`${describe(trigger)}\n`)
    })

  for (const [action, done] of [
    ['enable', 'enabled'],
    ['disable', 'disabled'],
    ['reset', 'reset (dates, errors and cursor forgotten)'],
  ] as const) {
    withServerOption(
      triggers
        .command(action)
        .description(`${action} one trigger`)
        .argument('<namespace>', 'the flow namespace')
        .argument('<flowId>', 'the flow id')
        .argument('<triggerId>', 'the trigger id'),
    ).action(
      async (namespace: string, flowId: string, triggerId: string, options: ServerOption) => {
        const trigger = await runtimeClient(options).triggers[action]({
          namespace,
          flowId,
          triggerId,
        })
        process.stdout.write(`trigger ${namespace}/${flowId}/${triggerId} ${done}\n`)
        process.stdout.write(`${describe(trigger)}\n`)
      },
    )
  }
}

/** One line (plus an error line) per trigger. */
function describe(trigger: Trigger): string {
  const status = trigger.flowDisabled
    ? 'disabled in the flow'
    : trigger.enabled
      ? 'enabled'
      : 'disabled'
  const parts = [
    `${trigger.namespace}/${trigger.flowId}/${trigger.triggerId}`,
    `${trigger.type}${trigger.version ? `@${trigger.version}` : ''}`,
    status,
    ...(trigger.cron ? [`cron "${trigger.cron}"`] : []),
    ...(trigger.interval ? [`every ${trigger.interval}`] : []),
    ...(trigger.nextDate ? [`next ${trigger.nextDate}`] : []),
    ...(trigger.lastFired ? [`last fired ${trigger.lastFired}`] : []),
    ...(Object.keys(trigger.state).length > 0 ? [`state ${JSON.stringify(trigger.state)}`] : []),
  ]
  const problems = [
    ...(trigger.lastError
      ? [`  last error (${trigger.lastError.date}): ${trigger.lastError.message}`]
      : []),
    ...(trigger.problem ? [`  problem: ${trigger.problem}`] : []),
  ]
  return [parts.join('  '), ...problems].join('\n')
}
