// The docs site and the registry's browse UI link to each other per version: checked in Chromium
// against the built docs (`npm run build -w @kite/docs`) and a real registry with the example
// plugin's two versions published.
import { existsSync, mkdirSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join, resolve } from 'node:path'
import { serve } from '@hono/node-server'
import { serveStatic } from '@hono/node-server/serve-static'
import { Hono } from 'hono'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import greetingV1 from '../../../examples/plugins/greeting/src/index.js'
import greetingV2 from '../../../examples/plugins/greeting/v2/src/index.js'
import {
  createUser,
  publishPlugin,
  startTestRegistry,
  type TestRegistry,
} from '../../../packages/registry/test/helpers.js'
import { DEFAULT_PORTS, resolveSiteUrls } from '../../../scripts/ports.mjs'
import { launchChromium } from '../../../tests/chromium.mjs'

const dist = resolve(import.meta.dirname, '../.vitepress/dist')
const NAME = '@acme/kite-plugin-greeting'
/** The registry the docs were built to link to (KITE_REGISTRY_URL at build time, else npm start's). */
const builtRegistry = resolveSiteUrls().registry

let docs: { url: string; close(): Promise<void> }
let registry: TestRegistry
let browser: Browser
const shots = process.env.KITE_SCREENSHOTS

/** The built site with VitePress's clean URLs: `/a/b` is `a/b.html`, `/a/` is `a/index.html`. */
async function serveSite(root: string) {
  const app = new Hono()
  app.use('*', serveStatic({ root }))
  app.use('*', serveStatic({ root, rewriteRequestPath: (path) => `${path}.html` }))
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' })
  await new Promise((done) => server.once('listening', done))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  }
}

async function screenshot(page: Page, name: string) {
  if (!shots) return
  mkdirSync(shots, { recursive: true })
  for (const width of [1280, 360]) {
    await page.setViewportSize({ width, height: 900 })
    // Laid out afresh at this width (VitePress animates its sidebar away on a resize).
    await page.reload()
    await page.screenshot({ path: join(shots, `${name}-${width}.png`), fullPage: true })
  }
}

/** The same path on the test registry (the built docs link to the one they were built for). */
function onTestRegistry(href: string | null): string {
  expect(href?.startsWith(builtRegistry), `${href} should start with ${builtRegistry}`).toBe(true)
  return `${registry.registry.url}/${(href ?? '').slice(builtRegistry.length)}`
}

describe('links between the docs and the registry (built site)', () => {
  beforeAll(async () => {
    expect(existsSync(dist), `${dist} is missing: build the docs first`).toBe(true)
    docs = await serveSite(dist)
    registry = await startTestRegistry({ docsUrl: docs.url, docsReference: [NAME] })
    const token = await createUser(registry.registry.url, 'acme')
    for (const [version, plugin] of [
      ['1.0.0', greetingV1],
      ['2.0.0', greetingV2],
    ] as const) {
      await publishPlugin(registry.registry.url, token, { name: NAME, version, plugin })
    }
    browser = await launchChromium()
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
    await registry?.close()
    await docs?.close()
  })

  for (const javaScriptEnabled of [true, false]) {
    it(`goes from a registry page to its version's reference and back (JavaScript ${javaScriptEnabled ? 'on' : 'off'})`, async () => {
      const context = await browser.newContext({ javaScriptEnabled })
      const page = await context.newPage()
      try {
        // An older version: its own reference pages.
        await page.goto(`${registry.registry.url}/-/kite/plugins/${NAME}?version=1.0.0`)
        await page.click('#docs-reference')
        await page.waitForURL(`${docs.url}reference/acme-greeting/v1.0.0/`)
        await expect(page.locator('h1').first().textContent()).resolves.toContain('Greeting')
        await expect(page.locator('main').textContent()).resolves.toContain(`${NAME}@1.0.0`)
        const back = page.locator('a', { hasText: `${NAME}@1.0.0` }).first()
        await page.goto(onTestRegistry(await back.getAttribute('href')))
        await expect(page.locator('#current-version').textContent()).resolves.toBe('1.0.0')

        // The latest version's type: the docs' v2.0.0/ address sends the reader on to the page.
        await page.goto(`${registry.registry.url}/-/kite/types/acme.greeting.Hello`)
        await page.click('#docs-reference')
        await page.waitForURL(`${docs.url}reference/acme-greeting/hello`)
        await expect(page.locator('main').textContent()).resolves.toContain('acme.greeting.Hello')
        if (javaScriptEnabled) await screenshot(page, 'docs-reference-type')
        const typeBack = page.locator('a', { hasText: 'acme.greeting.Hello in 2.0.0' })
        await page.goto(onTestRegistry(await typeBack.getAttribute('href')))
        await expect(page.locator('h1').textContent()).resolves.toBeTruthy()
        expect(page.url()).toContain('/-/kite/types/acme.greeting.Hello?version=2.0.0')

        // The plugin's latest reference page links to the registry's diff from the version before.
        await page.goto(`${docs.url}reference/acme-greeting/`)
        if (javaScriptEnabled) await screenshot(page, 'docs-reference-plugin')
        const diff = page.locator('a', { hasText: 'what changed since 1.0.0' })
        await page.goto(onTestRegistry(await diff.getAttribute('href')))
        await expect(page.locator('main').textContent()).resolves.toContain('1.0.0')
        expect(page.url()).toContain('/diff?from=1.0.0&to=2.0.0')
      } finally {
        await context.close()
      }
    })
  }

  it('shows the ports of scripts/ports.mjs, never a placeholder', async () => {
    const page = await browser.newPage()
    try {
      await page.goto(`${docs.url}guide/`)
      const text = (await page.locator('main').textContent()) ?? ''
      expect(text).toContain(`http://127.0.0.1:${DEFAULT_PORTS.registry}/-/kite/`)
      expect(text).not.toContain('ports.')
      await screenshot(page, 'docs-guide-ports')
      await page.goto(`${docs.url}cli/`)
      expect(await page.locator('main').textContent()).not.toContain('ports.')
      await screenshot(page, 'docs-cli-ports')
    } finally {
      await page.close()
    }
  })
})
