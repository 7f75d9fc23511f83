import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { createServer as createNetServer } from 'node:net'
import type { InstanceConfigInput, KiteServer, NodeRole, Runtime } from '@kite/runtime'
import { type Command, InvalidArgumentError } from 'commander'
import { CliError, UsageError } from '../program.js'
import { stderrLogger, toCliError } from './flow.js'
import { parsePort, parseUrl, portFromEnv, waitForStop } from './options.js'

interface LocalOptions {
  port?: number
  host?: string
  data: string
  config?: string
  flows?: string
  plugin: string[]
  registry?: string
  store?: string
  watch?: boolean
}

/** One role per process in a cluster (SPEC 9), with what it does. */
const ROLES: ReadonlyArray<readonly [NodeRole, string]> = [
  ['api', 'serve the HTTP API and webhooks'],
  ['executor', 'advance executions (each one by one executor at a time)'],
  ['worker', 'claim task runs from the queue and run their plugin code'],
  ['scheduler', 'evaluate triggers (one active scheduler, the others stand by)'],
]

/** `kite server local|standalone`: every role in one process; `kite server <role>`: one role. */
export function registerServerCommand(program: Command): void {
  const server = program.command('server').description('run the Kite runtime')

  withNodeOptions(
    server
      .command('local')
      .alias('standalone')
      .description(
        'start the runtime with every role (API, executor, worker, scheduler) in one process and keep it running until Ctrl-C',
      ),
  )
    .option('--flows <dir>', 'save every flow of this directory at start')
    .option(
      '--watch',
      're-import each --plugin directory when its dist/kite-plugin.json changes (npm run dev), for new executions',
    )
    .action(async (options: LocalOptions) => {
      if (options.watch && options.plugin.length === 0) {
        throw new UsageError('--watch re-imports --plugin directories: name at least one')
      }
      const running = await startServer(options)
      const watches = options.watch ? await watchPlugins(running.runtime, options.plugin) : []
      await waitForStop()
      process.stdout.write('stopping the runtime…\n')
      for (const watch of watches) await watch.close()
      await running.close()
    })

  for (const [role, does] of ROLES) {
    const command = withNodeOptions(
      server
        .command(role)
        .description(
          `${does}: one node of a cluster sharing a PostgreSQL store (--store postgres://… is required); run any number, on any host`,
        ),
      role === 'api',
    )
    if (role === 'api')
      command.option('--flows <dir>', 'save every flow of this directory at start')
    command.action(async (options: LocalOptions) => {
      const running = await startNode(role, options)
      await waitForStop()
      process.stdout.write(`stopping the ${role} node…\n`)
      await running.close()
    })
  }
}

/** The options every server command shares; `--port`/`--host` only where HTTP is served. */
function withNodeOptions(command: Command, http = true): Command {
  if (http) {
    command
      .option(
        '--port <port>',
        'port to listen on (0 picks a free one; default: $KITE_PORT, else 8080)',
        parsePort,
      )
      .option('--host <host>', 'interface to listen on', '127.0.0.1')
  }
  return command
    .option(
      '--data <dir>',
      "where this node's state lives (SQLite, plugin store, internal storage)",
      '.kite/data',
    )
    .option('--config <file>', 'instance configuration (default: ./kite.yaml when present)')
    .option('--plugin <dir>', 'a built local plugin directory (repeatable)', collect, [])
    .option(
      '--registry <url>',
      'the Kite registry the plugin store installs from (recorded as plugins.registry)',
      parseUrl,
    )
    .option(
      '--store <url>',
      "keep executions, flows and the queue in PostgreSQL (postgres://…) instead of the data dir's SQLite (recorded as store.url)",
      parseStoreUrl,
    )
}

/** `kite.yaml` (or `--config`) with `--registry` and `--store` laid over it. */
async function configOf(options: LocalOptions): Promise<InstanceConfigInput> {
  const { loadConfig } = await import('@kite/runtime')
  const configFile = options.config ?? (existsSync('kite.yaml') ? 'kite.yaml' : undefined)
  let config: InstanceConfigInput = {}
  if (configFile) config = await loadConfig(configFile).catch(toCliError)
  if (options.registry)
    config = { ...config, plugins: { ...config.plugins, registry: options.registry } }
  if (options.store) config = { ...config, store: { ...config.store, url: options.store } }
  return config
}

