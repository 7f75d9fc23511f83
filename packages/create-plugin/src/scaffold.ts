import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { CONDITION_NAME, checkAnswers, type PluginAnswers, TRIGGER_NAME } from './answers.js'
import { ScaffoldError } from './errors.js'
import { identifiersFor, titleFor, titleForGroup } from './names.js'
import { checkTargetDir } from './target-dir.js'
import {
  type RenderedFile,
  renderTemplateDir,
  TEMPLATE_DIR,
  type TemplateInput,
} from './template.js'
import { RUNTIME_RANGE, SDK_RANGE, TYPESCRIPT_VERSION, VITEST_VERSION } from './versions.js'

/** The version a new plugin starts at. */
export const INITIAL_VERSION = '1.0.0'

export interface ScaffoldOptions {
  /** Resolves a relative `answers.dir` (default: the current directory). */
  cwd?: string
  /** The template directory (default: the one shipped with create-kite-plugin). */
  templateDir?: string
}

export interface ScaffoldResult {
  /** The absolute path of the new package. */
  dir: string
  /** Every file written, relative to `dir`, sorted. */
  files: string[]
}

/**
 * Writes a new plugin package into `answers.dir`, which must not exist or be empty (a `.git`
 * folder alone is fine).
 *
 * @example
 * await scaffoldPlugin(resolveAnswers({ dir: 'my-plugin', group: 'acme.demo' }))
 */
export async function scaffoldPlugin(
  answers: PluginAnswers,
  options: ScaffoldOptions = {},
): Promise<ScaffoldResult> {
  checkAnswers(answers)
  const dir = resolve(options.cwd ?? process.cwd(), answers.dir)
  const problem = checkTargetDir(dir)
  if (problem) throw new ScaffoldError(problem, { code: 'DIR_NOT_EMPTY' })
  const files = await renderPlugin(answers, options.templateDir)
  try {
    for (const file of files) {
      const path = join(dir, file.path)
      await mkdir(dirname(path), { recursive: true })
      // `wx`: never overwrite, even if something appeared in the directory since the check.
      await writeFile(path, file.text, { flag: 'wx' })
    }
  } catch (error) {
    throw new ScaffoldError(`cannot write to ${dir}: ${(error as Error).message}`, {
      code: 'WRITE_FAILED',
      kind: 'operational',
      cause: error,
    })
  }
  return { dir, files: files.map((file) => file.path).sort() }
}

/** Every file of the new package, rendered, without writing anything. */
export async function renderPlugin(
  answers: PluginAnswers,
  templateDir: string = TEMPLATE_DIR,
): Promise<RenderedFile[]> {
  const files = await renderTemplateDir(templateInput(answers), templateDir)
  const packageJson = {
    path: 'package.json',
    text: `${JSON.stringify(createPackageJson(answers), null, 2)}\n`,
  }
  return [packageJson, ...files].sort((a, b) => a.path.localeCompare(b.path))
}

/** The placeholder values and flags the template is rendered with. */
export function templateInput(answers: PluginAnswers): TemplateInput {
  const task = identifiersFor(answers.task.name, 'task')
  const trigger = identifiersFor(TRIGGER_NAME, 'trigger')
  const condition = identifiersFor(CONDITION_NAME, 'condition')
  const scope = /^(@[^/]+)\//.exec(answers.packageName)?.[1]
  return {
    values: {
      PACKAGE_NAME: answers.packageName,
      VERSION: INITIAL_VERSION,
      GROUP: answers.group,
      TITLE: titleForGroup(answers.group),
      DESCRIPTION: pluginDescription(answers),
      SCOPE: scope,
      REGISTRY: answers.registry,
      REGISTRY_URL: answers.registry ?? 'http://127.0.0.1:4873/',
      TASK_NAME: answers.task.name,
      TASK_TITLE: titleFor(answers.task.name),
      TASK_DESCRIPTION: answers.task.description,
      TASK_VAR: task.variable,
      TASK_FILE: task.file,
      ...(answers.trigger
        ? { TRIGGER_NAME, TRIGGER_VAR: trigger.variable, TRIGGER_FILE: trigger.file }
        : {}),
      ...(answers.condition
        ? { CONDITION_NAME, CONDITION_VAR: condition.variable, CONDITION_FILE: condition.file }
        : {}),
    },
    flags: {
      trigger: answers.trigger,
      condition: answers.condition,
      registry: answers.registry !== undefined,
      scoped: scope !== undefined,
    },
  }
}

/**
 * The new package's package.json: the fields `kite-plugin build` and the registry require
 * (keyword, `exports` of the bundle, `kite.manifest`, `@kite/sdk` as peer), and the scripts.
 */
export function createPackageJson(answers: PluginAnswers): Record<string, unknown> {
  return {
    name: answers.packageName,
    version: INITIAL_VERSION,
    description: pluginDescription(answers),
    type: 'module',
    sideEffects: false,
    keywords: ['kite-plugin', ...answers.group.split('.')],
    exports: {
      '.': './dist/index.js',
      './kite-plugin.json': './dist/kite-plugin.json',
    },
    files: ['dist'],
    kite: { manifest: 'dist/kite-plugin.json' },
    scripts: {
      build: 'kite-plugin build',
      dev: 'kite-plugin build --watch',
      // The flow tests (src/flow.test.ts) run the built package, as the runtime would.
      pretest: 'kite-plugin build',
      test: 'vitest run',
      typecheck: 'tsc --noEmit',
      // A publish always ships a bundle and manifest built from the current sources.
      prepublishOnly: 'kite-plugin build',
    },
    peerDependencies: { '@kite/sdk': SDK_RANGE },
    devDependencies: {
      '@kite/runtime': RUNTIME_RANGE,
      '@kite/sdk': SDK_RANGE,
      typescript: TYPESCRIPT_VERSION,
      vitest: VITEST_VERSION,
    },
    ...(answers.registry ? { publishConfig: { registry: answers.registry } } : {}),
  }
}

function pluginDescription(answers: PluginAnswers): string {
  const kinds = ['tasks', answers.trigger && 'triggers', answers.condition && 'conditions']
  const list = kinds
    .filter(Boolean)
    .join(', ')
    .replace(/, ([^,]+)$/, ' and $1')
  return `${titleForGroup(answers.group)}: Kite ${list} for the group ${answers.group}.`
}
