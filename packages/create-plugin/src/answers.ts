import { ScaffoldError, type ScaffoldErrorCode } from './errors.js'
import {
  checkGroup,
  checkPackageName,
  checkTypeName,
  dirFromPackageName,
  groupFromPackageName,
  identifiersFor,
  packageNameFromDir,
  packageNameFromGroup,
} from './names.js'

/** Everything the scaffolder needs to write a plugin package. */
export interface PluginAnswers {
  /** Where to write the package (relative to the working directory, or absolute). */
  dir: string
  /** The npm package name, e.g. `@acme/kite-plugin-pokemon`. */
  packageName: string
  /** The plugin group, e.g. `acme.pokemon`. */
  group: string
  /** The first task. */
  task: { name: string; description: string }
  /** Whether to add the example polling trigger. */
  trigger: boolean
  /** Whether to add the example condition. */
  condition: boolean
  /** The Kite registry's URL; when set, `.npmrc` and `publishConfig` point at it. */
  registry?: string
}

/** Answers given so far (flags, prompts); anything missing gets a default. */
export interface PartialAnswers {
  dir?: string
  packageName?: string
  group?: string
  taskName?: string
  taskDescription?: string
  trigger?: boolean
  condition?: boolean
  registry?: string
}

export const DEFAULT_DIR = 'kite-plugin-hello'
export const DEFAULT_TASK = { name: 'Hello', description: 'Greets someone by name.' }
/** The example trigger's and condition's names; the task may not take either. */
export const TRIGGER_NAME = 'NewItems'
export const CONDITION_NAME = 'Contains'

/**
 * The default group: from the package name when there is one, else from the directory
 * (`my-plugin` → `community.my-plugin`).
 */
export function defaultGroup(answers: PartialAnswers): string | undefined {
  const name = answers.packageName ?? packageNameFromDir(answers.dir ?? DEFAULT_DIR)
  return name ? groupFromPackageName(name) : undefined
}

/**
 * The default package name: from the group when one was chosen (`acme.pokemon` →
 * `@acme/kite-plugin-pokemon`), else from the directory (`my-plugin` → `kite-plugin-my-plugin`).
 */
export function defaultPackageName(answers: PartialAnswers): string | undefined {
  if (answers.group) return packageNameFromGroup(answers.group)
  return packageNameFromDir(answers.dir ?? DEFAULT_DIR)
}

/** The default directory: the package name without its scope, else `kite-plugin-hello`. */
export function defaultDir(answers: PartialAnswers): string {
  const name = answers.packageName ?? (answers.group && packageNameFromGroup(answers.group))
  return name ? dirFromPackageName(name) : DEFAULT_DIR
}

/**
 * Fills every missing answer with its default and checks the result, throwing a
 * {@link ScaffoldError} that names the first problem and what to pass instead.
 */
export function resolveAnswers(partial: PartialAnswers): PluginAnswers {
  const dir = partial.dir ?? defaultDir(partial)
  const withDir = { ...partial, dir }
  const group = partial.group ?? defaultGroup(withDir)
  if (group === undefined) {
    throw new ScaffoldError(
      `cannot derive a plugin group from "${partial.packageName ?? dir}": pass --group, e.g. --group acme.pokemon`,
      { code: 'GROUP_INVALID' },
    )
  }
  const packageName = partial.packageName ?? defaultPackageName({ ...withDir, group })
  if (packageName === undefined) {
    throw new ScaffoldError(
      `cannot derive a package name from "${dir}": pass --name, e.g. --name @acme/kite-plugin-pokemon`,
      { code: 'PACKAGE_NAME_INVALID' },
    )
  }
  const answers: PluginAnswers = {
    dir,
    packageName,
    group,
    task: {
      name: partial.taskName ?? DEFAULT_TASK.name,
      description: partial.taskDescription?.trim() || DEFAULT_TASK.description,
    },
    trigger: partial.trigger ?? true,
    condition: partial.condition ?? true,
    ...(partial.registry ? { registry: normalizeRegistry(partial.registry) } : {}),
  }
  checkAnswers(answers)
  return answers
}

/**
 * Checks the answers given so far (on the command line) before any question is asked, so a bad
 * option is refused at once rather than after the questions.
 */
export function checkGivenAnswers(partial: PartialAnswers): void {
  const problems: Array<[string | undefined, ScaffoldErrorCode]> = [
    [partial.group === undefined ? undefined : checkGroup(partial.group), 'GROUP_INVALID'],
    [
      partial.packageName === undefined ? undefined : checkPackageName(partial.packageName),
      'PACKAGE_NAME_INVALID',
    ],
    [partial.taskName === undefined ? undefined : checkTypeName(partial.taskName), 'NAME_INVALID'],
  ]
  for (const [problem, code] of problems) {
    if (problem) throw new ScaffoldError(problem, { code })
  }
  if (partial.registry !== undefined) normalizeRegistry(partial.registry)
}

/** Throws a {@link ScaffoldError} for the first invalid answer. */
export function checkAnswers(answers: PluginAnswers): void {
  checkGivenAnswers({
    group: answers.group,
    packageName: answers.packageName,
    taskName: answers.task.name,
  })
  const clash = checkTaskName(answers.task.name, answers)
  if (clash) throw new ScaffoldError(clash, { code: 'NAME_TAKEN' })
}

/** Why `name` cannot be the first task's name given the other answers, or undefined. */
export function checkTaskName(
  name: string,
  answers: Pick<PartialAnswers, 'trigger' | 'condition'>,
): string | undefined {
  const invalid = checkTypeName(name)
  if (invalid) return invalid
  // Compare file names: `new.Items` would also be written to new-items.ts.
  const { file } = identifiersFor(name)
  if (answers.trigger !== false && file === identifiersFor(TRIGGER_NAME, 'trigger').file) {
    return `task name "${name}" clashes with the example trigger ${TRIGGER_NAME}: choose another, or pass --no-trigger`
  }
  if (answers.condition !== false && file === identifiersFor(CONDITION_NAME, 'condition').file) {
    return `task name "${name}" clashes with the example condition ${CONDITION_NAME}: choose another, or pass --no-condition`
  }
  return undefined
}

/** Checks a registry URL and ends it with one slash, as npm writes registry URLs. */
export function normalizeRegistry(registry: string): string {
  let url: URL
  try {
    url = new URL(registry)
  } catch {
    url = new URL('invalid:')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ScaffoldError(
      `registry "${registry}" is not an http(s) URL, e.g. http://127.0.0.1:4873`,
      { code: 'REGISTRY_INVALID' },
    )
  }
  return registry.replace(/\/*$/, '/')
}
