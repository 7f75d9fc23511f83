import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { simplePlugin } from '../test/fixtures/plugins.js'
import {
  createUser,
  getJson,
  packTarball,
  publishBody,
  publishPlugin,
  rawPublish,
  startTestRegistry,
  type TestRegistry,
} from '../test/helpers.js'
import { createVerdaccioConfig } from './verdaccio-config.js'

describe('upstream proxying', () => {
  let upstream: TestRegistry
  let local: TestRegistry

  beforeAll(async () => {
    upstream = await startTestRegistry()
    const token = await createUser(upstream.registry.url, 'publisher')
    const tarball = await packTarball({ 'package.json': '{"name":"tiny-util","version":"2.0.0"}' })
    expect(
      (
        await rawPublish(
          upstream.registry.url,
          token,
          publishBody('tiny-util', '2.0.0', tarball),
          'tiny-util',
        )
      ).status,
    ).toBe(201)
    await publishPlugin(upstream.registry.url, token, {
      name: '@kite/plugin-remote',
      version: '1.0.0',
      plugin: simplePlugin('kite.remote'),
    })
    await publishPlugin(upstream.registry.url, token, {
      name: '@acme/kite-plugin-far',
      version: '1.0.0',
      plugin: simplePlugin('acme.far'),
    })
    local = await startTestRegistry({ upstream: upstream.registry.url })
  })

  afterAll(async () => {
    await local?.close()
    await upstream?.close()
  })

  it('is off by default', async () => {
    expect((await fetch(`${upstream.registry.url}/left-pad`)).status).toBe(404)
    expect(createVerdaccioConfig({ storageDir: '/s', packagesDir: '/s/p' })).toMatchObject({
      uplinks: {},
      packages: { '**': { access: '$all', publish: '$authenticated' } },
    })
  })

  it('serves packages it lacks from the upstream, but never @kite/* ones', async () => {
    const proxied = await getJson<{ versions: Record<string, { dist: { tarball: string } }> }>(
      `${local.registry.url}/tiny-util`,
    )
    expect(proxied.status).toBe(200)
    expect(proxied.body.versions['2.0.0']?.dist.tarball).toBe(
      `${local.registry.url}/tiny-util/-/tiny-util-2.0.0.tgz`,
    )
    expect((await fetch(`${local.registry.url}/@kite%2fplugin-remote`)).status).toBe(404)
  })

  it('keeps proxied plugins out of its own catalog, also after a restart', async () => {
    const name = '@acme/kite-plugin-far'
    const packument = await getJson<{ versions: Record<string, { dist: { tarball: string } }> }>(
      `${local.registry.url}/${name.replace('/', '%2f')}`,
    )
    const tarball = packument.body.versions['1.0.0']?.dist.tarball ?? ''
    expect(tarball.startsWith(local.registry.url)).toBe(true)
    const download = await fetch(tarball)
    expect(download.status).toBe(200)
    await download.arrayBuffer()
    // It is cached in the local storage now; the catalog still only lists what was published here.
    const cached = join(local.storage, 'packages', name, 'kite-plugin-far-1.0.0.tgz')
    for (let wait = 0; wait < 100 && !existsSync(cached); wait++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(existsSync(cached)).toBe(true)
    await local.restart()
    const { body } = await getJson<{ plugins: number; versions: number }>(
      `${local.registry.url}/-/kite/api/v1`,
    )
    expect(body).toMatchObject({ plugins: 0, versions: 0 })
  })
})
