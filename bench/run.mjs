#!/usr/bin/env node
// `npm run bench`: runs every bench/<name>/index.mjs in turn (or only those named on the command
// line). Each prints its own figures; this prints the machine they were measured on.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'

const here = fileURLToPath(new URL('.', import.meta.url))
const wanted = process.argv.slice(2)
const suites = readdirSync(here, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(`${here}${entry.name}/index.mjs`))
  .map((entry) => entry.name)
  .filter((name) => wanted.length === 0 || wanted.includes(name))
  .sort()

console.log(
  `Kite benchmarks on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ` +
    `${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
)
if (suites.length === 0) {
  console.log(wanted.length ? `no benchmark named ${wanted.join(', ')}` : 'no benchmarks yet')
  process.exit(wanted.length ? 1 : 0)
}
let failed = 0
for (const suite of suites) {
  console.log(`\n== ${suite}`)
  const result = spawnSync(process.execPath, [`${here}${suite}/index.mjs`], { stdio: 'inherit' })
  if (result.status !== 0) failed++
}
process.exit(failed ? 1 : 0)
