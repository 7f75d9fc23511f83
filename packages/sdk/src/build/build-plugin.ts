import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build, context, type BuildOptions as EsbuildOptions, type Message } from 'esbuild'
import { isDefinition } from '../define.js'
import { renderPluginMarkdown, renderTypeMarkdown } from '../docs.js'
import { KiteError } from '../errors.js'
import {
  createManifest,
  listManifestTypes,
  MANIFEST_PATH,
  type PluginManifest,
} from '../manifest.js'
import { validateExamples } from './examples.js'
import { misspeltMetaKeys } from './meta-keys.js'
import { BUNDLE_PATH, loadPluginPackage, type PluginPackageJson } from './plugin-package.js'

export interface BuildOptions {
  /** The plugin package's directory (default: the current directory). */
  dir?: string
  /** The source entry, relative to `dir` (default `kite.entry` in package.json, else `src/index.ts`). */
  entry?: string
  minify?: boolean
}

export interface BuildResult {
  manifest: PluginManifest
  bundlePath: string
  manifestPath: string
  bundleBytes: number
  milliseconds: number
  /** True when README.md had reference markers and its reference section was rewritten. */
  readmeUpdated: boolean
}

/** README.md markers between which the build writes the plugin's reference from its manifest. */
export const README_START = '<!-- kite:reference:start -->'
export const README_END = '<!-- kite:reference:end -->'

// Bundled CommonJS dependencies call require() for built-ins and read __dirname/__filename; ESM
// has none of them, so the bundle gets its own (free references are renamed via `define`, so an
// ES module declaring its own __dirname keeps it).
const COMMONJS_SHIM = [
  "import { createRequire as __kiteCreateRequire } from 'node:module';",
  "import { fileURLToPath as __kiteFileURLToPath } from 'node:url';",
  "import { dirname as __kitePathDirname } from 'node:path';",
  'const require = __kiteCreateRequire(import.meta.url);',
  'const __kiteFilename = __kiteFileURLToPath(import.meta.url);',
  'const __kiteDirname = __kitePathDirname(__kiteFilename);',
].join('\n')

/**
 * Bundles the plugin entry into `dist/index.js` — one ESM file holding every dependency except
 * `@kite/sdk` and `node:` built-ins — then imports the bundle and writes `dist/kite-plugin.json`
 * from its default export and package.json.
 */
export async function buildPlugin(options: BuildOptions = {}): Promise<BuildResult> {
  const started = performance.now()
  const { dir, pkg, esbuildOptions } = await prepare(options)
  try {
    await build(esbuildOptions)
  } catch (error) {
    throw bundleError(error)
  }
  return finish(dir, pkg, started)
}

export interface WatchHandle {
  close(): Promise<void>
}

/**
 * Rebuilds bundle and manifest on every change of the sources. `onBuild` hears each result or
 * error; the watch goes on after an error.
 */
export async function watchPlugin(
  options: BuildOptions & { onBuild(result: BuildResult | KiteError): void },
): Promise<WatchHandle> {
  const { dir, pkg, esbuildOptions } = await prepare(options)
  let started = performance.now()
  const ctx = await context({
    ...esbuildOptions,
    plugins: [
      {
        name: 'kite-manifest',
        setup(builder) {
          builder.onStart(() => {
            started = performance.now()
          })
          builder.onEnd(async (result) => {
            if (result.errors.length > 0) {
              options.onBuild(bundleError({ errors: result.errors }))
              return
            }
            try {
              options.onBuild(await finish(dir, pkg, started))
            } catch (error) {
              options.onBuild(error as KiteError)
            }
          })
        },
      },
    ],
  })
  await ctx.watch()
  return { close: () => ctx.dispose() }
}

