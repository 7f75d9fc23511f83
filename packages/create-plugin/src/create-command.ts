import { relative, resolve } from 'node:path'
import type { Readable, Writable } from 'node:stream'
import { note, outro } from '@clack/prompts'
import pkg from '../package.json' with { type: 'json' }
import {
  CONDITION_NAME,
  checkGivenAnswers,
  type PluginAnswers,
  resolveAnswers,
  TRIGGER_NAME,
} from './answers.js'
import { ScaffoldError } from './errors.js'
import { parseCliArgs, USAGE } from './options.js'
import { askQuestions, openQuestions } from './prompts.js'
import { type ScaffoldResult, scaffoldPlugin } from './scaffold.js'
import { checkTargetDir } from './target-dir.js'

export interface CommandIo {
  cwd: string
  env: NodeJS.ProcessEnv
  stdin: Readable & { isTTY?: boolean }
  stdout: Writable
}

export interface CommandResult {
  answers: PluginAnswers
  result: ScaffoldResult
}

/**
 * The whole `create-kite-plugin` command: parse the arguments, ask what they leave open (unless
 * `--yes`), write the package and print the next steps. Throws a {@link ScaffoldError} for
 * anything it refuses; the CLI turns that into one line and exit code 1.
 */
export async function runCreateCommand(
  argv: string[],
  io: CommandIo,
): Promise<CommandResult | undefined> {
  const options = parseCliArgs(argv, io.env)
  const print = (line: string) => io.stdout.write(`${line}\n`)
  if (options.help) {
    print(USAGE)
    return undefined
  }
  if (options.version) {
    print(pkg.version)
    return undefined
  }
  checkGivenAnswers(options.answers)
  if (options.answers.dir !== undefined) {
    const problem = checkTargetDir(resolve(io.cwd, options.answers.dir))
    if (problem) throw new ScaffoldError(problem, { code: 'DIR_NOT_EMPTY' })
  }
  const interactive = !options.yes && openQuestions(options.answers).length > 0
  if (interactive && !io.stdin.isTTY) {
    throw new ScaffoldError(
      'no terminal to ask questions on: pass --yes to take the defaults (with --group, --name... to choose)',
      { code: 'NOT_INTERACTIVE' },
    )
  }
  const given = interactive
    ? await askQuestions(options.answers, { cwd: io.cwd, input: io.stdin, output: io.stdout })
    : options.answers
  const answers = resolveAnswers(given)
  const result = await scaffoldPlugin(answers, { cwd: io.cwd })

  const summary = describe(answers, options.registrySource)
  const steps = nextSteps(relative(io.cwd, result.dir) || '.')
  if (interactive) {
    note(`${summary}\n\nNext:\n${steps}`, `Created ${answers.packageName}`, { output: io.stdout })
    outro('Happy building!', { output: io.stdout })
  } else {
    print(`Created ${answers.packageName} in ${result.dir}\n${summary}\n\nNext:\n${steps}`)
  }
  return { answers, result }
}

function describe(answers: PluginAnswers, registrySource: 'npm' | undefined): string {
  const types = [
    `task ${answers.group}.${answers.task.name}`,
    ...(answers.trigger ? [`trigger ${answers.group}.${TRIGGER_NAME}`] : []),
    ...(answers.condition ? [`condition ${answers.group}.${CONDITION_NAME}`] : []),
  ]
  const registry = answers.registry
    ? `registry ${answers.registry}${registrySource === 'npm' ? ' (the one npm create used; --registry picks another)' : ''}`
    : 'no Kite registry yet: see .npmrc'
  return `group ${answers.group}: ${types.join(', ')}\n${registry}`
}

function nextSteps(dir: string): string {
  return [
    dir === '.' ? undefined : `  cd ${/^[\w./@-]+$/.test(dir) ? dir : JSON.stringify(dir)}`,
    '  npm install',
    '  npm test',
    '  npm run build',
    '  npm publish',
  ]
    .filter(Boolean)
    .join('\n')
}
