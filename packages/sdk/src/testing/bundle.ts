import { execFile } from 'node:child_process'
import { cp, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { KiteErrorCode } from '../errors.js'
import { KiteError } from '../errors.js'
import type { MetricEntry } from '../host/run-context.js'
import type { PluginManifest, TypeKind } from '../manifest.js'
import type { HarnessOptions } from './harness.js'
import type { LogEntry } from './test-context.js'

/** Like the harness options, but only what can travel to another process as JSON. */
export interface BundleRunOptions extends Omit<HarnessOptions, 'context'> {
  /** Share internal storage with this context (its `storageDir`), to hand files in and out. */
  context?: { storageDir: string }
}

export interface BundleRunResult {
  kind: TypeKind
  /** The package's `dist/kite-plugin.json`, parsed. */
  manifest: PluginManifest
  /** A task's outputs, a trigger's events or a condition's result, through JSON. */
  value: unknown
  logs: LogEntry[]
  metrics: MetricEntry[]
}

const MARKER = '\n@@kite-bundle-result@@'

/**
 * Tests a plugin as it is installed: copies the package's `dist/` into a temp dir whose only
 * dependency is `@kite/sdk` (as the runtime's plugin store does, so a dependency left out of the
 * bundle fails here), then in a plain `node` process (not the test runner, which hides ESM bundle
 * bugs such as a missing `__dirname`) imports `dist/index.js`, checks it against
 * `dist/kite-plugin.json`, and runs one task, trigger poll or condition with
 * `@kite/sdk/testing`'s run context. Build the package first.
 *
 * @example
 * const { value } = await runBundle(new URL('..', import.meta.url), 'kite.crypto.Hash', { value: 'abc' })
 */
export async function runBundle(
  packageDir: string | URL,
  type: string,
  properties: Record<string, unknown> = {},
  options: BundleRunOptions = {},
): Promise<BundleRunResult> {
  const dir = typeof packageDir === 'string' ? packageDir : fileURLToPath(packageDir)
  const { context, ...rest } = options
  const payload = JSON.stringify({
    dir,
    type,
    properties,
    options: { ...rest, ...(context ? { storageDir: context.storageDir } : {}) },
  })
  const installed = await install(dir)
  const { stdout, stderr, failed } = await new Promise<{
    stdout: string
    stderr: string
    failed: boolean
  }>((resolve) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', CHILD, payload],
      { cwd: installed, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NODE_OPTIONS: '' } },
      (error, out, err) => resolve({ stdout: out, stderr: err, failed: error !== null }),
    )
  }).finally(() => rm(installed, { recursive: true, force: true }))
  const at = stdout.lastIndexOf(MARKER)
  if (at === -1) {
    throw new KiteError(
      `the bundle in ${dir} could not be run in node${failed ? '' : ' (no result)'}: ${stderr.trim().split('\n').slice(-5).join('\n') || 'no output'}`,
      { code: 'BUNDLE_INVALID', kind: 'user' },
    )
  }
  const answer = JSON.parse(stdout.slice(at + MARKER.length)) as
    | ({ ok: true } & BundleRunResult)
    | {
        ok: false
        message: string
        code?: KiteErrorCode
        kind?: 'user' | 'operational' | 'internal'
      }
  if (!answer.ok) {
    throw new KiteError(answer.message, {
      code: answer.code ?? 'TASK_FAILED',
      kind: answer.kind ?? 'user',
    })
  }
  const { ok: _, ...result } = answer
  return result
}

/** The package's `dist/` beside nothing but the `@kite/sdk` the package itself resolves. */
async function install(dir: string): Promise<string> {
  const installed = await mkdtemp(join(tmpdir(), 'kite-bundle-'))
  await cp(join(dir, 'dist'), join(installed, 'dist'), { recursive: true }).catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error
    },
  )
  let sdk: string
  try {
    sdk = dirname(createRequire(join(dir, 'package.json')).resolve('@kite/sdk/package.json'))
  } catch {
    sdk = dirname(createRequire(import.meta.url).resolve('@kite/sdk/package.json'))
  }
  await mkdir(join(installed, 'node_modules/@kite'), { recursive: true })
  await symlink(sdk, join(installed, 'node_modules/@kite/sdk'), 'dir')
  return installed
}

// Runs in the child: everything it imports resolves from the plugin package, as for a user.
const CHILD = `
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
const marker = ${JSON.stringify(MARKER)}
const answer = (value) => process.stdout.write(marker + JSON.stringify(value) + '\\n')
try {
  const { dir, type, properties, options } = JSON.parse(process.argv[1])
  const host = await import('@kite/sdk/host')
  const testing = await import('@kite/sdk/testing')
  const fail = (message) => Object.assign(new Error(message), { code: 'BUNDLE_INVALID' })
  let text
  try {
    text = await readFile(host.MANIFEST_PATH, 'utf8')
  } catch {
    throw fail(dir + ' has no ' + host.MANIFEST_PATH + ': build the plugin first (kite-plugin build)')
  }
  const manifest = host.parseManifest(JSON.parse(text))
  const listed = host.listManifestTypes(manifest).find(({ entry }) => entry.type === type)
  if (!listed) {
    const known = host.listManifestTypes(manifest).map(({ entry }) => entry.type).join(', ')
    throw fail(host.MANIFEST_PATH + ' lists no type "' + type + '" (it lists ' + (known || 'none') + ')')
  }
  const module = await import(pathToFileURL(join(process.cwd(), manifest.entry)).href)
  if (!host.isDefinition(module.default, 'plugin')) {
    throw fail(manifest.entry + ' has no definePlugin(...) as its default export')
  }
  const definition = module.default.find(type)
  if (!definition || definition.kind !== listed.kind) {
    throw fail(manifest.entry + ' provides no ' + listed.kind + ' "' + type + '" though the manifest lists it: rebuild')
  }
  const run = { task: testing.runTask, trigger: testing.pollTrigger, condition: testing.testCondition }[listed.kind]
  const result = await run(definition, properties, options)
  await result.context.cleanup()
  const value = listed.kind === 'task' ? result.outputs : listed.kind === 'trigger' ? result.events : result.result
  answer({ ok: true, kind: listed.kind, manifest, value, logs: result.logs, metrics: result.metrics })
} catch (error) {
  answer({ ok: false, message: error?.message ?? String(error), code: error?.code, kind: error?.kind })
  process.exitCode = 1
}
`
