import { existsSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { extname, join, normalize, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Hono } from 'hono'

/** Where the web UI is served. */
export const UI_PREFIX = '/ui'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
}

/**
 * The built UI: `dist/ui/` next to the runtime's bundle (the runtime's build copies
 * `packages/ui/dist` there, so the published package carries it), else `packages/ui/dist` of
 * the repository when the runtime runs from its sources (tests).
 */
export function resolveUiDir(): string | undefined {
  const candidates = [
    new URL('./ui/', import.meta.url),
    new URL('../../../ui/dist/', import.meta.url),
  ]
  return candidates
    .map((url) => fileURLToPath(url))
    .find((dir) => existsSync(join(dir, 'index.html')))
}

/**
 * `/` → 302 `/ui/`; `/ui/` the UI's files. Hashed assets are cached for a year, `index.html` is
 * revalidated each time; any other path under `/ui/` answers `index.html` (client routing), but a
 * missing asset is a 404, never HTML in place of a script. `dir: null`: not built (503 saying so).
 */
export function createUiRoutes(dir: string | null = resolveUiDir() ?? null) {
  const app = new Hono()
  const root = dir ? normalize(dir + sep) : undefined
  const send = async (file: string, cache: string) => {
    const body = await readFile(file)
    return new Response(body, {
      headers: {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'cache-control': cache,
        'x-content-type-options': 'nosniff',
      },
    })
  }
  app.get('/', (c) => c.redirect(`${UI_PREFIX}/`, 302))
  app.get(UI_PREFIX, (c) => c.redirect(`${UI_PREFIX}/`, 302))
  app.get(`${UI_PREFIX}/*`, async (c) => {
    if (!root) {
      return c.text(
        'The Kite UI is not built: run `npm run build -w @kite/ui`, then build the runtime.',
        503,
      )
    }
    let relative: string
    try {
      relative = decodeURIComponent(c.req.path.slice(UI_PREFIX.length + 1))
    } catch {
      return c.text('bad path', 400)
    }
    const file = normalize(join(root, relative))
    if (relative && file.startsWith(root) && !relative.includes('\0')) {
      const info = await stat(file).catch(() => undefined)
      if (info?.isFile()) {
        const hashed = relative.startsWith('assets/')
        return send(file, hashed ? 'public, max-age=31536000, immutable' : 'no-cache')
      }
    }
    if (relative.startsWith('assets/') || extname(relative) !== '') {
      return c.text(`no file ${c.req.path}`, 404)
    }
    return send(join(root, 'index.html'), 'no-cache')
  })
  return app
}
