// The command talks to a runtime over HTTP through @kite/client, it never loads one.
import type { Command } from 'commander'
import { runtimeClient, withServerOption } from './options.js'

interface ServerOptions {
  server?: string
  token?: string
  json: boolean
}

/** `kite plugins list|install|uninstall|resolve|upgrade` against a running runtime. */
export function registerPluginsCommand(program: Command): void {
  const plugins = program
    .command('plugins')
    .description("list a runtime's installed plugin versions; install, uninstall, resolve")

  const common = (command: Command) =>
    withServerOption(command).option('--json', 'print the API answer as JSON', false)

  common(plugins.command('list').description('installed plugins, their versions and types')).action(
    async (options: ServerOptions) => {
      const { results } = await runtimeClient(options).plugins.list()
      if (options.json) return print(results)
      if (results.length === 0) return void process.stdout.write('no plugins installed\n')
      for (const plugin of results) {
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
    const { results } = await runtimeClient(options).plugins.install(specs)
    if (options.json) return print(results)
    for (const item of results) {
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
    const { results } = await runtimeClient(options).plugins.uninstall(specs, {
      force: options.force,
    })
    if (options.json) return print(results)
    for (const item of results) process.stdout.write(`${item.name}@${item.version} uninstalled\n`)
  })

  common(
    plugins
      .command('resolve')
      .description("what each spec chooses among the registry's versions")
      .argument('<specs...>', 'e.g. @acme/kite-plugin-greeting@^1 @kite/plugin-http@LATEST'),
  ).action(async (specs: string[], options: ServerOptions) => {
    const { results } = await runtimeClient(options).plugins.resolve(specs)
    if (options.json) return print(results)
    for (const item of results) {
      const chosen = item.resolved ?? 'no matching version'
      process.stdout.write(
        `${item.spec} → ${chosen}  (registry: ${item.versions.join(', ') || 'none'}; installed: ${item.installed.join(', ') || 'none'})${item.error ? `\n  ${item.error}` : ''}\n`,
      )
    }
  })

  common(
    plugins
      .command('upgrade')
      .description(
        'move saved flows to an installed version with its migrations (a dry run unless --apply)',
      )
      .argument('<name>', 'the plugin package, e.g. @acme/kite-plugin-greeting')
      .requiredOption('--to <version>', 'the exact installed version to move to')
      .option('--namespace <namespace>', 'only the flows of this namespace')
      .option('--apply', 'save a new revision of every flow that is not blocked', false),
  ).action(
    async (
      name: string,
      options: ServerOptions & { to: string; namespace?: string; apply: boolean },
    ) => {
      const answer = await runtimeClient(options).plugins.upgrade({
        plugin: name,
        to: options.to,
        apply: options.apply,
        ...(options.namespace ? { namespace: options.namespace } : {}),
      })
      if (options.json) return print(answer)
      if (answer.flows.length === 0) {
        return void process.stdout.write(`no saved flow uses ${name}\n`)
      }
      for (const flow of answer.flows) {
        const saved = flow.revision === undefined ? '' : ` (saved revision ${flow.revision})`
        process.stdout.write(`${flow.namespace}/${flow.id}: ${flow.status}${saved}\n`)
        for (const task of flow.tasks) {
          const why = task.reason
            ? `: ${task.reason}`
            : task.notes?.length
              ? `: ${task.notes.join('; ')}`
              : ''
          process.stdout.write(`  ${task.id} (${task.type} ${task.from}): ${task.status}${why}\n`)
        }
        if (flow.reason) process.stdout.write(`  blocked: ${flow.reason}\n`)
        if (flow.diff) process.stdout.write(`${flow.diff.replace(/^/gm, '    ')}\n`)
      }
      if (!answer.applied) process.stdout.write('dry run: nothing saved (add --apply to save)\n')
    },
  )
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}
