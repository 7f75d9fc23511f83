import { mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import { dirname, isAbsolute, join, posix } from 'node:path'
import { KiteError, type RunContext, z } from '@kite/sdk'
import picomatch from 'picomatch'
import { runChild } from './child-process.js'

/** A folder of the working directory holding Kite's own files for the run (script, helpers). */
export const KITE_DIR = '.kite-script'

/** The parent environment variables a script sees; everything else comes from `env`. */
const INHERITED_ENV = ['PATH', 'HOME', 'LANG'] as const

const EnvValue = z.union([z.string(), z.number(), z.boolean()])

/** Properties every script type takes. */
export const workspaceProperties = {
  env: z
    .record(z.string(), EnvValue)
    .default({})
    .describe(
      'Environment variables for the process. It sees only PATH, HOME and LANG from the worker, plus these.',
    ),
  inputFiles: z
    .record(z.string(), z.string())
    .default({})
    .describe(
      'Files written to the working directory before the run: relative path → content, or a `kite:///` URI of a stored file to copy.',
    ),
  outputFiles: z
    .array(z.string().min(1))
    .default([])
    .describe(
      'Files to keep after the run: relative paths or glob patterns (`*.csv`, `out/**`), stored in internal storage and output as `outputFiles` (path → `kite:///` URI).',
    ),
}

/** Outputs every script type returns. */
export const workspaceOutputs = {
  exitCode: z
    .number()
    .int()
    .describe('The exit code of the process (0: the task failed otherwise).'),
  outputs: z
    .record(z.string(), z.unknown())
    .describe('The values the script set with `::kite::{"outputs":{...}}` lines, merged.'),
  outputFiles: z
    .record(z.string(), z.string())
    .describe('The kept files: path relative to the working directory → `kite:///` URI.'),
}

const workspaceSchema = z.object(workspaceProperties)
type WorkspaceOptions = z.output<typeof workspaceSchema>

export interface ScriptRun {
  /** What logs and errors call the process, e.g. "node script". */
  label: string
  /** Writes the files the process needs into `kiteDir` and returns the command to run. */
  prepare(kiteDir: string): Promise<{ command: string; args: string[]; notFound?: string }>
}

/**
 * Runs one script in the task's working directory: writes the input files, starts the process
 * with a minimal environment, streams its lines to the logs, then stores the output files.
 */
export async function runInWorkspace(
  options: WorkspaceOptions,
  run: ScriptRun,
  ctx: RunContext,
): Promise<{
  exitCode: number
  outputs: Record<string, unknown>
  outputFiles: Record<string, string>
}> {
  const patterns = options.outputFiles.map((pattern) => checkRelative(pattern, 'outputFiles'))
  const kiteDir = join(ctx.workingDir, KITE_DIR)
  await mkdir(kiteDir, { recursive: true })
  try {
    await writeInputFiles(options.inputFiles, ctx)
    const { command, args, notFound } = await run.prepare(kiteDir)
    const result = await runChild({
      label: run.label,
      command,
      args,
      cwd: ctx.workingDir,
      env: childEnv(options.env),
      signal: ctx.signal,
      logger: ctx.logger,
      ...(notFound ? { notFound } : {}),
    })
    return { ...result, outputFiles: await storeOutputFiles(patterns, ctx) }
  } finally {
    await rm(kiteDir, { recursive: true, force: true })
  }
}

export function childEnv(env: Record<string, string | number | boolean>): Record<string, string> {
  const result: Record<string, string> = {}
  for (const name of INHERITED_ENV) {
    const value = process.env[name]
    if (value !== undefined) result[name] = value
  }
  for (const [name, value] of Object.entries(env)) result[name] = String(value)
  return result
}

async function writeInputFiles(files: Record<string, string>, ctx: RunContext): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    const relative = checkRelative(name, 'inputFiles')
    const path = join(ctx.workingDir, relative)
    await mkdir(dirname(path), { recursive: true })
    if (!content.startsWith('kite:///')) {
      await writeFile(path, content)
      continue
    }
    try {
      await ctx.storage.getFile(content, path)
    } catch (error) {
      throw new KiteError(
        `inputFiles: cannot copy ${content} to "${relative}": ${(error as Error).message}`,
        { code: 'INPUT_FILE_MISSING', kind: 'user', cause: error },
      )
    }
  }
}

