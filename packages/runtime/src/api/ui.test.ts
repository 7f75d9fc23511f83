import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { useTestServer } from '../../test/fixtures/test-server.js'
import { createUiRoutes } from './ui.js'

let root: string
let ui: ReturnType<typeof createUiRoutes>
const INDEX = '<!doctype html><div id="app"></div>'

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kite-ui-static-'))
  await mkdir(join(root, 'dist', 'assets'), { recursive: true })
  await writeFile(join(root, 'dist', 'index.html'), INDEX)
  await writeFile(join(root, 'dist', 'assets', 'app-1234.js'), 'export {}')
  await writeFile(join(root, 'secret.txt'), 'outside the UI')
  ui = createUiRoutes(join(root, 'dist'))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('the UI routes', () => {
  it('redirects / and /ui to /ui/', async () => {
    for (const path of ['/', '/ui']) {
      const response = await ui.request(path)
      expect(response.status).toBe(302)
      expect(response.headers.get('location')).toBe('/ui/')
    }
  })

  it('serves hashed assets cached for a year and index.html revalidated', async () => {
    const asset = await ui.request('/ui/assets/app-1234.js')
    expect(asset.status).toBe(200)
    expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/)
    expect(asset.headers.get('cache-control')).toContain('immutable')
    const index = await ui.request('/ui/')
    expect(await index.text()).toBe(INDEX)
    expect(index.headers.get('cache-control')).toBe('no-cache')
  })

  it('answers client routes with index.html, a missing asset with 404', async () => {
    expect(await (await ui.request('/ui/flows/a.b/c')).text()).toBe(INDEX)
    const missing = await ui.request('/ui/assets/gone-999.js')
    expect(missing.status).toBe(404)
    expect(await missing.text()).toContain('/ui/assets/gone-999.js')
    expect((await ui.request('/ui/favicon.ico')).status).toBe(404)
  })

  it('never serves a file outside its directory, whatever the path', async () => {
    for (const path of [
      '/ui/../secret.txt',
      '/ui/%2e%2e/secret.txt',
      '/ui/..%2fsecret.txt',
      '/ui/%2e%2e%2fsecret.txt',
    ]) {
      const response = await ui.request(path)
      expect(await response.text(), path).not.toContain('outside the UI')
    }
    expect((await ui.request('/ui/%E0%A4%A')).status).toBe(400)
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.string(), fc.constantFrom('..', '%2e%2e', '%2f', '\0', '.')), {
          maxLength: 6,
        }),
        async (parts) => {
          const response = await ui.request(
            `/ui/${parts.map((part) => encodeURIComponent(part)).join('/')}`,
          )
          expect([200, 302, 400, 404]).toContain(response.status)
          expect(await response.text()).not.toContain('outside the UI')
        },
      ),
      { numRuns: 200 },
    )
    expect((await ui.request('/ui/')).status).toBe(200)
  })

  it('says how to build the UI when it is not built', async () => {
    const response = await createUiRoutes(null).request('/ui/')
    expect(response.status).toBe(503)
    expect(await response.text()).toContain('npm run build -w @kite/ui')
  })
})

describe('GET /api/v1/plugins/catalog without a registry', () => {
  const test = useTestServer('kite-ui-catalog-')

  it('answers 502 saying how to configure one, and the server stays up', async () => {
    const response = await fetch(`${test.server.url}/api/v1/plugins/catalog?q=http`)
    expect(response.status).toBe(502)
    const body = (await response.json()) as { code: string; message: string }
    expect(body).toMatchObject({ code: 'REGISTRY_UNAVAILABLE' })
    expect(body.message).toContain('--registry')
    for (const query of ['size=abc', 'size=0', 'size=51', `q=${'x'.repeat(201)}`]) {
      const bad = await fetch(`${test.server.url}/api/v1/plugins/catalog?${query}`)
      expect(bad.status, query).toBe(400)
      expect(((await bad.json()) as { code: string }).code).toBe('REQUEST_INVALID')
    }
    expect((await fetch(`${test.server.url}/api/v1/health`)).status).toBe(200)
  })
})
