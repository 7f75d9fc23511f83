import { parseArgs } from 'node:util'
import type { PartialAnswers } from './answers.js'
import { ScaffoldError } from './errors.js'

export const USAGE = `Usage: npm create kite-plugin@latest [dir] -- [options]
       create-kite-plugin [dir] [options]

Writes a Kite plugin package into dir (new or empty). Asks for whatever the options leave open;
--yes takes the defaults instead.

Options:
  --group G          plugin group, e.g. acme.pokemon (default: from the package name)
  --name PKG         npm package name (default: @<first group segment>/kite-plugin-<rest>)
  --task Name        the first task's name, PascalCase (default: Hello)
  --description D    what the first task does
  --[no-]trigger     add an example polling trigger (default: yes)
  --[no-]condition   add an example condition (default: yes)
  --registry URL     the Kite registry: .npmrc and publishConfig point at it (default: the
                     registry npm create itself used, unless that is the public npm registry)
  -y, --yes          no questions: defaults for everything not given
  -h, --help         this help
  -v, --version      create-kite-plugin's version`

/** What the command line asked for. */
export interface CliOptions {
  answers: PartialAnswers
  yes: boolean
  help: boolean
  version: boolean
  /** Where the registry answer came from, when it was not `--registry`. */
  registrySource?: 'npm'
}

const PUBLIC_REGISTRY = /^https?:\/\/registry\.npmjs\.(org|com)\/?$/

/**
 * Parses the scaffolder's arguments. `npm create kite-plugin --registry URL` sets
 * `npm_config_registry` for the command it runs: that registry becomes the plugin's registry
 * too, unless it is the public npm registry or `--registry` says otherwise.
 */
export function parseCliArgs(argv: string[], env: NodeJS.ProcessEnv = {}): CliOptions {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (error) {
    throw new ScaffoldError(`${(error as Error).message} (see --help)`, { code: 'USAGE' })
  }
  const { values, positionals } = parsed
  if (positionals.length > 1) {
    throw new ScaffoldError(
      `one directory at most, got ${positionals.map((p) => `"${p}"`).join(', ')} (see --help)`,
      { code: 'USAGE' },
    )
  }
  const fromNpm = env.npm_config_registry
  const npmRegistry = fromNpm && !PUBLIC_REGISTRY.test(fromNpm) ? fromNpm : undefined
  const registry = values.registry ?? npmRegistry
  const answers: PartialAnswers = {
    ...defined('dir', positionals[0]),
    ...defined('group', values.group),
    ...defined('packageName', values.name),
    ...defined('taskName', values.task),
    ...defined('taskDescription', values.description),
    ...defined('trigger', values.trigger),
    ...defined('condition', values.condition),
    ...defined('registry', registry),
  }
  return {
    answers,
    yes: values.yes ?? false,
    help: values.help ?? false,
    version: values.version ?? false,
    ...(values.registry === undefined && npmRegistry ? { registrySource: 'npm' as const } : {}),
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    allowNegative: true,
    strict: true,
    options: {
      group: { type: 'string' },
      name: { type: 'string' },
      task: { type: 'string' },
      description: { type: 'string' },
      trigger: { type: 'boolean' },
      condition: { type: 'boolean' },
      registry: { type: 'string' },
      yes: { type: 'boolean', short: 'y' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  })
}

function defined<K extends keyof PartialAnswers>(
  key: K,
  value: PartialAnswers[K] | undefined,
): Partial<PartialAnswers> {
  return value === undefined ? {} : { [key]: value }
}
