// The newcomer's tour: `npm start` on free loopback ports, then a real browser through the
// registry UI (search, plugin page, type docs, version switch, the diff of the two greeting
// versions) and the docs site (getting started, a generated reference page). Ctrl-C stops it all.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from './chromium.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
let work: string
let shots: string
let start: ChildProcess
let output = ''
let browser: Browser
const urls = { registry: '', runtime: '', docs: '' }

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })
}

/** The admin token the test gives `npm start`; the runtime has a user, so every call needs one. */
const ADMIN_TOKEN = 'main-job-test-admin-token'
const authorization = { authorization: `Bearer ${ADMIN_TOKEN}` }

async function shot(page: Page, name: string) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true })
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kite-main-job-'))
  shots = process.env.KITE_SCREENSHOTS ?? join(work, 'screenshots')
  await mkdir(shots, { recursive: true })
  const [registry, runtime, docs] = [await freePort(), await freePort(), await freePort()]
  start = spawn(process.execPath, [join(root, 'scripts/start.mjs')], {
    cwd: root,
    env: {
      ...process.env,
      KITE_STATE_DIR: join(work, 'state'),
      KITE_REGISTRY_PORT: String(registry),
      KITE_PORT: String(runtime),
      KITE_DOCS_PORT: String(docs),
      KITE_ADMIN_TOKEN: ADMIN_TOKEN,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  start.stdout?.on('data', (chunk) => {
    output += chunk
  })
  start.stderr?.on('data', (chunk) => {
    output += chunk
  })
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (output.includes('Ctrl-C stops everything.')) {
        clearInterval(timer)
        resolve()
      }
    }, 100)
    start.once('exit', (code) => {
      clearInterval(timer)
      reject(new Error(`npm start exited with ${code}:\n${output}`))
    })
  })
  urls.registry = `http://127.0.0.1:${registry}`
  urls.runtime = `http://127.0.0.1:${runtime}`
  urls.docs = `http://127.0.0.1:${docs}`
  browser = await launchChromium()
}, 600_000)

afterAll(async () => {
  await browser?.close()
  if (start && start.exitCode === null) {
    start.kill('SIGINT')
    await new Promise((resolve) => start.once('exit', resolve))
  }
  await rm(work, { recursive: true, force: true })
})

