#!/usr/bin/env node
// `npm run release`: publishes every package whose version is not yet on the Kite registry
// (changesets), after building. The registry comes from KITE_REGISTRY or from the `@kite:registry`
// line of .npmrc; the token must sit in an npmrc (`//host:port/:_authToken=…`).
// Guard: the target must answer Kite's catalog API, so a missing setting can never fall through to
// the public npm registry.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const npmConfig = (key) =>
  spawnSync('npm', ['config', 'get', key], { cwd: root, encoding: 'utf8' }).stdout.trim()

function fail(message) {
  console.error(`release: ${message}`)
  process.exit(1)
}

const configured = process.env.KITE_REGISTRY || npmConfig('@kite:registry')
if (!configured || configured === 'undefined') {
  fail('no Kite registry: set KITE_REGISTRY=http://127.0.0.1:4873 or "@kite:registry=…" in .npmrc')
}
let registry
try {
  registry = new URL(configured)
} catch {
  fail(`"${configured}" is not a URL`)
}
if (/(^|\.)npmjs\.(org|com)$/.test(registry.hostname)) {
  fail(
    `refusing to publish to the public npm registry (${registry.href}); point KITE_REGISTRY at a Kite registry`,
  )
}
const base = registry.href.replace(/\/$/, '')
const probe = await fetch(`${base}/-/kite/api/v1`).catch((error) => error)
if (!(probe instanceof Response) || !probe.ok) {
  fail(`${base} is not a Kite registry (no catalog at /-/kite/api/v1); refusing to publish`)
}
const whoami = spawnSync('npm', ['whoami', '--registry', `${base}/`], {
  cwd: root,
  encoding: 'utf8',
})
if (whoami.status !== 0) {
  fail(
    `not logged in to ${base}: add "//${registry.host}/:_authToken=TOKEN" to an npmrc (kite registry adduser prints it)`,
  )
}
const user = whoami.stdout.trim()
// Only the owners of @kite may publish first-party packages (SPEC 5); say so before building.
const scope = await fetch(`${base}/-/kite/api/v1/scopes/@kite`)
  .then((response) => (response.ok ? response.json() : undefined))
  .catch(() => undefined)
if (scope && scope.owners.length > 0 && !scope.owners.includes(user)) {
  fail(
    `${user} is not an owner of @kite on ${base} (owners: ${scope.owners.join(', ')}); log in as one of them`,
  )
}
console.log(`releasing to ${base} as ${user}`)

const env = { ...process.env, npm_config_registry: `${base}/`, TURBO_TELEMETRY_DISABLED: '1' }
const steps = [
  ['npx', ['turbo', 'run', 'build', '--output-logs=errors-only']],
  ['npx', ['changeset', 'publish', '--no-git-tag']],
]
for (const [command, args] of steps) {
  console.log(`▶ ${command} ${args.join(' ')}`)
  const result = spawnSync(command, args, { cwd: root, env, stdio: 'inherit' })
  if (result.status !== 0) process.exit(result.status ?? 1)
}
console.log(`released to ${base}`)
