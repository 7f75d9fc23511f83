import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { type FlowValidation, isKiteClientError, type KiteClient } from '@kite/client'
// Types only at the top: the runtime loads when a flow command runs, not for every `kite` command.
import type {
  Execution,
  RuntimeError,
  RuntimeLogger,
  ValidatedFlow,
  ValidationIssue,
} from '@kite/runtime'
import type { Command } from 'commander'
import { CliError, UsageError } from '../program.js'
import { parseInputs, parseUrl, runtimeClient, withServerOption } from './options.js'

interface FlowOptions {
  plugin: string[]
  config?: string
  server?: string
}

interface SchemaOptions extends FlowOptions {
  output?: string
}

interface RunOptions extends FlowOptions {
  input: string[]
  data?: string
  logs: boolean
}

const SERVER_HELP = 'do it on this runtime (http URL) instead of in this process'

/** `kite flow validate|run|save|schema`: in this process, or on a runtime with `--server`. */
export function registerFlowCommand(program: Command): void {
  const flow = program
    .command('flow')
    .description('validate, save and run flows, here or on a runtime (--server)')

  flow
    .command('validate')
    .description('check a flow: YAML, structure, plugin versions and properties')
    .argument('<file>', 'the flow YAML')
    .option('--plugin <dir>', 'a built local plugin directory (repeatable)', collect, [])
    .option('--config <file>', 'instance configuration (kite.yaml)')
    .option('--server <url>', SERVER_HELP, parseUrl)
    .action(async (file: string, options: FlowOptions) => {
      const source = await readSource(file)
      if (options.server) {
        localOnly(options, '--plugin', '--config')
        const validated = await runtimeClient(options)
          .flows.validate(source)
          .catch((error: unknown) => clientCliError(error, file))
        printWarnings(file, validated.warnings)
        process.stdout.write(
          `✓ ${display(file)}: flow ${validated.namespace}/${validated.id} is valid on ${options.server} (${validated.plugins.length} plugin task${validated.plugins.length === 1 ? '' : 's'})\n`,
        )
        for (const line of remotePluginLines(validated.plugins)) process.stdout.write(`  ${line}\n`)
        return
      }
      const { createFlowValidator } = await import('@kite/runtime')
      const validator = await createFlowValidator({
        pluginDirs: options.plugin,
        ...(options.config ? { config: options.config } : {}),
      }).catch(toCliError)
      let validated: ValidatedFlow
      try {
        validated = validator.validate(source)
      } catch (error) {
        throw localCliError(error, file, options.plugin)
      }
      const { flow: parsed } = validated
      printWarnings(file, validated.warnings)
      process.stdout.write(
        `✓ ${display(file)}: flow ${parsed.namespace}/${parsed.id} is valid (${validated.tasks.size} plugin task${validated.tasks.size === 1 ? '' : 's'})\n`,
      )
      for (const line of pluginLines(validated)) process.stdout.write(`  ${line}\n`)
    })

  flow
    .command('run')
    .description('run a flow once and print its task runs (exit 0 on SUCCESS)')
    .argument('<file>', 'the flow YAML')
    .option('--input <key=value>', 'an input (repeatable); @path reads a file', collect, [])
    .option('--plugin <dir>', 'a built local plugin directory (repeatable)', collect, [])
    .option('--config <file>', 'instance configuration (kite.yaml)')
    .option('--data <dir>', 'keep state in this directory (default: a temporary one)')
    .option('--no-logs', 'do not print log lines as they come')
    .option('--server <url>', 'save the flow on this runtime and run it there', parseUrl)
    .action(async (file: string, options: RunOptions) => {
      const source = await readSource(file)
      const inputs = await parseInputs(options.input)
      if (options.server) {
        localOnly(options, '--plugin', '--config', '--data')
        return runOnServer(runtimeClient(options), file, source, inputs, options.logs)
      }
      const dataDir = options.data ?? (await mkdtemp(join(tmpdir(), 'kite-flow-run-')))
      const { createRuntime, UploadedFile } = await import('@kite/runtime')
      const runtime = await createRuntime({
        dataDir,
        pluginDirs: options.plugin,
        ...(options.config ? { config: options.config } : {}),
        logger: stderrLogger,
        // One run, not a server: the flows saved in --data must not fire their triggers here.
        scheduler: false,
      }).catch(toCliError)
      try {
        const saved = await runtime.engine.saveFlow(source).catch((error: unknown) => {
          throw localCliError(error, file, options.plugin)
        })
        printWarnings(file, saved.validated.warnings)
        const started = await runtime.engine
          .start({
            namespace: saved.flow.namespace,
            flowId: saved.flow.id,
            inputs: await uploadedFiles(inputs, UploadedFile),
          })
          .catch((error: unknown) => {
            throw toCliError(error, file)
          })
        process.stdout.write(
          `execution ${started.id} of ${saved.flow.namespace}/${saved.flow.id} (revision ${saved.revision})\n`,
        )
        const unsubscribe = runtime.engine.subscribe(started.id, (event) => {
          if (event.type === 'log' && options.logs) {
            const { entry } = event
            process.stdout.write(
              `  [${entry.taskId ?? 'execution'}] ${entry.level}: ${entry.message}\n`,
            )
          }
          if (event.type === 'state' && event.state === 'PAUSED') {
            process.stdout.write('  execution paused (kite.flow.Pause): press Ctrl-C to stop it\n')
          }
        })
        const interrupt = () => {
          runtime.engine.kill(started.id).catch(() => {})
        }
        process.once('SIGINT', interrupt)
        let execution: Execution
        try {
          execution = await runtime.engine.waitFor(started.id)
        } finally {
          process.off('SIGINT', interrupt)
          unsubscribe()
        }
        printExecution(execution)
        if (execution.state.current !== 'SUCCESS') process.exitCode = 1
      } finally {
        await runtime.close()
        if (!options.data) await rm(dataDir, { recursive: true, force: true })
      }
    })

  registerServerCommands(flow)
}