async function storeOutputFiles(
  patterns: string[],
  ctx: RunContext,
): Promise<Record<string, string>> {
  if (patterns.length === 0) return {}
  const stored: Record<string, string> = {}
  const files = await listFiles(ctx.workingDir)
  for (const pattern of patterns) {
    const matches = picomatch(pattern, { dot: true })
    const found = files.filter((file) => matches(file))
    if (found.length === 0) ctx.logger.warn(`outputFiles: "${pattern}" matched no file`)
    for (const file of found) {
      stored[file] ??= await ctx.storage.putFile(posix.basename(file), join(ctx.workingDir, file))
    }
  }
  return stored
}

/** Regular files under `root`, as relative POSIX paths; Kite's folder and symlinks are skipped. */
async function listFiles(root: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(join(root, prefix), { withFileTypes: true })
  const files: string[] = []
  for (const entry of entries) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name
    if (relative === KITE_DIR) continue
    if (entry.isDirectory()) files.push(...(await listFiles(root, relative)))
    else if (entry.isFile()) files.push(relative)
  }
  return files.sort()
}

/** A path inside the working directory: relative, without `..`, not Kite's own folder. */
function checkRelative(path: string, property: string): string {
  const normalized = posix.normalize(path.replaceAll('\\', '/'))
  if (
    isAbsolute(path) ||
    normalized === '..' ||
    normalized.startsWith('../') ||
    normalized === KITE_DIR ||
    normalized.startsWith(`${KITE_DIR}/`)
  ) {
    throw new KiteError(
      `${property}: "${path}" must be a path relative to the working directory, without ".."`,
      { code: 'PATH_INVALID', kind: 'user' },
    )
  }
  return normalized
}

/**
 * The `script` and `inputs` properties of an inline script task, then the workspace ones;
 * `code` names what the script holds ("The Python code").
 */
export function inlineScriptProperties(code: string) {
  return {
    script: z
      .string()
      .min(1)
      .describe(
        `${code} to run. \`{{ }}\` expressions are rendered first: pass data through \`inputs\` to avoid quoting problems.`,
      ),
    inputs: z
      .record(z.string(), z.unknown())
      .default({})
      .describe('Values the script reads as `kite.inputs` (passed as JSON).'),
    ...workspaceProperties,
  }
}

/**
 * Writes an inline script task's files into the Kite folder: `inputs.json`, the helper that
 * gives the script its `kite` global, and the script; returns their paths.
 */
async function writeScriptFiles(
  kiteDir: string,
  files: {
    inputs: unknown
    helper: [name: string, text: string]
    script: [name: string, text: string]
  },
): Promise<{ inputs: string; helper: string; script: string }> {
  const paths = {
    inputs: join(kiteDir, 'inputs.json'),
    helper: join(kiteDir, files.helper[0]),
    script: join(kiteDir, files.script[0]),
  }
  await writeFile(paths.inputs, JSON.stringify(files.inputs))
  await writeFile(paths.helper, files.helper[1])
  await writeFile(paths.script, files.script[1])
  return paths
}

export interface InlineScript {
  /** What logs and errors call the process, e.g. "node script". */
  label: string
  /** The file name and text of the helper that gives the script its `kite` global. */
  helper: [name: string, text: string]
  /** The file name the script is written to. */
  scriptFile: string
  /** The command to run, given the paths of the written files. */
  command(paths: { inputs: string; helper: string; script: string }): {
    command: string
    args: string[]
    notFound?: string
  }
}

/** Runs an inline script task: writes its files into the Kite folder, then runs the command. */
export function runInlineScript(
  props: WorkspaceOptions & { script: string; inputs: Record<string, unknown> },
  inline: InlineScript,
  ctx: RunContext,
) {
  return runInWorkspace(
    props,
    {
      label: inline.label,
      async prepare(kiteDir) {
        const paths = await writeScriptFiles(kiteDir, {
          inputs: props.inputs,
          helper: inline.helper,
          script: [inline.scriptFile, props.script],
        })
        return inline.command(paths)
      },
    },
    ctx,
  )
}