describe('npm start', () => {
  it('prints the URLs and what each pinning example ran on', () => {
    expect(output).toContain(`registry UI   ${urls.registry}/-/kite/`)
    expect(output).toContain(`runtime API   ${urls.runtime}/api/v1`)
    expect(output).toContain(`runtime UI    ${urls.runtime}/ui/`)
    // The build says which package it finished, one line each.
    expect(output).toMatch(/^ {2}built @kite\/runtime \(\d+\.\d s/m)
    expect(output).toMatch(/^ {2}built @kite\/ui \(\d+\.\d s/m)
    expect(output).toContain(`docs          ${urls.docs}`)
    expect(output).toMatch(
      /pin-exact +acme\.greeting\.Hello@1\.0\.0 \(decided by task\) → SUCCESS "Hello, exact!"/,
    )
    expect(output).toMatch(
      /pin-latest +acme\.greeting\.Hello@2\.0\.0 \(decided by task\) → SUCCESS "Hello, latest!"/,
    )
    expect(output).toMatch(
      /pin-namespace +acme\.greeting\.Hello@1\.0\.0 \(decided by namespace\) → SUCCESS/,
    )
    expect(output).toMatch(
      /pin-flow-defaults +acme\.greeting\.Hello@1\.0\.0 \(decided by flow\) → SUCCESS "Hi, flow defaults!"/,
    )
  })

  it('creates a first user and prints how to log in', async () => {
    const [, password] =
      new RegExp(`log in +at ${urls.runtime}/ui/ as admin / (\\S+)`).exec(output) ?? []
    expect(password).toBeDefined()
    expect((await fetch(`${urls.runtime}/api/v1/flows`)).status).toBe(401)
    const login = await fetch(`${urls.runtime}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    })
    expect(login.status).toBe(200)
  })

  it('answers every printed URL: / redirects to the UI, which is served', async () => {
    const root = await fetch(`${urls.runtime}/`, { redirect: 'manual' })
    expect(root.status).toBe(302)
    expect(root.headers.get('location')).toBe('/ui/')
    const ui = await fetch(`${urls.runtime}/ui/`)
    expect(ui.status).toBe(200)
    expect(await ui.text()).toContain('<div id="app">')
    expect((await fetch(`${urls.runtime}/api/v1`)).status).toBe(200)
  })

  it('runs first-party plugins installed from the registry, bundled dependencies included', async () => {
    // jsonata and SQLite-as-WebAssembly travel inside their plugins' bundles: these flows run them
    // from the tarballs the runtime installed, not from the sources.
    for (const id of ['http-transform', 'sqlite-to-csv']) {
      const response = await fetch(
        `${urls.runtime}/api/v1/executions/kite.examples/${id}?wait=true`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...authorization },
          body: JSON.stringify(id === 'http-transform' ? { registry: urls.registry } : {}),
        },
      )
      const execution = (await response.json()) as {
        state: { current: string }
        taskRunList: Array<{
          taskId: string
          pluginVersion: string
          outputs?: Record<string, unknown>
        }>
      }
      expect(execution.state.current, JSON.stringify(execution)).toBe('SUCCESS')
      for (const taskRun of execution.taskRunList) expect(taskRun.pluginVersion).toBe('1.0.0')
      if (id === 'http-transform') {
        const names = execution.taskRunList.find((run) => run.taskId === 'names')?.outputs?.value
        expect(names).toEqual(
          expect.arrayContaining(['@kite/plugin-sqlite', '@acme/kite-plugin-greeting']),
        )
      } else {
        const csv = execution.taskRunList.find((run) => run.taskId === 'csv')?.outputs
          ?.uri as string
        const file = await fetch(
          `${urls.runtime}/api/v1/executions/${(execution as unknown as { id: string }).id}/file?uri=${encodeURIComponent(csv)}`,
          { headers: authorization },
        )
        expect(await file.text()).toContain('Grace,45')
      }
    }
  })

  it('tours the registry UI in a browser', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } })
    await page.goto(`${urls.registry}/-/kite/`)
    await page.fill('input[name=q]', 'greeting')
    await page.press('input[name=q]', 'Enter')
    await page.waitForURL(/q=greeting/)
    await page.locator('.result', { hasText: '@acme/kite-plugin-greeting' }).first().click()
    await page.waitForURL(/plugins\/@acme\/kite-plugin-greeting/)
    await expect(page.locator('#current-version').textContent()).resolves.toBe('2.0.0')
    await expect(page.locator('#versions tbody tr').count()).resolves.toBe(2)
    await shot(page, 'registry-plugin')

    await page.click('#types a:has-text("acme.greeting.Hello")')
    await page.waitForURL(/types\/acme\.greeting\.Hello/)
    await expect(page.locator('#properties').textContent()).resolves.toContain('who')
    await page.selectOption('#version-select', '1.0.0')
    await page.waitForURL(/version=1\.0\.0/)
    await expect(page.locator('#properties').textContent()).resolves.toContain('name')
    await shot(page, 'registry-type-1.0.0')

    await page.goto(
      `${urls.registry}/-/kite/plugins/@acme/kite-plugin-greeting/diff?from=1.0.0&to=2.0.0`,
    )
    await expect(
      page.locator('tr.row-breaking', { hasText: 'name' }).count(),
    ).resolves.toBeGreaterThan(0)
    await shot(page, 'registry-diff')
    await page.close()
  })

  it('tours the docs site in a browser', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } })
    const response = await page.goto(`${urls.docs}/`)
    expect(response?.status()).toBe(200)
    await page.goto(`${urls.docs}/guide/`)
    await expect(page.locator('h1').first().textContent()).resolves.toMatch(/getting started/i)
    await expect(page.locator('main').textContent()).resolves.toContain('npm start')
    await shot(page, 'docs-getting-started')
    const reference = await page.goto(`${urls.docs}/reference/`)
    expect(reference?.status()).toBe(200)
    await page.locator('main a', { hasText: 'HTTP' }).first().click()
    await page.waitForURL(/reference\/kite-http\/?$/)
    await page.locator('main a', { hasText: 'kite.http.Request' }).first().click()
    await page.waitForURL(/reference\/kite-http\/request/)
    // The address changes before the page's content does (client-side navigation).
    await page.locator('main', { hasText: 'Properties' }).waitFor()
    await expect(page.locator('main').textContent()).resolves.toContain('uri')
    await shot(page, 'docs-reference')
    await page.close()
  })

  it('stops everything on Ctrl-C', async () => {
    start.kill('SIGINT')
    const code = await new Promise((resolve) => start.once('exit', resolve))
    expect(code).toBe(0)
    await expect(fetch(`${urls.registry}/-/kite/api/v1`)).rejects.toThrow()
    await expect(fetch(`${urls.runtime}/api/v1/health`)).rejects.toThrow()
  })
})