async function prepare(options: BuildOptions) {
  const dir = resolve(options.dir ?? process.cwd())
  const pkg = await loadPluginPackage(dir)
  const entry = options.entry ?? pkg.kite?.entry ?? 'src/index.ts'
  const esbuildOptions: EsbuildOptions = {
    absWorkingDir: dir,
    entryPoints: [entry],
    outfile: BUNDLE_PATH,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['@kite/sdk', '@kite/sdk/*'],
    banner: { js: COMMONJS_SHIM },
    define: { __dirname: '__kiteDirname', __filename: '__kiteFilename' },
    minify: options.minify ?? false,
    sourcemap: false,
    legalComments: 'none',
    // WebAssembly modules (e.g. SQLite compiled to wasm) travel inside the bundle as bytes.
    loader: { '.wasm': 'binary' },
    logLevel: 'silent',
  }
  return { dir, pkg, esbuildOptions }
}

async function finish(dir: string, pkg: PluginPackageJson, started: number): Promise<BuildResult> {
  const bundlePath = join(dir, BUNDLE_PATH)
  // A fresh URL each time: ESM caches modules by URL, and watch mode rebuilds the same file.
  const loaded = (await import(`${pathToFileURL(bundlePath).href}?build=${Date.now()}`)) as {
    default?: unknown
  }
  if (!isDefinition(loaded.default, 'plugin')) {
    throw new KiteError(
      `${BUNDLE_PATH} has no plugin as its default export: end the entry with \`export default definePlugin({ ... })\``,
      { code: 'BUILD_FAILED' },
    )
  }
  const plugin = loaded.default
  const problems = [...plugin.tasks, ...plugin.triggers, ...plugin.conditions].flatMap(
    validateExamples,
  )
  if (problems.length > 0) {
    throw new KiteError(
      `plugin "${plugin.group}" has invalid examples:\n- ${problems.join('\n- ')}`,
      {
        code: 'BUILD_FAILED',
      },
    )
  }
  const manifest = createManifest(plugin, pkg, {
    entry: BUNDLE_PATH,
    sdkRange: pkg.peerDependencies?.['@kite/sdk'] ?? '*',
  })
  const misspelt = misspeltMetaKeys(manifest)
  if (misspelt.length > 0) {
    throw new KiteError(`plugin "${plugin.group}":\n- ${misspelt.join('\n- ')}`, {
      code: 'BUILD_FAILED',
    })
  }
  const manifestPath = join(dir, MANIFEST_PATH)
  await mkdir(join(dir, 'dist'), { recursive: true })
  await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`)
  const readmeUpdated = await updateReadme(join(dir, 'README.md'), manifest)
  return {
    readmeUpdated,
    manifest,
    bundlePath,
    manifestPath,
    bundleBytes: (await stat(bundlePath)).size,
    milliseconds: Math.round(performance.now() - started),
  }
}

function bundleError(error: unknown): KiteError {
  const messages = (error as { errors?: Message[] }).errors ?? []
  const lines = messages.map((message) => {
    const where = message.location
      ? `${message.location.file}:${message.location.line}:${message.location.column}: `
      : ''
    return `${where}${message.text}`
  })
  return new KiteError(
    `bundling failed:\n- ${lines.length ? lines.join('\n- ') : (error as Error).message}`,
    { code: 'BUILD_FAILED', cause: error },
  )
}

/**
 * Rewrites the part of README.md between the reference markers with the docs generated from the
 * manifest, so a plugin's README always matches its schemas. A README without markers is left alone.
 */
async function updateReadme(path: string, manifest: PluginManifest): Promise<boolean> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch {
    return false
  }
  const start = text.indexOf(README_START)
  const end = text.indexOf(README_END)
  if (start === -1 || end < start) return false
  const demote = (markdown: string) => markdown.replace(/^(#+) /gm, '$1## ')
  const sections = [
    demote(renderPluginMarkdown(manifest).replace(/^# .*\n\n/, '')),
    ...listManifestTypes(manifest).map(({ entry }) =>
      demote(renderTypeMarkdown(manifest, entry.type)).replace(
        /^### (.*)$/m,
        `### $1 (\`${entry.type}\`)`,
      ),
    ),
  ]
  const generated = `${README_START}\n<!-- generated by kite-plugin build from dist/kite-plugin.json; do not edit -->\n\n${sections.join('\n')}\n${README_END}`
  const updated = text.slice(0, start) + generated + text.slice(end + README_END.length)
  if (updated !== text) await writeFile(path, updated)
  return true
}
