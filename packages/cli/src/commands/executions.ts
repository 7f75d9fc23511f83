// The command talks to a runtime over HTTP through @kite/client, it never loads one.
import type { ExecutionState, LogEntry } from '@kite/client'
import type { Command } from 'commander'
import { UsageError } from '../program.js'
import { printExecution } from './flow.js'
import { parseInputs, runtimeClient, withServerOption } from './options.js'

interface ServerOptions {
  server?: string
  json: boolean
}

interface ListOptions extends ServerOptions {
  namespace?: string
  flowId?: string
  state: string[]
  label: string[]
  page?: string
  size?: string
}

/** `kite executions start|list|show|logs|follow|restart|replay|resume|kill` against a running runtime. */
export function registerExecutionsCommand(program: Command): void {
  const executions = program
    .command('executions')
    .description(
      "a runtime's executions: start, search, show one, its logs, follow it live, restart, replay, resume, kill",
    )

  const json = (command: Command) =>
    withServerOption(command).option('--json', 'print the API answer as JSON', false)

  json(
    executions
      .command('start')
      .description('start an execution of a saved flow (with --wait: exit 0 on SUCCESS)')
      .argument('<namespace>', "the flow's namespace")
      .argument('<flow-id>', "the flow's id")
      .option('--input <key=value>', 'an input (repeatable); key=@path uploads a file', collect, [])
      .option('--label <key:value>', 'a label of the execution (repeatable)', collect, [])
      .option('--revision <n>', 'a flow revision (default: the latest)')
      .option('--wait', 'answer when the execution ends (or pauses)', false),
  ).action(
    async (
      namespace: string,
      flowId: string,
      options: ServerOptions & {
        input: string[]
        label: string[]
        revision?: string
        wait: boolean
      },
    ) => {
      const inputs = await parseInputs(options.input)
      const execution = await runtimeClient(options).executions.start(namespace, flowId, {
        inputs,
        wait: options.wait,
        ...(options.label.length > 0 ? { labels: keyValues(options.label, '--label', ':') } : {}),
        ...(options.revision ? { revision: integer(options.revision, '--revision') } : {}),
      })
      if (options.wait && execution.state.current !== 'SUCCESS') process.exitCode = 1
      if (options.json) return print(execution)
      process.stdout.write(
        `execution ${execution.id} of ${namespace}/${flowId} (revision ${execution.flowRevision}): ${execution.state.current}\n`,
      )
      if (options.wait) printExecution(execution)
    },
  )

  json(
    executions
      .command('list')
      .description('executions, newest first')
      .option('--namespace <namespace>', 'only this namespace (and those below it)')
      .option('--flow-id <id>', 'only this flow')
      .option('--state <state>', 'only this state (repeatable)', collect, [])
      .option('--label <key:value>', 'only executions with this label (repeatable)', collect, [])
      .option('--page <page>', 'page, from 1')
      .option('--size <size>', 'executions per page (default 25)'),
  ).action(async (options: ListOptions) => {
    const page = await runtimeClient(options).executions.list({
      ...(options.namespace ? { namespace: options.namespace } : {}),
      ...(options.flowId ? { flowId: options.flowId } : {}),
      ...(options.state.length > 0 ? { state: options.state as ExecutionState[] } : {}),
      ...(options.label.length > 0 ? { labels: keyValues(options.label, '--label', ':') } : {}),
      ...(options.page ? { page: integer(options.page, '--page') } : {}),
      ...(options.size ? { size: integer(options.size, '--size') } : {}),
    })
    if (options.json) return print(page)
    if (page.results.length === 0) return void process.stdout.write('no executions\n')
    for (const item of page.results) {
      process.stdout.write(
        `${item.id}  ${item.namespace}/${item.flowId} rev ${item.flowRevision}  ${item.state.current}  ${item.state.startDate}\n`,
      )
    }
    process.stdout.write(`page ${page.page}, ${page.results.length} of ${page.total}\n`)
  })

  json(
    executions
      .command('show')
      .description('one execution with its task runs')
      .argument('<id>', 'the execution id'),
  ).action(async (id: string, options: ServerOptions) => {
    const execution = await runtimeClient(options).executions.get(id)
    if (options.json) return print(execution)
    process.stdout.write(
      `execution ${execution.id} of ${execution.namespace}/${execution.flowId} (revision ${execution.flowRevision})\n`,
    )
    printExecution(execution)
  })

  json(
    executions
      .command('logs')
      .description("an execution's log lines (secrets masked)")
      .argument('<id>', 'the execution id')
      .option('--min-level <level>', 'trace, debug, info, warn or error')
      .option('--task-id <id>', 'only this task'),
  ).action(async (id: string, options: ServerOptions & { minLevel?: string; taskId?: string }) => {
    const logs = await runtimeClient(options).executions.logs(id, {
      ...(options.minLevel ? { minLevel: options.minLevel as LogEntry['level'] } : {}),
      ...(options.taskId ? { taskId: options.taskId } : {}),
    })
    if (options.json) return print(logs)
    for (const entry of logs) process.stdout.write(`${logLine(entry)}\n`)
  })

  withServerOption(
    executions
      .command('follow')
      .description(
        'print log lines and state changes as they come, until it ends (exit 0 on SUCCESS)',
      )
      .argument('<id>', 'the execution id'),
  ).action(async (id: string, options: ServerOptions) => {
    let last: string | undefined
    let final: ExecutionState | undefined
    for await (const event of runtimeClient(options).executions.follow(id)) {
      if (event.type === 'log') {
        process.stdout.write(`${logLine(event.log)}\n`)
      } else if (event.state !== last) {
        last = event.state
        final = event.state
        process.stdout.write(`state: ${event.state}\n`)
      }
    }
    if (final !== 'SUCCESS') process.exitCode = 1
  })

  json(
    executions
      .command('restart')
      .description('run a FAILED or KILLED execution again from its failed task runs')
      .argument('<id>', 'the execution id'),
  ).action(async (id: string, options: ServerOptions) => {
    const execution = await runtimeClient(options).executions.restart(id)
    if (options.json) return print(execution)
    process.stdout.write(`restarted ${execution.id}: ${execution.state.current}\n`)
  })

  json(
    executions
      .command('replay')
      .description(
        'run an ended execution again as a new one, from a task run (default: the whole flow)',
      )
      .argument('<id>', 'the execution id')
      .option('--task-run <id>', 'the task run to start again from (kite executions show ID)')
      .option('--revision <n>', "the flow revision to run (default: the original's)")
      .option('--keep-plugins', "keep the original's plugin versions instead of resolving again"),
  ).action(
    async (
      id: string,
      options: ServerOptions & { taskRun?: string; revision?: string; keepPlugins?: boolean },
    ) => {
      const execution = await runtimeClient(options).executions.replay(id, {
        ...(options.taskRun ? { taskRunId: options.taskRun } : {}),
        ...(options.revision ? { revision: integer(options.revision, '--revision') } : {}),
        ...(options.keepPlugins ? { keepPlugins: true } : {}),
      })
      if (options.json) return print(execution)
      process.stdout.write(`replay ${execution.id} of ${id}: ${execution.state.current}\n`)
      for (const plugin of execution.plugins) {
        process.stdout.write(
          `  ${plugin.package}@${plugin.version} (${plugin.taskIds.join(', ')})${options.keepPlugins ? ' kept' : ''}\n`,
        )
      }
    },
  )

  json(
    executions
      .command('resume')
      .description("resume a paused execution, with its Pause's onResume inputs")
      .argument('<id>', 'the execution id')
      .option('--input <key=value>', 'an onResume input (repeatable)', collect, []),
  ).action(async (id: string, options: ServerOptions & { input: string[] }) => {
    const inputs = keyValues(options.input, '--input', '=')
    const execution = await runtimeClient(options).executions.resume(id, inputs)
    if (options.json) return print(execution)
    process.stdout.write(`resumed ${execution.id}: ${execution.state.current}\n`)
  })

  json(
    executions
      .command('kill')
      .description('kill a running or paused execution')
      .argument('<id>', 'the execution id'),
  ).action(async (id: string, options: ServerOptions) => {
    const execution = await runtimeClient(options).executions.kill(id)
    if (options.json) return print(execution)
    process.stdout.write(`killing ${execution.id}: ${execution.state.current}\n`)
  })
}

function logLine(entry: LogEntry): string {
  return `${entry.timestamp}${entry.taskId ? ` [${entry.taskId}]` : ''} ${entry.level}: ${entry.message}`
}

/** `key<separator>value` options as a map; a clear CLI error for one without a key. */
function keyValues(pairs: string[], option: string, separator: string): Record<string, string> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf(separator)
      if (at < 1) throw new UsageError(`${option} must be key${separator}value, got "${pair}"`)
      return [pair.slice(0, at), pair.slice(at + 1)]
    }),
  )
}

function integer(value: string, option: string): number {
  const number = Number(value)
  if (!Number.isInteger(number))
    throw new UsageError(`${option} must be an integer, got "${value}"`)
  return number
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}
