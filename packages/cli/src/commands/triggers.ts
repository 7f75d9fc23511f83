// Types only: the command talks to a runtime over HTTP, it never loads one.
import type { TriggerInfo } from '@kite/runtime'
import type { Command } from 'commander'
import { callRuntime, parseUrl } from './options.js'

interface ServerOption {
  server: string
}

interface ListOptions extends ServerOption {
  namespace?: string
  flowId?: string
  json: boolean
}

const DEFAULT_SERVER = 'http://127.0.0.1:8080'

/** `kite triggers list|enable|disable|reset` against a running runtime (`--server URL`). */
export function registerTriggersCommand(program: Command): void {
  const triggers = program
    .command('triggers')
    .description("list a runtime's triggers with their state; enable, disable or reset one")

  triggers
    .command('list')
    .description('every trigger of the saved flows, with its next date, last firing and last error')
    .option('--server <url>', 'the runtime', parseUrl, DEFAULT_SERVER)
    .option('--namespace <namespace>', 'only this namespace')
    .option('--flow-id <id>', 'only this flow')
    .option('--json', 'print the API answer as JSON', false)
    .action(async (options: ListOptions) => {
      const query = new URLSearchParams()
      if (options.namespace) query.set('namespace', options.namespace)
      if (options.flowId) query.set('flowId', options.flowId)
      const answer = (await callRuntime(
        { server: options.server },
        'GET',
        `/triggers?${query}`,
      )) as {
        results: TriggerInfo[]
      }
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
    triggers
      .command(action)
      .description(`${action} one trigger`)
      .argument('<namespace>', 'the flow namespace')
      .argument('<flowId>', 'the flow id')
      .argument('<triggerId>', 'the trigger id')
      .option('--server <url>', 'the runtime', parseUrl, DEFAULT_SERVER)
      .action(
        async (namespace: string, flowId: string, triggerId: string, options: ServerOption) => {
          const path = `/triggers/${[namespace, flowId, triggerId].map(encodeURIComponent).join('/')}/${action}`
          const trigger = (await callRuntime(
            { server: options.server },
            'POST',
            path,
          )) as TriggerInfo
          process.stdout.write(`trigger ${namespace}/${flowId}/${triggerId} ${done}\n`)
          process.stdout.write(`${describe(trigger)}\n`)
        },
      )
  }
}

/** One line (plus an error line) per trigger. */
function describe(trigger: TriggerInfo): string {
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