/** `kite flow save FILE` and `kite flow schema`, registered on the `flow` command. */
function registerServerCommands(flow: Command): void {
  withServerOption(
    flow
      .command('save')
      .description('save a flow on a runtime (a new revision when it exists)')
      .argument('<file>', 'the flow YAML'),
  ).action(async (file: string, options: { server?: string }) => {
    const source = await readSource(file)
    const client = runtimeClient(options)
    const saved = await client.flows
      .save(source)
      .catch((error: unknown) => clientCliError(error, file))
    printWarnings(file, saved.warnings)
    process.stdout.write(
      `✓ ${display(file)}: saved flow ${saved.namespace}/${saved.id} revision ${saved.revision} on ${client.server}\n`,
    )
    for (const line of remotePluginLines(saved.plugins ?? [])) process.stdout.write(`  ${line}\n`)
  })

  flow
    .command('schema')
    .description(
      "write the flow JSON Schema (for editors' YAML language server): a runtime's, or that of --plugin directories",
    )
    .option('--server <url>', 'the runtime whose installed plugins the schema describes', parseUrl)
    .option('--plugin <dir>', 'a built local plugin directory (repeatable)', collect, [])
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action(async (options: SchemaOptions) => {
      if (options.server && options.plugin.length > 0) {
        throw new UsageError('give --server or --plugin directories, not both')
      }
      let schema: Record<string, unknown>
      if (options.plugin.length > 0) {
        const { createFlowValidator, flowJsonSchema, schemaTypesOf } = await import('@kite/runtime')
        const { catalog } = await createFlowValidator({ pluginDirs: options.plugin }).catch(
          toCliError,
        )
        schema = flowJsonSchema(schemaTypesOf(catalog))
      } else {
        schema = await runtimeClient(options).flows.schema()
      }
      const text = `${JSON.stringify(schema, null, 2)}\n`
      if (!options.output) return void process.stdout.write(text)
      try {
        await writeFile(options.output, text)
      } catch (error) {
        throw new CliError(`cannot write ${options.output}: ${(error as Error).message}`, 1)
      }
      process.stdout.write(`✓ wrote the flow JSON Schema to ${display(options.output)}\n`)
    })
}

/** Saves the flow on a runtime, starts it there and follows it, like a local run. */
async function runOnServer(
  client: KiteClient,
  file: string,
  source: string,
  inputs: Record<string, unknown>,
  logs: boolean,
): Promise<void> {
  const saved = await client.flows
    .save(source)
    .catch((error: unknown) => clientCliError(error, file))
  printWarnings(file, saved.warnings)
  const started = await client.executions
    .start(saved.namespace, saved.id, { inputs })
    .catch((error: unknown) => clientCliError(error, file))
  process.stdout.write(
    `execution ${started.id} of ${saved.namespace}/${saved.id} (revision ${saved.revision}) on ${client.server}\n`,
  )
  const interrupt = () => {
    client.executions.kill(started.id).catch(() => {})
  }
  process.once('SIGINT', interrupt)
  try {
    for await (const event of client.executions.follow(started.id)) {
      if (event.type === 'log' && logs) {
        const { log } = event
        process.stdout.write(`  [${log.taskId ?? 'execution'}] ${log.level}: ${log.message}\n`)
      }
      if (event.type === 'state' && event.state === 'PAUSED') {
        process.stdout.write('  execution paused (kite.flow.Pause): press Ctrl-C to stop it\n')
      }
    }
  } finally {
    process.off('SIGINT', interrupt)
  }
  const execution = await client.executions.get(started.id)
  printExecution(execution)
  if (execution.state.current !== 'SUCCESS') process.exitCode = 1
}

