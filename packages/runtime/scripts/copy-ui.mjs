// The runtime ships its web UI: copies the built @kite/ui (packages/ui/dist) into dist/ui, which
// src/api/ui.ts serves at /ui/. turbo builds @kite/ui first (a devDependency of the runtime).
import { cp, rm, stat } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

const from = fileURLToPath(new URL('../../ui/dist/', import.meta.url))
const to = fileURLToPath(new URL('../dist/ui/', import.meta.url))
if (!(await stat(`${from}index.html`).catch(() => undefined))) {
  process.stderr.write(
    `@kite/runtime: the UI is not built (${from}): run \`npm run build -w @kite/ui\` first\n`,
  )
  process.exit(1)
}
await rm(to, { recursive: true, force: true })
await cp(from, to, { recursive: true })
