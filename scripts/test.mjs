#!/usr/bin/env node
// `npm test`: build, lint, typecheck, then every vitest test. Prints `N passed, N failed` last,
// counted from vitest's JSON report (a failed earlier step counts as one failure).
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const report = 'test-results/vitest.json'
const env = {
  ...process.env,
  TURBO_TELEMETRY_DISABLED: '1',
  FORCE_COLOR: process.env.CI ? '0' : '1',
}
const extra = process.argv.slice(2)

const steps = [
  ['build', 'npx', ['turbo', 'run', 'build', '--output-logs=errors-only']],
  ['lint', 'npx', ['biome', 'check', '.']],
  ['typecheck', 'npx', ['turbo', 'run', 'typecheck', '--output-logs=errors-only']],
  ['typecheck tests/', 'npx', ['tsc', '-p', 'tests/tsconfig.json']],
  [
    'tests',
    'npx',
    [
      'vitest',
      'run',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${report}`,
      ...extra,
    ],
  ],
]

function run(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env, stdio: 'inherit' })
    child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
  })
}

rmSync(new URL(`../${report}`, import.meta.url), { force: true })
let testsExitCode = 0
for (const [name, command, args] of steps) {
  const started = Date.now()
  console.log(`\n▶ ${name}`)
  const code = await run(command, args)
  console.log(`${code === 0 ? '✓' : '✗'} ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`)
  if (name === 'tests') {
    testsExitCode = code
    break
  }
  if (code !== 0) {
    console.log('0 passed, 1 failed')
    process.exit(code)
  }
}

const path = new URL(`../${report}`, import.meta.url)
if (!existsSync(path)) {
  console.log('0 passed, 1 failed')
  process.exit(1)
}
const results = JSON.parse(readFileSync(path, 'utf8'))
// A file that fails to load counts as a failure even though it reported no test.
const brokenFiles = results.testResults.filter(
  (file) => file.status === 'failed' && file.assertionResults.length === 0,
).length
// Vitest also fails a run for errors outside any test (unhandled rejections): count those as one.
const outsideTests = testsExitCode !== 0 && results.numFailedTests + brokenFiles === 0 ? 1 : 0
const failed = results.numFailedTests + brokenFiles + outsideTests
const skipped = results.numPendingTests + results.numTodoTests
console.log(
  `${results.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`,
)
process.exit(failed > 0 || !results.success || results.numTotalTests === 0 ? 1 : 0)