/** A node with one role: the api serves HTTP, the others only work on the shared store. */
async function startNode(
  role: NodeRole,
  options: LocalOptions,
): Promise<{ close(): Promise<void> }> {
  if (role === 'api') return startServer(options, [role])
  const { createRuntime, redactStoreUrl } = await import('@kite/runtime')
  const config = await configOf(options)
  let runtime: Runtime
  try {
    runtime = await createRuntime({
      dataDir: options.data,
      config,
      pluginDirs: options.plugin,
      roles: [role],
      logger: stderrLogger,
    })
  } catch (error) {
    toCliError(error)
  }
  process.stdout.write(
    [
      `Kite ${role} node ${runtime.nodeId} running (ready ${Math.round(process.uptime() * 1000)} ms after the process started)`,
      `  store:   ${redactStoreUrl(runtime.config.store.url ?? '')}`,
      `  data:    ${runtime.dataDir}`,
      ...(role === 'worker' ? [`  slots:   ${runtime.config.worker.slots}`] : []),
      `  plugins: ${pluginList(runtime)}`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  )
  return runtime
}

function pluginList(runtime: Runtime): string {
  return (
    runtime.catalog
      .list()
      .map((plugin) => `${plugin.name}@${plugin.version}`)
      .join(', ') || 'none'
  )
}

/** The refusal of a port another process listens on. */
const portInUse = (port: number, host: string | undefined) =>
  new CliError(
    `port ${port} is in use on ${host}; pick another with --port (or KITE_PORT), or --port 0 for a free one`,
  )

/**
 * Refuses a port in use before the runtime starts, so a refused start warns nothing and leaves no
 * data dir behind (the runtime only listens once it is ready). Another process can still take the
 * port in between: `startServer` then says the same.
 */
async function checkPortFree(port: number, host: string | undefined): Promise<void> {
  if (port === 0) return
  const probe = createNetServer()
  try {
    probe.listen(port, host)
    await once(probe, 'listening')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw portInUse(port, host)
    // Anything else (an unknown host, a port that needs privileges) the runtime reports itself.
  } finally {
    if (probe.listening) await new Promise((resolve) => probe.close(resolve))
  }
}

async function startServer(options: LocalOptions, roles?: NodeRole[]): Promise<KiteServer> {
  const { createServer, redactStoreUrl } = await import('@kite/runtime')
  const config = await configOf(options)
  const port = options.port ?? portFromEnv()
  await checkPortFree(port, options.host)
  let running: KiteServer
  try {
    running = await createServer({
      dataDir: options.data,
      port,
      host: options.host,
      config,
      pluginDirs: options.plugin,
      ...(options.flows ? { flowsDir: options.flows } : {}),
      ...(roles ? { roles } : {}),
      logger: stderrLogger,
    })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw portInUse(port, options.host)
    toCliError(error)
  }
  const flows = await running.runtime.store.listFlows()
  const waiting = running.runtime.pendingFlows()
  process.stdout.write(
    [
      `Kite ${roles ? `${roles.join(', ')} node ${running.runtime.nodeId}` : 'runtime'} running at ${running.url} (ready ${Math.round(process.uptime() * 1000)} ms after the process started)`,
      `  API:     ${running.url}/api/v1`,
      `  OpenAPI: ${running.url}/api/v1/openapi.json`,
      `  data:    ${running.runtime.dataDir}`,
      `  store:   ${running.runtime.config.store.url ? redactStoreUrl(running.runtime.config.store.url) : 'SQLite in the data dir'}`,
      `  flows:   ${flows.length}${waiting.length ? ` (+${waiting.length} waiting for their plugins from the registry)` : ''}`,
      `  plugins: ${pluginList(running.runtime)}`,
      ...(options.registry
        ? [`  registry: ${options.registry} (new versions install as they are published)`]
        : []),
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  )
  return running
}

/** `--watch`: one watch per `--plugin` directory; re-imports are reported on stdout, failures on stderr. */
async function watchPlugins(runtime: Runtime, dirs: readonly string[]) {
  const { watchPluginDirectory } = await import('@kite/runtime')
  const { resolve } = await import('node:path')
  const logger = {
    info: (message: string) => process.stdout.write(`watch: ${message}\n`),
    error: (message: string) => process.stderr.write(`error: ${message}\n`),
  }
  return dirs.map((dir) => {
    const initial = runtime.catalog.list().find((plugin) => plugin.origin === resolve(dir))
    if (!initial) throw new CliError(`--watch: no plugin was loaded from ${dir}`)
    logger.info(`watching ${resolve(dir)} for rebuilds of ${initial.name}`)
    return watchPluginDirectory(dir, initial, { catalog: runtime.catalog, logger })
  })
}

/** `--store`: a postgres:// URL (SQLite is the default and needs no option). */
function parseStoreUrl(value: string): string {
  if (/^postgres(ql)?:\/\/./.test(value)) return value
  throw new InvalidArgumentError(
    `expected a postgres:// URL, got "${value.replace(/:[^:@/]*@/, ':***@')}"`,
  )
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}
