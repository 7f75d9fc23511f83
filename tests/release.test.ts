// The release flow end to end: `npm run release` publishes every first-party package to a real
// Kite registry, and the catalog then lists every plugin with its docs.
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createRegistry, type Registry } from '@kite/registry'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)

interface CatalogVersion {
  manifest: { name: string }
  docs: { types: Record<string, string> }
}
const root = fileURLToPath(new URL('..', import.meta.url))
let registry: Registry
let work: string
let npmrc: string

async function release(env: Record<string, string>) {
  return run(process.execPath, [join(root, 'scripts/release.mjs')], {
    cwd: root,
    env: { ...process.env, npm_config_userconfig: npmrc, ...env },
    maxBuffer: 20 * 1024 * 1024,
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  )
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kite-release-'))
  // As `npm start` does: the registry's config names the first-party publisher owner of @kite.
  registry = await createRegistry({
    port: 0,
    storage: join(work, 'registry'),
    scopeOwners: { '@kite': ['releaser'] },
  })
  npmrc = join(work, 'npmrc')
  await writeFile(npmrc, `//127.0.0.1:${registry.port}/:_authToken=${await account('releaser')}\n`)
})

async function account(name: string): Promise<string> {
  const response = await fetch(`${registry.url}/-/user/org.couchdb.user:${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password: 'release-me-123', email: `${name}@example.com` }),
  })
  return ((await response.json()) as { token: string }).token
}

afterAll(async () => {
  await registry?.close()
  await rm(work, { recursive: true, force: true })
})

describe('npm run release', () => {
  it('refuses to run without a Kite registry, and never falls through to the public one', async () => {
    const none = await release({ KITE_REGISTRY: '' })
    expect(none.code).toBe(1)
    expect(none.stderr).toContain('no Kite registry')
    const publicRegistry = await release({ KITE_REGISTRY: 'https://registry.npmjs.org/' })
    expect(publicRegistry.stderr).toContain('refusing to publish to the public npm registry')
    const notKite = await release({ KITE_REGISTRY: `${registry.url}/nothing-here` })
    expect(notKite.stderr).toContain('is not a Kite registry')
    const anonymous = join(work, 'anonymous-npmrc')
    await writeFile(anonymous, '')
    const noToken = await release({ KITE_REGISTRY: registry.url, npm_config_userconfig: anonymous })
    expect(noToken.stderr).toContain(`not logged in to ${registry.url}`)
    const intruderRc = join(work, 'intruder-npmrc')
    await writeFile(
      intruderRc,
      `//127.0.0.1:${registry.port}/:_authToken=${await account('intruder')}\n`,
    )
    const intruder = await release({
      KITE_REGISTRY: registry.url,
      npm_config_userconfig: intruderRc,
    })
    expect(intruder.code).toBe(1)
    expect(intruder.stderr).toContain(
      `intruder is not an owner of @kite on ${registry.url} (owners: releaser)`,
    )
  })

  it('publishes every first-party package, and the catalog lists each plugin with its docs', async () => {
    const result = await release({ KITE_REGISTRY: registry.url })
    expect(result.code, result.stderr).toBe(0)

    const plugins = (await readdir(join(root, 'packages/plugins'))).sort()
    expect(plugins.length).toBeGreaterThanOrEqual(10)
    let types = 0
    for (const plugin of plugins) {
      const pkg = JSON.parse(
        await readFile(join(root, 'packages/plugins', plugin, 'package.json'), 'utf8'),
      )
      const details = await fetch(
        `${registry.url}/-/kite/api/v1/plugins/${encodeURIComponent(pkg.name)}/${pkg.version}`,
      ).then((response) => response.json() as Promise<CatalogVersion>)
      expect(details.manifest.name, plugin).toBe(pkg.name)
      const docs = Object.entries(details.docs.types as Record<string, string>)
      expect(docs.length, plugin).toBeGreaterThan(0)
      for (const [type, markdown] of docs) expect(markdown).toContain(`\`${type}\``)
      types += docs.length
    }
    expect(types).toBeGreaterThanOrEqual(45)

    const sdk = await fetch(`${registry.url}/@kite%2fsdk`).then(
      (response) => response.json() as Promise<{ versions: Record<string, unknown> }>,
    )
    expect(Object.keys(sdk.versions)).toContain(
      JSON.parse(await readFile(join(root, 'packages/sdk/package.json'), 'utf8')).version,
    )
    const again = await release({ KITE_REGISTRY: registry.url })
    expect(again.code, again.stderr).toBe(0)
  }, 300_000)
})
