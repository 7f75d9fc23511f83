import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../../../../tests/chromium.mjs'
import { pokemonV1, pokemonV1_1, pokemonV2, simplePlugin } from '../../test/fixtures/plugins.js'
import {
  createUser,
  deprecateVersion,
  publishPlugin,
  startTestRegistry,
  type TestRegistry,
} from '../../test/helpers.js'

const PKG = '@acme/kite-plugin-pokemon'
const DOCS_PKG = '@acme/kite-plugin-docs'
const README = `# Docs demo

Says things. <script>window.__pwned = 2</script>

- one [safe link](https://example.com/x)
- a [bad link](javascript:window.__pwned=3)

\`\`\`yaml
tasks:
  - id: say
    type: acme.docs.Say
\`\`\`
`
const CHANGELOG = '## 2.0.0\n\n- `Echo` is now `Say`.\n\n## 1.0.0\n\n- First release.\n'
const ICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><script>window.__pwned=4</script><circle cx="5" cy="5" r="5" fill="teal"/></svg>'

let t: TestRegistry
let url: string
let browser: Browser
let shots: string

async function screenshot(page: Page, name: string) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true })
}

beforeAll(async () => {
  t = await startTestRegistry()
  url = t.registry.url
  // Set KITE_SCREENSHOTS to keep the screenshots; by default they go with the temp dir.
  shots = process.env.KITE_SCREENSHOTS ?? join(t.dir, 'screenshots')
  await mkdir(shots, { recursive: true })
  const token = await createUser(url, 'alice')
  await publishPlugin(url, token, { name: PKG, version: '1.0.0', plugin: pokemonV1() })
  await publishPlugin(url, token, { name: PKG, version: '1.1.0', plugin: pokemonV1_1() })
  await publishPlugin(url, token, { name: PKG, version: '2.0.0', plugin: pokemonV2() })
  await deprecateVersion(url, token, PKG, '1.0.0', 'Use 1.1.0 or later: it returns the weight too.')
  for (const [name, group, title] of [
    ['@kite/plugin-http', 'kite.http', 'HTTP'],
    ['@kite/plugin-slack', 'kite.slack', 'Slack'],
    ['@acme/kite-plugin-weather', 'acme.weather', 'Weather'],
  ] as const) {
    await publishPlugin(url, token, { name, version: '1.0.0', plugin: simplePlugin(group, title) })
  }
  await publishPlugin(url, token, {
    name: DOCS_PKG,
    version: '1.0.0',
    plugin: simplePlugin('acme.docs', 'Docs demo'),
    packageJson: {
      homepage: 'https://example.com/docs-demo',
      repository: { type: 'git', url: 'git+https://example.com/acme/docs-demo.git' },
    },
    extraFiles: { 'README.md': README, 'CHANGELOG.md': CHANGELOG, 'icon.svg': ICON },
    mutateManifest(manifest) {
      manifest.permissions = { fsRead: ['/tmp/docs-demo'], env: ['DOCS_TOKEN'] }
    },
  })
  await publishPlugin(url, token, {
    name: DOCS_PKG,
    version: '2.0.0',
    plugin: simplePlugin('acme.docs', 'Docs demo'),
    extraFiles: { 'README.md': README, 'CHANGELOG.md': CHANGELOG, 'icon.svg': ICON },
    mutateManifest(manifest) {
      manifest.permissions = {
        childProcess: true,
        fsRead: ['/tmp/docs-demo'],
        fsWrite: ['/var/docs-demo'],
        env: ['DOCS_TOKEN'],
      }
      const [task] = manifest.tasks as Record<string, unknown>[]
      manifest.tasks = [
        {
          ...task,
          name: 'Say',
          type: 'acme.docs.Say',
          aliases: ['acme.docs.Echo'],
          migrations: [{ from: '1.x', note: '`message` is now `text`.' }],
        },
      ]
    },
  })
  const hostile = simplePlugin('evil.markup', 'Evil <img src=x onerror="window.__pwned=1">')
  await publishPlugin(url, token, {
    name: '@evil/kite-plugin-markup',
    version: '1.0.0',
    plugin: hostile,
  })
  browser = await launchChromium()
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await t?.close()
})

