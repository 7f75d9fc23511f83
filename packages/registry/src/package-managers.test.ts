import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pokemonV1 } from '../test/fixtures/plugins.js'
import {
  createUser,
  type NpmResult,
  npm,
  runCli,
  startTestRegistry,
  type TestRegistry,
  writeFiles,
  writeNpmrc,
  writePluginPackage,
} from '../test/helpers.js'

// pnpm 9 and yarn 1 are devDependencies of @kite/registry: run their own bin with this node.
// npm workspaces hoist them to the repository's node_modules.
const binOf = (pkg: string, bin: string) =>
  fileURLToPath(new URL(`../../../node_modules/${pkg}/${bin}`, import.meta.url))
const PNPM = binOf('pnpm', 'bin/pnpm.cjs')
const YARN = binOf('yarn', 'bin/yarn.js')
const PKG = '@acme/kite-plugin-pokemon'

let t: TestRegistry
let url: string

/** Runs a package manager's bin with this node and its own HOME (no user config). */
function runBin(bin: string, args: string[], cwd: string): Promise<NpmResult> {
  return runCli(process.execPath, [bin, ...args], {
    cwd,
    env: { HOME: join(t.dir, 'home'), CI: '1' },
    timeoutMs: 90_000,
  })
}

async function consumer(name: string): Promise<string> {
  const dir = join(t.dir, 'work', name)
  await writeFiles(dir, {
    'package.json': `{"name":"${name}","version":"1.0.0","private":true}`,
  })
  return dir
}

/** Checks that an install into `dir` succeeded with PKG 1.0.0 in place; its lockfile's text. */
async function expectInstalled(result: NpmResult, dir: string, lockfile: string): Promise<string> {
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0)
  const manifest = JSON.parse(
    await readFile(join(dir, 'node_modules', PKG, 'dist/kite-plugin.json'), 'utf8'),
  ) as Record<string, unknown>
  expect(manifest).toMatchObject({ name: PKG, version: '1.0.0' })
  return readFile(join(dir, lockfile), 'utf8')
}

beforeAll(async () => {
  t = await startTestRegistry()
  url = t.registry.url
  const rc = await writeNpmrc(join(t.dir, 'alice.npmrc'), url, await createUser(url, 'alice'))
  const dir = await writePluginPackage(join(t.dir, 'work/pokemon'), {
    name: PKG,
    version: '1.0.0',
    plugin: pokemonV1(),
  })
  const published = await npm(['publish'], {
    cwd: dir,
    userconfig: rc,
    registry: url,
    cache: join(t.dir, 'npm-cache'),
  })
  expect(published.code, published.stderr).toBe(0)
}, 120_000)

afterAll(async () => {
  await t?.close()
})

describe('other package managers install plugins from the registry', () => {
  it('installs with pnpm 9', async () => {
    const dir = await consumer('pnpm-consumer')
    const result = await runBin(
      PNPM,
      [
        'add',
        `${PKG}@1.0.0`,
        `--registry=${url}/`,
        `--store-dir=${join(t.dir, 'pnpm-store')}`,
        '--config.auto-install-peers=false',
        '--config.strict-peer-dependencies=false',
        '--reporter=append-only',
      ],
      dir,
    )
    const lock = await expectInstalled(result, dir, 'pnpm-lock.yaml')
    expect(lock).toContain(`'${PKG}@1.0.0'`)
  }, 120_000)

  it('installs with yarn 1', async () => {
    const dir = await consumer('yarn-consumer')
    const result = await runBin(
      YARN,
      [
        'add',
        `${PKG}@1.0.0`,
        '--registry',
        `${url}/`,
        '--cache-folder',
        join(t.dir, 'yarn-cache'),
        '--non-interactive',
        '--no-progress',
        '--ignore-engines',
      ],
      dir,
    )
    // yarn.lock records the tarball it fetched, from this registry.
    const lock = await expectInstalled(result, dir, 'yarn.lock')
    expect(lock).toContain(`resolved "${url}/${PKG}/-/kite-plugin-pokemon-1.0.0.tgz`)
  }, 120_000)
})
