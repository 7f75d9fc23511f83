// Helpers of the versioned-plugins tests: a real registry account, packages staged from built
// plugin directories (or written here), and the real npm CLI publishing them.
import { execFile } from 'node:child_process'
import { cp, mkdir, readFile, symlink, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createRegistry, type Registry } from '@kite/registry'
import type { PluginDefinition } from '@kite/sdk'
import { createManifest } from '@kite/sdk/host'

export const REPO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
export const GREETING_V1 = join(REPO_DIR, 'examples/plugins/greeting')
export const GREETING_V2 = join(REPO_DIR, 'examples/plugins/greeting/v2')

export async function createUser(url: string, name: string): Promise<string> {
  const response = await fetch(`${url}/-/user/org.couchdb.user:${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password: 'correct-horse-9', email: `${name}@example.com` }),
  })
  const body = (await response.json()) as { token?: string; error?: string }
  if (!body.token) throw new Error(`cannot create ${name}: ${response.status} ${body.error}`)
  return body.token
}

/** Writes a user npmrc holding only the registry token. */
export async function writeNpmrc(file: string, registryUrl: string, token: string): Promise<void> {
  await writeFile(
    file,
    `${registryUrl.replace(/^https?:/, '')}/:_authToken=${token}\nfund=false\naudit=false\nupdate-notifier=false\n`,
  )
}

/** `npm publish DIR` with the real CLI; rejects with npm's output on failure. */
export function npmPublish(dir: string, registryUrl: string, userconfig: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'npm',
      ['publish', dir, '--registry', `${registryUrl}/`, '--userconfig', userconfig],
      {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, npm_config_userconfig: userconfig },
        timeout: 60_000,
      },
      (error, stdout, stderr) =>
        error
          ? reject(new Error(`npm publish ${dir} failed:\n${stdout}\n${stderr}`))
          : resolve(stdout),
    )
  })
}

/** Copies a built plugin's package.json, README and dist/ into `target`, optionally edited. */
export async function stagePlugin(
  source: string,
  target: string,
  edit: { version?: string; sdkRange?: string } = {},
): Promise<string> {
  await mkdir(target, { recursive: true })
  const pkg = JSON.parse(await readFile(join(source, 'package.json'), 'utf8'))
  delete pkg.scripts
  delete pkg.devDependencies
  if (edit.version) pkg.version = edit.version
  await writeFile(join(target, 'package.json'), JSON.stringify(pkg, null, 2))
  await cp(join(source, 'README.md'), join(target, 'README.md')).catch(() => {})
  await cp(join(source, 'dist'), join(target, 'dist'), { recursive: true })
  const manifestFile = join(target, 'dist', 'kite-plugin.json')
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8'))
  if (edit.version) manifest.version = edit.version
  if (edit.sdkRange) manifest.sdkRange = edit.sdkRange
  await writeFile(manifestFile, JSON.stringify(manifest, null, 2))
  return target
}

/**
 * Writes a plugin package from the source of its bundle: `dist/index.js` (an ESM module whose
 * default export is a definePlugin), and its manifest made with the SDK, as `kite-plugin build`
 * would. The bundle only imports `@kite/sdk`.
 */
export async function writePlugin(
  dir: string,
  options: { name: string; version: string; bundle: string; sdkRange?: string },
): Promise<string> {
  await mkdir(join(dir, 'dist'), { recursive: true })
  await mkdir(join(dir, 'node_modules', '@kite'), { recursive: true })
  const sdkDir = dirname(createRequire(import.meta.url).resolve('@kite/sdk/package.json'))
  await symlink(sdkDir, join(dir, 'node_modules', '@kite', 'sdk'), 'dir').catch(() => {})
  await writeFile(join(dir, 'dist', 'index.js'), options.bundle)
  const module = (await import(
    `${pathToFileURL(join(dir, 'dist', 'index.js')).href}?v=${options.version}`
  )) as {
    default: PluginDefinition
  }
  const manifest = createManifest(
    module.default,
    { name: options.name, version: options.version },
    { entry: 'dist/index.js', sdkRange: options.sdkRange ?? '^0.1.0' },
  )
  await writeFile(join(dir, 'dist', 'kite-plugin.json'), JSON.stringify(manifest, null, 2))
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify(
      {
        name: options.name,
        version: options.version,
        type: 'module',
        keywords: ['kite-plugin'],
        files: ['dist'],
        kite: { manifest: 'dist/kite-plugin.json' },
        peerDependencies: { '@kite/sdk': '^0.1.0' },
      },
      null,
      2,
    ),
  )
  return dir
}

/** Writes a plugin package (as `writePlugin` does) and publishes it with the real npm CLI. */
export async function writeAndPublish(
  dir: string,
  options: Parameters<typeof writePlugin>[1],
  registryUrl: string,
  userconfig: string,
): Promise<void> {
  await npmPublish(await writePlugin(dir, options), registryUrl, userconfig)
}

/**
 * The source of a test plugin's bundle: `tasks` are source lines using the shorthand
 * `task(name, run, properties?)` (every output is one optional `value`), after `imports`.
 */
export function taskBundle(options: {
  group: string
  title: string
  description: string
  imports?: string
  tasks: string[]
}): string {
  return `${options.imports ?? ''}import { definePlugin, defineTask, z } from '@kite/sdk'
const out = z.object({ value: z.unknown().optional() })
const task = (name, run, properties = z.object({})) => defineTask({ name, title: name, description: name + ' task.', properties, outputs: out, run })
export default definePlugin({
  group: '${options.group}',
  title: '${options.title}',
  description: '${options.description}',
  tasks: [
${options.tasks.map((line) => `    ${line},\n`).join('')}  ],
  triggers: [],
  conditions: [],
})
`
}

/**
 * A Kite registry on loopback (storage under `work`) with the example greeting plugin published
 * at 1.0.0 and 2.0.0 by the real npm CLI, as user `user`.
 */
export async function greetingRegistry(work: string, user: string): Promise<Registry> {
  const registry = await createRegistry({ port: 0, storage: join(work, 'registry') })
  const userconfig = join(work, 'user.npmrc')
  await writeNpmrc(userconfig, registry.url, await createUser(registry.url, user))
  for (const [dir, name] of [
    [GREETING_V1, 'greeting-1'],
    [GREETING_V2, 'greeting-2'],
  ] as const) {
    await npmPublish(await stagePlugin(dir, join(work, name)), registry.url, userconfig)
  }
  return registry
}

/** A plugin whose tasks misbehave on purpose (group `acme.lab`). */
export function labBundle(version: string): string {
  return taskBundle({
    group: 'acme.lab',
    title: 'Lab',
    description: `Tasks that misbehave on purpose (${version}).`,
    imports: "import { existsSync } from 'node:fs'\n",
    tasks: [
      `task('Sleep', async (props) => { await new Promise((r) => setTimeout(r, props.ms)); return { value: '${version}' } }, z.object({ ms: z.number().default(10) }))`,
      `task('WaitFile', async (props) => { while (!existsSync(props.path)) await new Promise((r) => setTimeout(r, 20)); return { value: '${version}' } }, z.object({ path: z.string() }))`,
      "task('Loop', () => { for (;;) {} })",
      "task('Throw', async () => { throw new Error('lab: it broke on purpose') })",
      "task('Exit', () => { process.exit(3) })",
      "task('Bomb', () => { const hoard = []; for (;;) hoard.push(new Array(1e6).fill(Math.random())) })",
      "task('Env', async (props, ctx) => ({ value: { envKeys: Object.keys(process.env).length, secret: await ctx.secret('lab_token') } }))",
    ],
  })
}
