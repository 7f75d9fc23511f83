// The command talks to a runtime over HTTP, it never loads one.
import type { Command } from 'commander'
import { callRuntime, parseUrl, type RuntimeTarget } from './options.js'

interface ServerOptions {
  server: string
  token?: string
  json: boolean
}

interface PluginVersionJson {
  version: string
  types: { type: string; kind: string }[]
}

interface PluginJson {
  name: string
  group?: string
  latestAvailable?: string
  updateAvailable: boolean
  versions: PluginVersionJson[]
}

const DEFAULT_SERVER = 'http://127.0.0.1:8080'

/** `kite plugins list|install|uninstall|resolve` against a running runtime (`--server URL`). */
export function registerPluginsCommand(program: Command): void {
  const plugins = program
    .command('plugins')
    .description("list a runtime's installed plugin versions; install, uninstall, resolve")

  const common = (command: Command) =>
    command
      .option('--server <url>', 'the runtime', parseUrl, DEFAULT_SERVER)
      .option('--token <token>', 'the admin token (default: $KITE_ADMIN_TOKEN)')
      .option('--json', 'print the API answer as JSON', false)

  common(plugins.command('list').description('installed plugins, their versions and types')).action(
    async (options: ServerOptions) => {
      const answer = (await callRuntime(runtimeTarget(options), 'GET', '/plugins')) as {
        results: PluginJson[]
      }
      if (options.json) return print(answer.results)
      if (answer.results.length === 0) return void process.stdout.write('no plugins installed\n')
      for (const plugin of answer.results) {
        const update = plugin.updateAvailable
          ? `  (update available: ${plugin.latestAvailable})`
          : ''
        process.stdout.write(`${plugin.name}  ${plugin.group ?? ''}${update}\n`)
        for (const version of plugin.versions) {
          process.stdout.write(
            `  ${version.version}  ${version.types.map((type) => type.type).join(', ')}\n`,
          )
        }
      }
    },
  )

  common(
    plugins
      .command('install')
      .description('install plugin versions from the registry (name@version, range or tag)')
      .argument('<specs...>', 'e.g. @kite/plugin-http@1.2.0 @acme/kite-plugin-greeting'),
  ).action(async (specs: string[], options: ServerOptions) => {
    const answer = (await callRuntime(runtimeTarget(options), 'POST', '/plugins/install', {
      plugins: specs,
    })) as {
      results: { name: string; version: string; installed: boolean }[]
    }
    if (options.json) return print(answer.results)
    for (const item of answer.results) {
      process.stdout.write(
        `${item.name}@${item.version} ${item.installed ? 'installed' : 'already installed'}\n`,
      )
    }
  })

  common(
    plugins
      .command('uninstall')
      .description('uninstall exact versions (refused while a saved flow uses one, unless --force)')
      .argument('<specs...>', 'e.g. @acme/kite-plugin-greeting@1.0.0')
      .option('--force', 'uninstall even when saved flows resolve to it', false),
  ).action(async (specs: string[], options: ServerOptions & { force: boolean }) => {
    const answer = (await callRuntime(runtimeTarget(options), 'DELETE', '/plugins/uninstall', {
      plugins: specs,
      force: options.force,
    })) as { results: { name: string; version: string }[] }
    if (options.json) return print(answer.results)
    for (const item of answer.results) {
      process.stdout.write(`${item.name}@${item.version} uninstalled\n`)
    }
  })

  common(
    plugins
      .command('resolve')
      .description("what each spec chooses among the registry's versions")
      .argument('<specs...>', 'e.g. @acme/kite-plugin-greeting@^1 @kite/plugin-http@LATEST'),
  ).action(async (specs: string[], options: ServerOptions) => {
    const answer = (await callRuntime(runtimeTarget(options), 'POST', '/plugins/resolve', {
      plugins: specs,
    })) as {
      results: {
        spec: string
        versions: string[]
        installed: string[]
        resolved: string | null
        error?: string
      }[]
    }
    if (options.json) return print(answer.results)
    for (const item of answer.results) {
      const chosen = item.resolved ?? 'no matching version'
      process.stdout.write(
        `${item.spec} → ${chosen}  (registry: ${item.versions.join(', ') || 'none'}; installed: ${item.installed.join(', ') || 'none'})${item.error ? `\n  ${item.error}` : ''}\n`,
      )
    }
  })
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

/** The runtime to call, with the admin token from `--token` or `KITE_ADMIN_TOKEN`. */
function runtimeTarget(options: ServerOptions): RuntimeTarget {
  const token = options.token ?? process.env.KITE_ADMIN_TOKEN
  return token ? { server: options.server, token } : { server: options.server }
}
