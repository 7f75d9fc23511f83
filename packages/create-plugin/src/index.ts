/**
 * create-kite-plugin — the scaffolder behind `npm create kite-plugin`: writes a plugin package
 * that builds, tests and publishes out of the box. The functions below are what the command
 * uses; other tools (a `kite` sub-command, tests) can call them directly.
 */
export {
  CONDITION_NAME,
  checkAnswers,
  DEFAULT_TASK,
  type PartialAnswers,
  type PluginAnswers,
  resolveAnswers,
  TRIGGER_NAME,
} from './answers.js'
export { type CommandIo, type CommandResult, runCreateCommand } from './create-command.js'
export {
  isScaffoldError,
  ScaffoldError,
  type ScaffoldErrorCode,
  type ScaffoldErrorKind,
} from './errors.js'
export {
  GROUP_PATTERN,
  groupFromPackageName,
  NAME_PATTERN,
  PACKAGE_NAME_PATTERN,
  packageNameFromGroup,
} from './names.js'
export { type CliOptions, parseCliArgs, USAGE } from './options.js'
export { askQuestions, type PromptOptions } from './prompts.js'
export {
  createPackageJson,
  INITIAL_VERSION,
  renderPlugin,
  type ScaffoldOptions,
  type ScaffoldResult,
  scaffoldPlugin,
} from './scaffold.js'
export { SDK_RANGE } from './versions.js'
