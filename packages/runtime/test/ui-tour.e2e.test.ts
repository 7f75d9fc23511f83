// The runtime UI in Debian's Chromium (issue 19): a real registry on loopback with the example
// greeting plugin published at 1.0.0 and 2.0.0 by the real npm CLI, a runtime installing from it
// (sync: manual, so 2.0.0 shows as "update available"), and the UI the runtime serves at /ui/.
// A flow author writes, fixes, saves and runs a flow; an admin installs, upgrades and tries to
// uninstall; a viewer finds the changing buttons disabled; an admin manages users and tokens.
// The runtime has users, so every browser pass starts at the login page. Any console error fails
// the tour, except the API answers the tour provokes on purpose (401 from a wrong login, 422 from
// validate, 409 from uninstall, 403 for a viewer), which the browser reports as failed loads.
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Registry } from '@kite/registry'
import type { Browser, ConsoleMessage, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../../../tests/chromium.mjs'
import { createServer, type KiteServer } from '../src/index.js'
import { greetingRegistry } from './plugin-publishing.js'

const GREETING = '@acme/kite-plugin-greeting'
const ADMIN_TOKEN = 'tour-admin-token-0123456789abcdef'
const ADMIN = { name: 'ada', password: 'tour admin password' }
const VIEWER = { name: 'vic', password: 'tour viewer password' }
// biome-ignore lint/suspicious/noExplicitAny: API answers are checked by the assertions below
type Json = any
/** An API call with `KITE_ADMIN_TOKEN` (the runtime has users, so nothing is open). */
const call = (path: string, init: RequestInit = {}, token = ADMIN_TOKEN) =>
  fetch(`${server.url}/api/v1${path}`, {
    ...init,
    headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` },
  })
/** GET an API path's JSON. */
const getJson = async (path: string): Promise<Json> => (await call(path)).json()
let work: string
let shots: string
let registry: Registry
let server: KiteServer
let browser: Browser

const PINNED = `id: pinned
namespace: acme.legacy
tasks:
  - id: hello
    type: acme.greeting.Hello
    version: "1.0.0"
    name: legacy
triggers:
  - id: yearly
    type: kite.trigger.Schedule
    cron: "0 0 1 1 *"
`
const WITH_TYPO = `id: greet
namespace: acme.tour
inputs:
  - id: who
    type: STRING
tasks:
  - id: hello
    type: acme.greeting.Hello
    version: "^1"
    nmae: "{{ inputs.who }}"
`

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kite-ui-tour-'))
  shots = process.env.KITE_SCREENSHOTS ?? join(work, 'screenshots')
  await mkdir(shots, { recursive: true })
  registry = await greetingRegistry(work, 'tour')
  server = await createServer({
    dataDir: join(work, 'data'),
    port: 0,
    registry: registry.url,
    config: { plugins: { sync: 'manual' } },
    adminToken: ADMIN_TOKEN,
  })
  for (const [user, role] of [
    [ADMIN, 'admin'],
    [VIEWER, 'viewer'],
  ] as const) {
    const added = await call('/users', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...user, role }),
    })
    expect(added.status).toBe(201)
  }
  const install = await call('/plugins/install', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ plugins: [`${GREETING}@1.0.0`] }),
  })
  expect(install.status).toBe(200)
  const pinned = await call('/flows', {
    method: 'POST',
    headers: { 'content-type': 'application/x-yaml' },
    body: PINNED,
  })
  expect(pinned.status).toBe(200)
  browser = await launchChromium()
}, 180_000)

afterAll(async () => {
  await browser?.close()
  await server?.close()
  await registry?.close()
  await rm(work, { recursive: true, force: true })
})

/** A page that records console errors; `expected` lists API paths whose 4xx the tour provokes. */
async function openPage(width: number, expected: RegExp[] = []) {
  const page = await browser.newPage({ viewport: { width, height: 900 } })
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(error.message))
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() !== 'error') return
    const url = message.location().url
    if (/Failed to load resource/.test(message.text()) && expected.some((path) => path.test(url)))
      return
    errors.push(`${message.text()} (${url})`)
  })
  return { page, errors }
}

/**
 * A page (1280 px wide, `expected` as for `openPage`) logged in as `user` through the form of the
 * page the app shows at `path` (the login page).
 */
async function openLoggedIn(
  user: { name: string; password: string },
  path: string,
  expected: RegExp[] = [],
) {
  const opened = await openPage(1280, expected)
  const { page } = opened
  await page.goto(`${server.url}/ui/#${path}`)
  await page.fill('input[name=username]', user.name)
  await page.fill('input[name=password]', user.password)
  await page.click('form button[type=submit]:has-text("Log in")')
  await page.locator('.who', { hasText: user.name }).waitFor()
  return opened
}

/**
 * A test's body as `user` from `path` (`openLoggedIn`): then no console error but the `expected`
 * API failures, and the page closed.
 */
const asUser =
  (
    user: { name: string; password: string },
    path: string,
    ...rest:
      | [body: (page: Page) => Promise<void>]
      | [expected: RegExp[], body: (page: Page) => Promise<void>]
  ) =>
  async () => {
    const [expected, body] = rest.length === 1 ? [[], rest[0]] : rest
    const { page, errors } = await openLoggedIn(user, path, expected)
    await body(page)
    expect(errors).toEqual([])
    await page.close()
  }

/** Screenshots at desktop and phone widths (set KITE_SCREENSHOTS to keep them). */
async function shot(page: Page, name: string) {
  for (const width of [1280, 360]) {
    await page.setViewportSize({ width, height: 900 })
    await page.screenshot({ path: join(shots, `${name}-${width}.png`), fullPage: true })
  }
  await page.setViewportSize({ width: 1280, height: 900 })
}

/** Replaces the editor's text as a user pasting would. */
async function setEditor(page: Page, text: string) {
  await page.click('.cm-content')
  await page.keyboard.press('Control+A')
  await page.keyboard.press('Delete')
  await page.keyboard.insertText(text)
}

describe('the runtime UI in Chromium', () => {
  it('serves the app at /ui/, redirects / there, and answers unknown client paths with it', async () => {
    const root = await fetch(`${server.url}/`, { redirect: 'manual' })
    expect(root.status).toBe(302)
    expect(root.headers.get('location')).toBe('/ui/')
    const deep = await fetch(`${server.url}/ui/some/client/path`)
    expect(deep.status).toBe(200)
    expect(await deep.text()).toContain('<div id="app">')
    const missing = await fetch(`${server.url}/ui/assets/nope.js`)
    expect(missing.status).toBe(404)
  })

  it(
    'shows the page a path under /ui/ names (/ui/plugins is #/plugins), query kept',
    asUser(ADMIN, '/flows', async (page) => {
      await page.goto(`${server.url}/ui/plugins`)
      await page.locator('h1', { hasText: 'Versioned Plugins' }).waitFor()
      expect(new URL(page.url()).pathname).toBe('/ui/')
      expect(new URL(page.url()).hash).toBe('#/plugins')
      await page.goto(`${server.url}/ui/executions?state=FAILED`)
      await page.waitForURL(/\/ui\/#\/executions\?state=FAILED$/)
      await page.goBack()
      await page.waitForURL(/\/ui\/#\/plugins$/)
    }),
  )

  it('searches the registry catalog through GET /plugins/catalog, with the installed versions', async () => {
    const response = await call('/plugins/catalog?q=greeting')
    expect(response.status).toBe(200)
    const body: Json = await response.json()
    expect(body.registry).toBe(registry.url)
    expect(body.results).toEqual([
      expect.objectContaining({ name: GREETING, latest: '2.0.0', installed: ['1.0.0'] }),
    ])
    const none = await getJson(`/plugins/catalog?q=zzzqqqxxx`)
    expect(none.results).toEqual([])
  })

  it('tours as a flow author: typo shown inline, fixed, saved, run live with plugin versions', async () => {
    const { page, errors } = await openPage(1280, [
      /\/api\/v1\/flows\/validate/,
      /\/api\/v1\/auth\/login$/,
    ])
    await page.goto(`${server.url}/`)
    await page.waitForURL(/\/ui\/#?\/?/)
    // The runtime has users: the app opens on the login page.
    await page.locator('h1', { hasText: 'Log in to Kite' }).waitFor()
    await expect(page.locator('.top nav').count()).resolves.toBe(0)
    // A wrong password and an unknown user get the same API message next to the form.
    const messages: string[] = []
    for (const [name, password] of [
      [ADMIN.name, 'not the password'],
      ['nobody-here', 'not the password'],
    ] as const) {
      await page.fill('input[name=username]', name)
      await page.fill('input[name=password]', password)
      const [answer] = await Promise.all([
        page.waitForResponse(/\/api\/v1\/auth\/login$/),
        page.click('form button[type=submit]:has-text("Log in")'),
      ])
      expect(answer.status()).toBe(401)
      await expect.poll(() => page.locator('input[name=password]').inputValue()).toBe('')
      messages.push((await page.locator('#login-error').textContent()) ?? '')
    }
    expect(messages).toEqual(['wrong username or password', 'wrong username or password'])
    await shot(page, '0-login-failed')
    await page.fill('input[name=username]', ADMIN.name)
    await page.fill('input[name=password]', ADMIN.password)
    await page.click('form button[type=submit]:has-text("Log in")')
    await page.locator('h1', { hasText: 'Flows' }).waitFor()
    await expect(page.locator('.who').textContent()).resolves.toContain('ada (admin)')
    await expect(page.locator('a', { hasText: 'pinned' }).count()).resolves.toBe(1)
    await shot(page, '1-flows')

    await page.click('text=New flow')
    await page.locator('.cm-content').waitFor()
    await setEditor(page, WITH_TYPO)
    // The inline error appears before anything is saved.
    await page.locator('.cm-lintRange-error').first().waitFor({ timeout: 20_000 })
    await expect(page.locator('#problems').textContent()).resolves.toContain('nmae')
    await expect(page.locator('#validity').textContent()).resolves.toMatch(/problem/)
    await page.hover('.cm-lintRange-error')
    await page.locator('.cm-tooltip-lint').waitFor()
    await shot(page, '2-editor-typo')
    expect((await call('/flows/acme.tour/greet')).status).toBe(404)

    // Completion of a task's properties from the flow JSON Schema, for the resolved version.
    await setEditor(page, `${WITH_TYPO.replace('    nmae: "{{ inputs.who }}"\n', '')}    gree`)
    await page.keyboard.press('Control+Space')
    const completions = page.locator('.cm-tooltip-autocomplete li')
    await completions.first().waitFor()
    await expect(completions.allTextContents()).resolves.toContainEqual(
      expect.stringContaining('greeting'),
    )
    await page.keyboard.press('Escape')

    await setEditor(page, WITH_TYPO.replace('nmae:', 'name:'))
    await expect
      .poll(() => page.locator('#validity').textContent(), { timeout: 20_000 })
      .toContain('Valid')
    await expect(page.locator('.cm-lintRange-error').count()).resolves.toBe(0)
    // Hover docs: the property's description from the version the task resolves to (1.0.0).
    await page.locator('.cm-line', { hasText: 'name: "{{' }).hover({ position: { x: 45, y: 6 } })
    await expect
      .poll(() => page.locator('.cm-tooltip .cm-doc').textContent(), { timeout: 10_000 })
      .toContain('Who to greet.')
    await page.click('button:has-text("Save")')
    await page.waitForURL(/#\/flows\/acme\.tour\/greet$/)
    await page.locator('#resolved').waitFor()
    await expect(page.locator('#resolved').textContent()).resolves.toContain('1.0.0')
    await shot(page, '3-flow')

    await page.click('#tab-run')
    await page.fill('input[name=who]', 'Ada')
    await shot(page, '4-run-form')
    await page.click('button[type=submit]:has-text("Run")')
    await page.waitForURL(/#\/executions\/[\w-]+$/)
    await expect
      .poll(() => page.locator('#execution-state').textContent(), { timeout: 30_000 })
      .toBe('SUCCESS')
    const hello = page.locator('.task-run[data-task=hello]')
    await expect(hello.locator('.plugin-version').textContent()).resolves.toMatch(
      /1\.0\.0[\s\S]*@acme\/kite-plugin-greeting, decided by/,
    )
    await expect(hello.textContent()).resolves.toContain('SUCCESS')
    await expect(page.locator('#logs').textContent()).resolves.toMatch(/\w/)
    await shot(page, '5-execution')

    await page.click('text=← Executions')
    await page.locator('table[aria-label=Executions] tbody tr').first().waitFor()
    await page.selectOption('select[name=state]', 'SUCCESS')
    await expect.poll(() => page.locator('table[aria-label=Executions] tbody tr').count()).toBe(1)
    // A start date in the future leaves nothing; cleared, the execution is back.
    await page.fill('input[name=from]', '2999-01-01T00:00')
    await page.getByText('No executions match.').waitFor()
    await page.fill('input[name=from]', '')
    await expect.poll(() => page.locator('table[aria-label=Executions] tbody tr').count()).toBe(1)
    await shot(page, '6-executions')
    expect(errors).toEqual([])
    await page.close()
  }, 180_000)

  it('tours as an admin: install 2.0.0, upgrade with a dry run, uninstall refused naming flows', async () => {
    // The runtime has heard of 2.0.0 from the registry (sync: manual installs nothing itself).
    await expect
      .poll(
        async () => {
          const list = await getJson(`/plugins`)
          return list.results.find((item: { name: string }) => item.name === GREETING)
            ?.updateAvailable
        },
        { timeout: 30_000 },
      )
      .toBe(true)
    const { page, errors } = await openLoggedIn(ADMIN, '/plugins', [
      /\/api\/v1\/plugins\/uninstall/,
    ])
    const card = page.locator(`[data-plugin="${GREETING}"]`)
    await card.locator('.badge.update').waitFor()
    await expect(card.locator('.badge.update').textContent()).resolves.toContain('2.0.0')
    await shot(page, '7-plugins-update')

    await page.click('button:has-text("Install…")')
    const dialog = page.locator('#install-dialog')
    await dialog.locator('input[name=q]').fill('greeting')
    await dialog.locator('button:has-text("Search")').click()
    await dialog.locator('.hit', { hasText: GREETING }).click()
    await dialog
      .locator('select[name=version] option[value="2.0.0"]')
      .waitFor({ state: 'attached' })
    await dialog.locator('select[name=version]').selectOption('2.0.0')
    await shot(page, '8-install-dialog')
    await dialog.locator('button:has-text("Install 2.0.0")').click()
    await page.locator('.notice', { hasText: `Installed ${GREETING}@2.0.0` }).waitFor()
    await expect(card.locator('.badge.update').count()).resolves.toBe(0)
    await expect(card.locator('tr[data-version]').count()).resolves.toBe(2)

    await card.locator('button:has-text("Upgrade flows…")').click()
    const upgrade = page.locator('#upgrade-dialog')
    await upgrade.locator('select[name=to]').selectOption('2.0.0')
    await upgrade.locator('input[name=namespace]').fill('acme.tour')
    await upgrade.locator('button:has-text("Dry run")').click()
    const report = upgrade.locator('#upgrade-report')
    await report.waitFor()
    await expect(report.textContent()).resolves.toContain('migrated')
    await expect(report.locator('.diff-add').allTextContents()).resolves.toContainEqual(
      expect.stringContaining('who:'),
    )
    await shot(page, '9-upgrade-dry-run')
    // Nothing changed yet: the dry run saves no revision.
    const before = await getJson(`/flows/acme.tour/greet`)
    expect(before.revision).toBe(1)
    await upgrade.locator('button:has-text("Apply")').click()
    await report.locator('text=saved as revision 2').waitFor()
    const after = await getJson(`/flows/acme.tour/greet`)
    expect(after.revision).toBe(2)
    expect(after.source).toContain('version: "2.0.0"')
    expect(after.source).toContain('who: "{{ inputs.who }}"')
    await upgrade.locator('button:has-text("Close")').click()

    const old = card.locator('tr[data-version="1.0.0"]')
    await expect(old.textContent()).resolves.toContain('acme.legacy/pinned')
    await old.locator('button:has-text("Uninstall")').click()
    await old.locator('button:has-text("Confirm uninstall")').click()
    await page.locator('#in-use').waitFor()
    await expect(page.locator('#in-use').textContent()).resolves.toContain('acme.legacy/pinned')
    await shot(page, '10-uninstall-refused')
    const list = await getJson(`/plugins`)
    const versions = list.results
      .find((item: { name: string }) => item.name === GREETING)
      .versions.map((item: { version: string }) => item.version)
    expect(versions).toEqual(['1.0.0', '2.0.0'])
    expect(errors).toEqual([])
    await page.close()
  }, 180_000)

  it(
    'shows revisions, namespaces, triggers (disable), cluster and login pages',
    asUser(ADMIN, '/flows/acme.tour/greet', async (page) => {
      await page.click('#tab-revisions')
      await page.locator('#panel-revisions .diff-add').first().waitFor()
      await expect(
        page.locator('#panel-revisions .diff-add').allTextContents(),
      ).resolves.toContainEqual(expect.stringContaining('who:'))
      await shot(page, '11-revisions')

      await page.click('a:has-text("Namespaces")')
      await page.fill('input[name=namespace]', 'acme.tour')
      await page.click('button:has-text("Load")')
      await page.locator('textarea[name=pluginDefaults]').waitFor()
      await page.fill('textarea[name=pluginDefaults]', '{ not json')
      await page.click('form button[type=submit]:has-text("Save")')
      await expect(page.locator('#defaults-error').textContent()).resolves.toContain('not JSON')
      await shot(page, '12-namespaces')

      await page.click('a:has-text("Triggers")')
      const row = page.locator('table[aria-label=Triggers] tbody tr', { hasText: 'yearly' })
      await row.waitFor()
      await expect(row.textContent()).resolves.toContain('enabled')
      await row.locator('button:has-text("Disable")').click()
      await row.locator('button:has-text("Enable")').waitFor()
      await expect(row.textContent()).resolves.toContain('disabled')
      await shot(page, '13-triggers')

      await page.click('a:has-text("Cluster")')
      // The cluster API exists: the page lists the live nodes, this one-process runtime among them.
      await page.locator('table[aria-label=Nodes]').waitFor()
      await expect(page.locator('#cluster-missing').count()).resolves.toBe(0)
      await expect(
        page
          .locator('table[aria-label=Nodes] td[data-label="Last heartbeat"]')
          .first()
          .textContent(),
      ).resolves.toMatch(/\d/)
      await shot(page, '14-cluster')

      await page.goto(`${server.url}/ui/#/login`)
      await page.locator('input[name=username]').waitFor()
      await expect(
        page.locator('label:has-text("Password") input').getAttribute('type'),
      ).resolves.toBe('password')
      await shot(page, '15-login')

      // Keyboard: the skip link is the first stop and the navigation is reachable by Tab.
      await page.goto(`${server.url}/ui/#/flows`)
      await page.reload()
      await page.locator('h1:has-text("Flows")').waitFor()
      await page.keyboard.press('Tab')
      await expect(page.locator(':focus').textContent()).resolves.toBe('Skip to content')
      await page.keyboard.press('Tab')
      await page.keyboard.press('Tab')
      await expect(page.locator(':focus').textContent()).resolves.toBe('Flows')
      // A page change moves focus to <main> (for screen readers) without a box round the page.
      await page.keyboard.press('Tab')
      await page.keyboard.press('Enter')
      await page.locator('h1:has-text("Executions")').waitFor()
      await expect(page.locator('main:focus').count()).resolves.toBe(1)
      // A string: this package's types have no DOM.
      await expect(
        page.evaluate("getComputedStyle(document.querySelector('main')).outlineStyle"),
      ).resolves.toBe('none')
    }),
    120_000,
  )

  it(
    'shows a viewer the pages with Save, Run, Install, Uninstall disabled and no Users page',
    asUser(VIEWER, '/flows/acme.tour/greet', [/\/api\/v1\/(users|tokens)$/], async (page) => {
      await expect(page.locator('.who').textContent()).resolves.toContain('vic (viewer)')
      await expect(page.locator('button:has-text("Save")').isDisabled()).resolves.toBe(true)
      await page.click('#tab-run')
      await expect(page.locator('button[type=submit]:has-text("Run")').isDisabled()).resolves.toBe(
        true,
      )
      await expect(page.locator('.top nav a', { hasText: 'Users' }).count()).resolves.toBe(0)

      await page.click('a:has-text("Versioned Plugins")')
      const card = page.locator(`[data-plugin="${GREETING}"]`)
      await card.locator('tr[data-version]').first().waitFor()
      await expect(page.locator('button:has-text("Install…")').isDisabled()).resolves.toBe(true)
      await expect(card.locator('button:has-text("Upgrade flows…")').isDisabled()).resolves.toBe(
        true,
      )
      const uninstall = card.locator('button:has-text("Uninstall")')
      expect(await uninstall.count()).toBeGreaterThan(0)
      for (const button of await uninstall.all()) {
        await expect(button.isDisabled()).resolves.toBe(true)
      }
      await shot(page, '17-viewer-plugins')

      // Typed by hand, the Users page shows the API's 403 message.
      await page.goto(`${server.url}/ui/#/users`)
      await page.locator('#users-error').waitFor()
      await expect(page.locator('#users-error').textContent()).resolves.toMatch(/\w/)
    }),
    120_000,
  )

  it(
    'lets an admin add and remove users, create (shown once), list and revoke tokens, log out',
    asUser(ADMIN, '/flows', async (page) => {
      await page.click('.top nav a:has-text("Users")')
      await page.locator('h1:has-text("Users and tokens")').waitFor()
      await page.locator('tr[data-user=ada]').waitFor()
      // The API keeps the last admin, so the page offers no Remove that would be refused.
      const removeAda = page.locator('button[aria-label="Remove user ada"]')
      await expect(removeAda.isDisabled()).resolves.toBe(true)
      await expect(removeAda.getAttribute('title')).resolves.toContain('last admin')
      await expect(page.locator('tr[data-user=vic]').textContent()).resolves.toContain('viewer')

      await page.fill('input[name=user-name]', 'grace')
      await page.selectOption('select[name=user-role]', 'viewer')
      await page.fill('input[name=user-password]', 'grace password 1')
      await page.click('button:has-text("Add user")')
      await page.locator('tr[data-user=grace]').waitFor()
      expect((await getJson('/users')).map((user: { name: string }) => user.name)).toContain(
        'grace',
      )

      await page.fill('input[name=token-name]', 'ci')
      await page.selectOption('select[name=token-role]', 'viewer')
      await page.click('button:has-text("Create token")')
      const secret = (await page.locator('#new-token code').textContent()) ?? ''
      expect(secret.length).toBeGreaterThan(16)
      await page.locator('tr[data-token=ci]').waitFor()
      await expect(page.locator('tr[data-token=ci]').textContent()).resolves.not.toContain(secret)
      expect((await call('/flows', {}, secret)).status).toBe(200)
      await shot(page, '16-users')

      await page.click('button[aria-label="Revoke token ci"]')
      await page.locator('tr[data-token=ci] .revoked').waitFor()
      expect((await call('/flows', {}, secret)).status).toBe(401)
      await page.click('button[aria-label="Remove user grace"]')
      await expect.poll(() => page.locator('tr[data-user=grace]').count()).toBe(0)
      expect((await getJson('/users')).map((user: { name: string }) => user.name)).not.toContain(
        'grace',
      )

      await page.click('button:has-text("Log out")')
      await page.locator('h1', { hasText: 'Log in to Kite' }).waitFor()
      await expect(page.locator('.who').textContent()).resolves.not.toContain('ada')
      await shot(page, '18-logged-out')
    }),
    120_000,
  )

  it(
    'shows no attempt count for a task run that runs no plugin (a Pause)',
    asUser(ADMIN, '/flows', async (page) => {
      const saved = await call('/flows', {
        method: 'POST',
        headers: { 'content-type': 'application/x-yaml' },
        body: 'id: waits\nnamespace: acme.pause\ntasks:\n  - id: wait\n    type: kite.flow.Pause\n',
      })
      expect(saved.status).toBe(200)
      const paused: Json = await (
        await call('/executions/acme.pause/waits?wait=true', { method: 'POST' })
      ).json()
      expect(paused.state.current).toBe('PAUSED')
      await page.goto(`${server.url}/ui/#/executions/${paused.id}`)
      const wait = page.locator('.task-run[data-task=wait]')
      await expect(wait.textContent()).resolves.toContain('PAUSED')
      await expect(wait.locator('dt', { hasText: 'Type' }).count()).resolves.toBe(1)
      await expect(wait.locator('dt', { hasText: 'Attempts' }).count()).resolves.toBe(0)
      await shot(page, '19-paused')
      expect((await call(`/executions/${paused.id}/resume`, { method: 'POST' })).status).toBe(200)
    }),
    120_000,
  )
})