/** Refuses local-only options next to `--server`. */
function localOnly(options: object, ...flags: string[]): void {
  const values = options as Record<string, unknown>
  for (const flag of flags) {
    const key = flag.slice(2)
    const value = values[key]
    if (value !== undefined && !(Array.isArray(value) && value.length === 0)) {
      throw new CliError(
        `${flag} applies to a local run; with --server the runtime's own is used`,
        2,
      )
    }
  }
}

/** One line per resolved plugin task, from the runtime's answer. */
function remotePluginLines(plugins: FlowValidation['plugins']): string[] {
  return plugins.map(
    (item) =>
      `${item.taskId}: ${item.type} → ${item.package}@${item.version} (version "${item.versionSpec}", decided by ${item.decidedBy})`,
  )
}

/** A runtime's answer as a CLI error: flow problems `FILE:LINE:COL: message`, exit code 2. */
export function clientCliError(error: unknown, file: string): never {
  if (!isKiteClientError(error) || error.code === 'UNREACHABLE') throw error
  const headline =
    error.errors.length > 0 ? error.message.split(': ').slice(0, 2).join(': ') : error.message
  throw problems(
    { headline, code: error.code, user: error.kind === 'user', issues: error.errors },
    file,
  )
}

/** Prints the task runs, their states and outputs, then the execution's outcome. */
export function printExecution(execution: Execution): void {
  const rows = execution.taskRunList.map((run) => {
    const depth = depthOf(run, execution)
    const version = run.pluginVersion ? `@${run.pluginVersion}` : ''
    const value = run.value === undefined ? '' : ` [${JSON.stringify(run.value)}]`
    return {
      name: `${'  '.repeat(depth)}${run.taskId}${value}`,
      type: `${run.type}${version}`,
      state: run.state.current,
      duration: run.state.duration === undefined ? '' : `${run.state.duration} ms`,
      run,
    }
  })
  const width = (key: 'name' | 'type' | 'state') =>
    Math.max(...rows.map((row) => row[key].length), 0)
  const [name, type, state] = [width('name'), width('type'), width('state')]
  process.stdout.write('\ntask runs:\n')
  for (const row of rows) {
    process.stdout.write(
      `  ${mark(row.state)} ${row.name.padEnd(name)}  ${row.type.padEnd(type)}  ${row.state.padEnd(state)}  ${row.duration}\n`,
    )
    if (row.run.outputs && Object.keys(row.run.outputs).length > 0) {
      process.stdout.write(`      outputs: ${JSON.stringify(row.run.outputs)}\n`)
    }
    if (row.run.error) process.stdout.write(`      error: ${row.run.error}\n`)
  }
  if (execution.outputs && Object.keys(execution.outputs).length > 0) {
    process.stdout.write(`\nflow outputs: ${JSON.stringify(execution.outputs)}\n`)
  }
  if (execution.error) process.stdout.write(`\nerror: ${execution.error}\n`)
  const duration =
    execution.state.duration === undefined ? '' : ` in ${execution.state.duration} ms`
  process.stdout.write(`\n${mark(execution.state.current)} ${execution.state.current}${duration}\n`)
}

function depthOf(run: Execution['taskRunList'][number], execution: Execution): number {
  let depth = 0
  let parent = run.parentTaskRunId
  while (parent !== undefined && depth < 50) {
    depth++
    parent = execution.taskRunList.find((item) => item.id === parent)?.parentTaskRunId
  }
  return depth
}

function mark(state: string): string {
  if (state === 'SUCCESS') return '✓'
  if (state === 'WARNING' || state === 'SKIPPED') return '!'
  if (state === 'FAILED' || state === 'KILLED') return '✗'
  return '…'
}

/** One line per resolved plugin task: which version and why. */
function pluginLines(validated: ValidatedFlow): string[] {
  return [...validated.tasks.values()].map(
    ({ task, resolved }) =>
      `${task.id}: ${resolved.type} → ${resolved.package}@${resolved.version} (version "${resolved.versionSpec}", decided by ${resolved.decidedBy})`,
  )
}

