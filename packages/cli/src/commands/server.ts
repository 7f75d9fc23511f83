import { existsSync } from 'node:fs'
import type { InstanceConfigInput, KiteServer } from '@kite/runtime'
import { type Command, InvalidArgumentError } from 'commander'
import { CliError } from '../program.js'
import { stderrLogger, toCliError } from './flow.js'
import { parsePort, parseUrl, portFromEnv, waitForStop } from './options.js'

interface LocalOptions {
  port?: number
  host: string
  data: string
  config?: string
  flows?: string
  plugin: string[]
  registry?: string
  store?: string
}

/** `kite server local`: the runtime with its API, in one process. */
export function registerServerCommand(program: Command): void {
  const server = program.command('server').description('run the Kite runtime')

  server
    .command('local')
    .description('start the runtime (API, executor, storage) and keep it running until Ctrl-C')
    .option(
      '--port <port>',
      'port to listen on (0 picks a free one; default: $KITE_PORT, else 8080)',
      parsePort,
    )
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--data <dir>', 'where state lives (SQLite, internal storage)', '.kite/data')
    .option('--config <file>', 'instance configuration (default: ./kite.yaml when present)')
    .option('--flows <dir>', 'save every flow of this directory at start')
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
    .action(async (options: LocalOptions) => {
      const running = await startServer(options)
      await waitForStop()
      process.stdout.write('stopping the runtime…\n')
      await running.close()
    })
}

async function startServer(options: LocalOptions): Promise<KiteServer> {
  const { createServer, loadConfig, redactStoreUrl } = await import('@kite/runtime')
  const configFile = options.config ?? (existsSync('kite.yaml') ? 'kite.yaml' : undefined)
  let config: InstanceConfigInput = {}
  if (configFile) config = await loadConfig(configFile).catch(toCliError)
  if (options.registry)
    config = { ...config, plugins: { ...config.plugins, registry: options.registry } }
  if (options.store) config = { ...config, store: { ...config.store, url: options.store } }
  const port = options.port ?? portFromEnv()
  let running: KiteServer
  try {
    running = await createServer({
      dataDir: options.data,
      port,
      host: options.host,
      config,
      pluginDirs: options.plugin,
      ...(options.flows ? { flowsDir: options.flows } : {}),
      logger: stderrLogger,
    })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new CliError(
        `port ${port} is in use on ${options.host}; pick another with --port (or KITE_PORT)`,
      )
    }
    toCliError(error)
  }
  const flows = await running.runtime.store.listFlows()
  const waiting = running.runtime.pendingFlows()
  const plugins = running.runtime.catalog.list()
  process.stdout.write(
    [
      `Kite runtime running at ${running.url} (ready ${Math.round(process.uptime() * 1000)} ms after the process started)`,
      `  API:     ${running.url}/api/v1`,
      `  OpenAPI: ${running.url}/api/v1/openapi.json`,
      `  data:    ${running.runtime.dataDir}`,
      `  store:   ${running.runtime.config.store.url ? redactStoreUrl(running.runtime.config.store.url) : 'SQLite in the data dir'}`,
      `  flows:   ${flows.length}${waiting.length ? ` (+${waiting.length} waiting for their plugins from the registry)` : ''}`,
      `  plugins: ${plugins.map((plugin) => `${plugin.name}@${plugin.version}`).join(', ') || 'none'}`,
      ...(options.registry
        ? [`  registry: ${options.registry} (new versions install as they are published)`]
        : []),
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  )
  return running
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
