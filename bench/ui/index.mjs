#!/usr/bin/env node
// Runtime UI benchmark (`npm run bench ui`, after a build): the JavaScript the first page
// (#/flows) loads, gzipped, and the time until it is usable (the flow list shown) from a warm
// runtime, in Debian's Chromium with a cold browser cache each run. Targets (PERFORMANCE.md):
// ≤ 250 kB gzipped, ≤ 1 s. The flow editor's chunk (CodeMirror) is printed for comparison.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { createServer } from '@kite/runtime'
import { launchChromium } from '../../tests/chromium.mjs'

const RUNS = 15
const dataDir = await mkdtemp(join(tmpdir(), 'kite-bench-ui-'))
const server = await createServer({ dataDir, port: 0, scheduler: false })
const browser = await launchChromium()

/** Loads a route in a fresh context; the JS it fetched (gzipped bytes) and ms until `ready`. */
async function load(route, ready) {
  const context = await browser.newContext()
  const page = await context.newPage()
  const scripts = new Map()
  page.on('response', async (response) => {
    if (!response.url().endsWith('.js')) return
    scripts.set(response.url(), gzipSync(await response.body()).length)
  })
  const start = performance.now()
  await page.goto(`${server.url}/ui/${route}`)
  await page.locator(ready).first().waitFor()
  const ms = performance.now() - start
  await page.waitForLoadState('networkidle')
  await context.close()
  return { ms, bytes: [...scripts.values()].reduce((sum, size) => sum + size, 0) }
}

const percentile = (values, p) =>
  values.toSorted((a, b) => a - b)[
    Math.min(values.length - 1, Math.floor((values.length * p) / 100))
  ]
try {
  await load('#/flows', 'text=No flows') // warm the runtime
  const times = []
  let bytes = 0
  for (let run = 0; run < RUNS; run++) {
    const result = await load('#/flows', 'text=No flows')
    times.push(result.ms)
    bytes = result.bytes
  }
  const editor = await load('#/flows/_new', '.cm-content')
  console.log(
    `first page (#/flows) JavaScript: ${(bytes / 1024).toFixed(1)} kB gzipped (target ≤ 250 kB)`,
  )
  console.log(
    `first page usable from a warm runtime, cold browser cache, ${RUNS} runs: median ${percentile(times, 50).toFixed(0)} ms, p95 ${percentile(times, 95).toFixed(0)} ms (target ≤ 1000 ms)`,
  )
  console.log(
    `flow editor page JavaScript (CodeMirror, loaded on demand): ${(editor.bytes / 1024).toFixed(1)} kB gzipped, usable in ${editor.ms.toFixed(0)} ms`,
  )
} finally {
  await browser.close()
  await server.close()
  await rm(dataDir, { recursive: true, force: true })
}