function isRuntimeError(error: unknown): error is RuntimeError {
  return (
    error instanceof Error &&
    error.name === 'RuntimeError' &&
    typeof (error as Partial<RuntimeError>).code === 'string' &&
    Array.isArray((error as Partial<RuntimeError>).issues)
  )
}

/** Warnings of a valid flow on stderr, `FILE:LINE:COL: warning: message` like errors. */
function printWarnings(file: string, warnings: readonly ValidationIssue[] = []): void {
  for (const warning of warnings) {
    const where =
      warning.line === undefined
        ? `${display(file)}: `
        : `${display(file)}:${warning.line}:${warning.column ?? 1}: `
    process.stderr.write(
      `${where}warning: ${warning.path ? `${warning.path}: ` : ''}${warning.message}\n`,
    )
  }
}

function formatIssue(issue: ValidationIssue): string {
  const where = issue.line === undefined ? issue.path : `${issue.path} (line ${issue.line})`
  return where ? `${where}: ${issue.message}` : issue.message
}

/**
 * `toCliError` for a flow checked in this process: when no `--plugin` was given and a type is
 * unknown, it says that nothing is installed here, first-party plugins included.
 */
function localCliError(error: unknown, file: string, plugins: readonly string[]): never {
  try {
    toCliError(error, file)
  } catch (cliError) {
    if (
      plugins.length > 0 ||
      !(cliError instanceof CliError) ||
      !cliError.message.includes('(installed groups: none)')
    ) {
      throw cliError
    }
    throw new CliError(
      `${cliError.message}\nhint: without --server the flow is checked against the --plugin directories alone, and none was given (first-party ones too: \`npm install @kite/plugin-core\`, then --plugin node_modules/@kite/plugin-core); --server URL checks it on a runtime with the plugins it has installed`,
      cliError.exitCode,
    )
  }
}

/** Turns a runtime error into a CLI error: validation problems one per line, exit code 2. */
export function toCliError(error: unknown, file?: string): never {
  if (isRuntimeError(error)) {
    const usage =
      error.kind === 'user' &&
      [
        'FLOW_INVALID',
        'INPUTS_INVALID',
        'CONFIG_INVALID',
        'PLUGIN_INVALID',
        'PLUGIN_CONFLICT',
      ].includes(error.code)
    const headline = error.issues.length > 0 ? (error.message.split(': ')[0] ?? '') : error.message
    throw problems({ headline, code: error.code, user: usage, issues: error.issues }, file)
  }
  throw error
}

interface Problems {
  headline: string
  code: string
  /** The caller's mistake: exit code 2. */
  user: boolean
  issues: readonly ValidationIssue[]
}

/** Problems one per line, `FILE:LINE:COL: message` when a flow file has positions. */
function problems({ headline, code, user, issues }: Problems, file?: string): CliError {
  const flowFile = file && code === 'FLOW_INVALID' ? display(file) : undefined
  const where = flowFile ? `${flowFile}: ` : ''
  const count = `${issues.length} problem${issues.length === 1 ? '' : 's'}`
  // `FILE:LINE:COL: message`, one per line, the form editors and terminals link to.
  const located = (issue: ValidationIssue) =>
    flowFile && issue.line !== undefined
      ? `${flowFile}:${issue.line}:${issue.column ?? 1}: ${issue.path ? `${issue.path}: ` : ''}${issue.message}`
      : `  ${formatIssue(issue)}`
  const message =
    issues.length > 0
      ? `${where}${headline}: ${count}\n${issues.map(located).join('\n')}`
      : `${where}${headline}`
  return user ? new UsageError(message) : new CliError(message)
}

async function readSource(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`)
  }
}

/** `--input f=@path` files as the runtime takes them in process (no upload). */
async function uploadedFiles(
  inputs: Record<string, unknown>,
  Uploaded: typeof import('@kite/runtime').UploadedFile,
): Promise<Record<string, unknown>> {
  const converted: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(inputs)) {
    converted[key] =
      value instanceof File
        ? new Uploaded(value.name, new Uint8Array(await value.arrayBuffer()))
        : value
  }
  return converted
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

function display(file: string): string {
  const path = relative(process.cwd(), file)
  return path.startsWith('..') ? file : path
}

/** Where the runtime's own messages go: stderr, warnings and errors only. */
export const stderrLogger: RuntimeLogger = {
  debug() {},
  info() {},
  warn: (message) => process.stderr.write(`warn: ${message}\n`),
  error: (message) => process.stderr.write(`error: ${message}\n`),
}
