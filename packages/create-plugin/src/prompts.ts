import { resolve } from 'node:path'
import type { Readable, Writable } from 'node:stream'
import { confirm, intro, isCancel, text } from '@clack/prompts'
import {
  CONDITION_NAME,
  checkTaskName,
  DEFAULT_TASK,
  defaultDir,
  defaultGroup,
  defaultPackageName,
  type PartialAnswers,
  TRIGGER_NAME,
} from './answers.js'
import { ScaffoldError } from './errors.js'
import { checkGroup, checkPackageName } from './names.js'
import { checkTargetDir } from './target-dir.js'

export interface PromptOptions {
  /** Resolves the directory answer (default: the current directory). */
  cwd?: string
  /** Where keypresses come from (default: stdin). Tests feed a stream. */
  input?: Readable
  /** Where the questions are drawn (default: stdout). */
  output?: Writable
}

/** The questions still open given the answers so far, in the order they are asked. */
export function openQuestions(answers: PartialAnswers): Array<keyof PartialAnswers> {
  const order: Array<keyof PartialAnswers> = [
    'dir',
    'group',
    'packageName',
    'taskName',
    'taskDescription',
    'trigger',
    'condition',
  ]
  return order.filter((key) => answers[key] === undefined)
}

/**
 * Asks, with @clack/prompts, every question the answers so far leave open, each with its default
 * shown; Enter takes the default. Ctrl-C throws a `CANCELLED` {@link ScaffoldError}.
 */
export async function askQuestions(
  given: PartialAnswers,
  options: PromptOptions = {},
): Promise<PartialAnswers> {
  const io = { input: options.input, output: options.output }
  const cwd = options.cwd ?? process.cwd()
  const answers: PartialAnswers = { ...given }
  const open = new Set(openQuestions(given))
  intro('create-kite-plugin', io)

  const ask = async (
    message: string,
    fallback: string,
    check: (value: string) => string | undefined,
  ): Promise<string> => {
    const value = await text({
      ...io,
      message,
      placeholder: fallback,
      defaultValue: fallback,
      validate: (input) => check(input?.trim() || fallback),
    })
    if (isCancel(value)) throw cancelled()
    return value.trim() || fallback
  }
  const yesNo = async (message: string): Promise<boolean> => {
    const value = await confirm({ ...io, message, initialValue: true })
    if (isCancel(value)) throw cancelled()
    return value
  }

  if (open.has('dir')) {
    answers.dir = await ask('Where should the plugin go?', defaultDir(answers), (dir) =>
      checkTargetDir(resolve(cwd, dir)),
    )
  }
  if (open.has('group')) {
    answers.group = await ask(
      'Plugin group (types are named <group>.<Name>)',
      defaultGroup(answers) ?? 'acme.example',
      checkGroup,
    )
  }
  if (open.has('packageName')) {
    answers.packageName = await ask(
      'npm package name',
      defaultPackageName(answers) ?? 'kite-plugin-example',
      checkPackageName,
    )
  }
  if (open.has('taskName')) {
    answers.taskName = await ask('Name of the first task (PascalCase)', DEFAULT_TASK.name, (name) =>
      checkTaskName(name, answers),
    )
  }
  if (open.has('taskDescription')) {
    answers.taskDescription = await ask(
      'What does it do? (one sentence)',
      DEFAULT_TASK.description,
      () => undefined,
    )
  }
  if (open.has('trigger')) {
    answers.trigger = await yesNo(`Add an example polling trigger (${TRIGGER_NAME})?`)
  }
  if (open.has('condition')) {
    answers.condition = await yesNo(`Add an example condition (${CONDITION_NAME})?`)
  }
  return answers
}

function cancelled(): ScaffoldError {
  return new ScaffoldError('cancelled: nothing was written', { code: 'CANCELLED' })
}