describe('browse UI in a real browser', () => {
  it('searches, opens a plugin, a type, switches version and opens a diff', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } })
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text())
    })

    await page.goto(`${url}/`)
    expect(page.url()).toBe(`${url}/-/kite/`)
    await expect(page.locator('.result').count()).resolves.toBe(6)
    await screenshot(page, '1-home')

    await page.fill('input[name=q]', 'pokémon sighting')
    await page.press('input[name=q]', 'Enter')
    await page.waitForURL(/q=pok/)
    const results = page.locator('.result')
    await expect(results.count()).resolves.toBe(1)
    await expect(results.first().textContent()).resolves.toContain(PKG)
    await screenshot(page, '2-search')

    // A typo still finds the type, and the hit says what it matched and how.
    await page.goto(`${url}/-/kite/?q=sightnig`)
    await expect(results.count()).resolves.toBe(1)
    await expect(page.locator('.result .why').first().textContent()).resolves.toMatch(
      /type acme\.pokemon\.Sighting \(sightnig ≈ sighting\)/,
    )
    await screenshot(page, '2b-search-typo')
    await page.selectOption('#filters select[name=kind]', 'condition')
    await page.click('#filters button')
    await page.waitForURL(/kind=condition/)
    await expect(page.locator('.result').count()).resolves.toBe(0)
    await page.goto(`${url}/-/kite/?q=pok%C3%A9mon%20sighting`)

    await results.first().click()
    await page.waitForURL(`${url}/-/kite/plugins/${PKG}`)
    await expect(page.locator('h1').textContent()).resolves.toBe('Pokémon')
    await expect(page.locator('#current-version').textContent()).resolves.toBe('2.0.0')
    await expect(page.locator('.title-row .badge.latest').count()).resolves.toBe(1)
    await expect(page.locator('#versions tbody tr').count()).resolves.toBe(3)
    const oldRow = page.locator('#versions tbody tr').nth(2)
    await expect(oldRow.locator('td.v a').textContent()).resolves.toBe('1.0.0')
    await expect(oldRow.locator('.badge.deprecated').count()).resolves.toBe(1)
    await expect(oldRow.textContent()).resolves.toContain('Use 1.1.0 or later')
    await expect(page.locator('#install-snippet').textContent()).resolves.toBe(
      `kite plugins install ${PKG}@2.0.0`,
    )
    await expect(page.locator('#npm-snippet').textContent()).resolves.toBe(
      `npm install ${PKG}@2.0.0 --registry ${url}/`,
    )
    await expect(page.locator('#permissions').textContent()).resolves.toContain('None asked')
    const pin = await page.locator('#pin-snippet').textContent()
    expect(pin).toContain('type: acme.pokemon.Fetch\n    version: "2.0.0"')
    expect(pin).toContain('pluginDefaults:\n  - type: acme.pokemon')
    await screenshot(page, '3-plugin')

    await page.click('#types a:has-text("acme.pokemon.Fetch")')
    await page.waitForURL(/\/types\/acme\.pokemon\.Fetch\?version=2\.0\.0/)
    await expect(page.locator('h1').textContent()).resolves.toBe('Fetch a Pokémon')
    await expect(page.locator('#properties tbody tr').count()).resolves.toBe(4)
    await expect(page.locator('#outputs tbody tr').count()).resolves.toBe(1)
    await expect(page.locator('pre code').first().textContent()).resolves.toBe(
      'id: fetch\ntype: acme.pokemon.Fetch\npokemon: gengar',
    )
    await screenshot(page, '4-type')

    await page.selectOption('#version-select', '1.0.0')
    await page.waitForURL(/version=1\.0\.0/)
    const pokemonRow = page.locator('#properties tbody tr', { hasText: 'pokemon' }).first()
    await expect(pokemonRow.textContent()).resolves.toContain('"pikachu"')
    await expect(page.locator('#outputs tbody tr').count()).resolves.toBe(2)
    await expect(page.locator('.notice.bad').textContent()).resolves.toContain(
      'is deprecated: Use 1.1.0 or later',
    )
    await screenshot(page, '5-type-1.0.0')

    await page.click(`.crumbs a:has-text("Pokémon")`)
    await page.waitForURL(/version=1\.0\.0/)
    await page.selectOption('#compare select[name=from]', '1.0.0')
    await page.selectOption('#compare select[name=to]', '2.0.0')
    await page.click('#compare button')
    await page.waitForURL(/diff\?from=1\.0\.0&to=2\.0\.0/)
    await expect(page.locator('h1').textContent()).resolves.toBe('1.0.0 → 2.0.0')
    const breakingRows = await page.locator('tr.row-breaking').count()
    expect(breakingRows).toBeGreaterThan(5)
    await expect(page.locator('#summary').textContent()).resolves.toContain(
      `${breakingRows} breaking`,
    )
    await expect(
      page.locator('tr.row-breaking', { hasText: 'no longer accepts "yaml"' }).count(),
    ).resolves.toBe(1)
    await expect(
      page.locator('tr.row-compatible', { hasText: 'properties.wait' }).count(),
    ).resolves.toBe(1)
    await screenshot(page, '6-diff')

    expect(errors).toEqual([])
    await page.close()
  })

  it('shows README, changelog, icon, links and permissions, and flags more permissions in a diff', async () => {
    for (const [width, suffix] of [
      [1280, 'desktop'],
      [360, 'phone'],
    ] as const) {
      const page = await browser.newPage({ viewport: { width, height: 860 } })
      const errors: string[] = []
      page.on('pageerror', (error) => errors.push(error.message))
      await page.goto(`${url}/-/kite/?q=docs%20ecoh`)
      await expect(page.locator('.result .matched').first().textContent()).resolves.toContain(
        'ecoh ≈ echo',
      )
      await screenshot(page, `6b-search-${suffix}`)
      await page.goto(`${url}/-/kite/plugins/${DOCS_PKG}?version=1.0.0`)
      await expect(page.locator('#readme h3').textContent()).resolves.toBe('Docs demo')
      await expect(page.locator('#readme').textContent()).resolves.toContain('<script>')
      await expect(page.locator('#readme script').count()).resolves.toBe(0)
      await expect(page.locator('#readme a[href^="javascript"]').count()).resolves.toBe(0)
      await expect(page.locator('#readme a[href="https://example.com/x"]').count()).resolves.toBe(1)
      await expect(page.locator('#readme pre code').textContent()).resolves.toContain(
        'type: acme.docs.Say',
      )
      await expect(page.locator('#changelog h4').allTextContents()).resolves.toEqual([
        '2.0.0',
        '1.0.0',
      ])
      await expect(page.locator('#plugin-icon').getAttribute('src')).resolves.toMatch(
        /^data:image\/svg\+xml;base64,/,
      )
      // An SVG shown through <img> runs no script.
      await expect(
        page
          .locator('#plugin-icon')
          .evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth > 0),
      ).resolves.toBe(true)
      await expect(page.locator('#homepage').getAttribute('href')).resolves.toBe(
        'https://example.com/docs-demo',
      )
      await expect(page.locator('#repository').getAttribute('href')).resolves.toBe(
        'https://example.com/acme/docs-demo',
      )
      const permissions = await page.locator('#permissions').textContent()
      expect(permissions).toContain('reads files in /tmp/docs-demo')
      expect(permissions).toContain('reads environment variables DOCS_TOKEN')
      expect(permissions).not.toContain('child processes')
      await expect(page.locator('#install-snippet').textContent()).resolves.toBe(
        `kite plugins install ${DOCS_PKG}@1.0.0`,
      )
      await screenshot(page, `7-plugin-docs-${suffix}`)

      await page.goto(`${url}/-/kite/plugins/${DOCS_PKG}`)
      await page.click('#changed-since')
      await page.waitForURL(/diff\?from=1\.0\.0&to=2\.0\.0/)
      const flagged = await page.locator('#more-permissions').textContent()
      expect(flagged).toContain('2.0.0 asks for more permissions than 1.0.0')
      expect(flagged).toContain('runs child processes')
      expect(flagged).toContain('writes files in /var/docs-demo')
      expect(flagged).not.toContain('DOCS_TOKEN')
      const migrations = await page.locator('#migrations').textContent()
      expect(migrations).toContain('Renamed in 2.0.0: acme.docs.Echo is now acme.docs.Say.')
      expect(migrations).toContain('message is now text.')
      await screenshot(page, `8-diff-docs-${suffix}`)
      const overflow = await page.evaluate(() => {
        const root = (
          globalThis as unknown as {
            document: { documentElement: { scrollWidth: number; clientWidth: number } }
          }
        ).document.documentElement
        return root.scrollWidth - root.clientWidth
      })
      expect(overflow).toBe(0)
      await expect(
        page.evaluate(() => (globalThis as { __pwned?: number }).__pwned),
      ).resolves.toBeUndefined()
      expect(errors).toEqual([])
      await page.close()
    }
    const diff = (await (
      await fetch(`${url}/-/kite/api/v1/plugins/${DOCS_PKG}/diff/1.0.0/2.0.0`)
    ).json()) as { permissions: { added: { fsWrite: string[] } }; upgrade: { type: string }[] }
    expect(diff.permissions.added.fsWrite).toEqual(['/var/docs-demo'])
    expect(diff.upgrade.map((note) => note.type)).toEqual(['acme.docs.Say', 'acme.docs.Say'])
  })

  it('works without JavaScript', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false })
    const page = await context.newPage()
    await page.goto(`${url}/-/kite/types/acme.pokemon.Fetch`)
    await expect(page.locator('#version-select').inputValue()).resolves.toBe('2.0.0')
    await page.selectOption('#version-select', '1.1.0')
    await page.click('#version-switcher button')
    await page.waitForURL(/version=1\.1\.0/)
    await expect(page.locator('#properties').textContent()).resolves.toContain('language')
    await context.close()
  })

  it('shows what plugin authors wrote as text, never as markup', async () => {
    const page = await browser.newPage()
    await page.goto(`${url}/-/kite/?q=evil`)
    await page.click('.result')
    await page.waitForURL(/evil/)
    await expect(page.locator('h1').textContent()).resolves.toBe(
      'Evil <img src=x onerror="window.__pwned=1">',
    )
    await expect(page.locator('img[src=x]').count()).resolves.toBe(0)
    await expect(
      page.evaluate(() => (globalThis as { __pwned?: number }).__pwned),
    ).resolves.toBeUndefined()
    await page.close()
  })

  it('serves /favicon.ico and links the docs site from the header', async () => {
    const icon = await fetch(`${url}/favicon.ico`)
    expect(icon.status).toBe(200)
    expect(icon.headers.get('content-type')).toBe('image/svg+xml')
    expect(await icon.text()).toMatch(/^<svg /)
    await expect(fetch(`${url}/-/kite/`).then((r) => r.text())).resolves.not.toContain(
      'id="docs-link"',
    )
    const withDocs = await startTestRegistry({ docsUrl: 'http://127.0.0.1:5173/' })
    try {
      const page = await (await fetch(`${withDocs.registry.url}/-/kite/`)).text()
      expect(page).toContain(
        '<a class="docs-link" href="http://127.0.0.1:5173/" id="docs-link">Docs</a>',
      )
    } finally {
      await withDocs.close()
    }
  })

  it("links a plugin's and a type's page to that version's reference in the docs, with and without JavaScript", async () => {
    await t.restart({ docsUrl: 'http://docs.test/kite', docsReference: [PKG, '@kite/*'] })
    url = t.registry.url
    try {
      for (const javaScriptEnabled of [true, false]) {
        const context = await browser.newContext({ javaScriptEnabled })
        const page = await context.newPage()
        await page.goto(`${url}/-/kite/plugins/${PKG}?version=1.1.0`)
        await expect(page.locator('#docs-reference').getAttribute('href')).resolves.toBe(
          'http://docs.test/kite/reference/acme-pokemon/v1.1.0/',
        )
        await expect(page.locator('#docs-reference').textContent()).resolves.toBe(
          'Reference for 1.1.0 in the docs',
        )
        await page.goto(`${url}/-/kite/types/acme.pokemon.Fetch`)
        await expect(page.locator('#docs-reference').getAttribute('href')).resolves.toBe(
          'http://docs.test/kite/reference/acme-pokemon/v2.0.0/fetch',
        )
        // The docs have no pages for packages outside `docsReference`: no link.
        await page.goto(`${url}/-/kite/plugins/@acme/kite-plugin-weather`)
        await expect(page.locator('#docs-reference').count()).resolves.toBe(0)
        await page.goto(`${url}/-/kite/plugins/@kite/plugin-http`)
        await expect(page.locator('#docs-reference').getAttribute('href')).resolves.toBe(
          'http://docs.test/kite/reference/kite-http/v1.0.0/',
        )
        if (javaScriptEnabled) {
          await page.setViewportSize({ width: 1280, height: 900 })
          await page.goto(`${url}/-/kite/plugins/${PKG}?version=1.1.0`)
          await screenshot(page, 'plugin-docs-link-1280')
          await page.setViewportSize({ width: 360, height: 800 })
          await screenshot(page, 'plugin-docs-link-360')
          await page.goto(`${url}/-/kite/types/acme.pokemon.Fetch`)
          await screenshot(page, 'type-docs-link-360')
          await page.setViewportSize({ width: 1280, height: 900 })
          await screenshot(page, 'type-docs-link-1280')
        }
        await context.close()
      }
    } finally {
      await t.restart()
      url = t.registry.url
    }
  })

  it('answers unknown pages with a 404 page', async () => {
    const page = await browser.newPage()
    const response = await page.goto(`${url}/-/kite/plugins/@nobody/nothing`)
    expect(response?.status()).toBe(404)
    await expect(page.locator('main').textContent()).resolves.toContain(
      'no plugin named @nobody/nothing',
    )
    await page.close()
  })
})
