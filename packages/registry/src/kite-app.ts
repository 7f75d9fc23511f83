import type { Logger } from '@kite/sdk'
import { listManifestTypes, renderPluginMarkdown, renderTypeMarkdown } from '@kite/sdk/host'
import { type Context, Hono } from 'hono'
import { cors } from 'hono/cors'
import { streamSSE } from 'hono/streaming'
import type { Catalog } from './catalog.js'
import { checkFilter, FILTER_NAMES, type SearchFilters } from './catalog-search.js'
import type { CatalogEvent, PluginDetails, StoredEvent } from './catalog-types.js'
import type { EventHub } from './event-hub.js'
import { splitPackagePath } from './npm-gateway.js'
import { addedPermissions, NO_PERMISSIONS } from './package-docs.js'
import { diffManifests, upgradeNotes } from './schema-diff.js'
import { DEFAULT_DOCS_REFERENCE, type DocsLinks } from './ui/docs-links.js'
import type { SafeHtml } from './ui/html.js'
import { ICON_SVG, renderPage, UI_BASE, UI_HEADERS, UI_SCRIPT } from './ui/layout.js'
import { diffPage, notFoundPage, pluginPage, pluginUrl, searchPage, typePage } from './ui/pages.js'

/** Where the catalog API lives. */
export const API_BASE = `${UI_BASE}/api/v1`

export interface KiteAppOptions {
  catalog: Catalog
  hub: EventHub
  /** Milliseconds between SSE heartbeat comments. */
  heartbeatMs: number
  logger: Logger
  /** Scope owners set in the registry's config. */
  scopeOwners?: Readonly<Record<string, readonly string[]>>
  /** The docs site, linked from every page's header when set. */
  docsUrl?: string
  /** Packages the docs site has reference pages for (default `DEFAULT_DOCS_REFERENCE`). */
  docsReference?: readonly string[]
}

class NotFound extends Error {}
class BadRequest extends Error {}

/** The `kind`, `group` and `keyword` query parameters; a bad one is a 400 naming it. */
function searchFilters(c: Context): SearchFilters {
  const filters: SearchFilters = {}
  for (const name of FILTER_NAMES) {
    const values = c.req.queries(name) ?? []
    if (values.length === 0 || values.every((value) => value === '')) continue
    if (values.length > 1)
      throw new BadRequest(`give the ${name} filter once (got ${values.length})`)
    const checked = checkFilter(name, values[0] as string)
    if (typeof checked === 'string') throw new BadRequest(checked)
    Object.assign(filters, checked)
  }
  return filters
}

/** The catalog API, the event stream and the browse UI: everything under `/-/kite/`. */
export function createKiteApp(options: KiteAppOptions): Hono {
  const { catalog, hub } = options
  const app = new Hono()
  const docs: DocsLinks | undefined = options.docsUrl
    ? { url: options.docsUrl, reference: options.docsReference ?? DEFAULT_DOCS_REFERENCE }
    : undefined

  // --- API ------------------------------------------------------------------------------------

  // The catalog is public and read-only: any page (the docs site, a dashboard) may read it.
  app.use(`${API_BASE}/*`, cors({ origin: '*', allowMethods: ['GET', 'HEAD'] }))
  app.use(API_BASE, cors({ origin: '*', allowMethods: ['GET', 'HEAD'] }))

  app.get(API_BASE, (c) =>
    c.json({ ...catalog.versions.stats(), lastEventId: catalog.events.lastEventId() }),
  )

  app.get(`${API_BASE}/plugins`, (c) => {
    const result = catalog.finder.search(
      c.req.query('q') ?? '',
      Number(c.req.query('page') ?? 1),
      Number(c.req.query('size') ?? 20),
      searchFilters(c),
    )
    return c.json(result)
  })

  app.get(`${API_BASE}/plugins/*`, (c) => {
    const parsed = splitPackagePath(c.req.path.slice(`${API_BASE}/plugins`.length))
    if (!parsed) throw new NotFound('no plugin name in the path')
    const { name, rest } = parsed
    const plugin = requirePlugin(name)
    const origin = originOf(c)
    if (rest.length === 0) return c.json(pluginJson(plugin, origin))
    if (rest[0] === 'diff' && rest.length === 3) {
      const from = requireVersion(name, rest[1] as string)
      const to = requireVersion(name, rest[2] as string)
      const permissions = {
        from: from.docs?.permissions ?? NO_PERMISSIONS,
        to: to.docs?.permissions ?? NO_PERMISSIONS,
      }
      return c.json({
        ...diffManifests(from.manifest, to.manifest),
        // Added beside the schema changes (older clients ignore them).
        upgrade: upgradeNotes(to.manifest, from.version),
        permissions: { ...permissions, added: addedPermissions(permissions.from, permissions.to) },
      })
    }
    const record = requireVersion(name, rest[0] as string)
    if (rest.length === 3 && rest[1] === 'docs') {
      const type = rest[2] as string
      if (!listManifestTypes(record.manifest).some(({ entry }) => entry.type === type)) {
        throw new NotFound(`${name}@${record.version} has no type "${type}"`)
      }
      return c.body(renderTypeMarkdown(record.manifest, type), 200, {
        'content-type': 'text/markdown; charset=utf-8',
      })
    }
    if (rest.length !== 1) throw new NotFound(`no such resource under ${name}`)
    const types: Record<string, string> = {}
    for (const { entry } of listManifestTypes(record.manifest)) {
      types[entry.type] = renderTypeMarkdown(record.manifest, entry.type)
    }
    return c.json({
      name,
      version: record.version,
      latest: record.version === plugin.latest,
      published: record.published,
      deprecated: record.deprecated,
      integrity: record.integrity,
      manifestHash: record.manifestHash,
      tarball: `${origin}${record.tarballPath}`,
      distTags: plugin.distTags,
      manifest: record.manifest,
      docs: { plugin: renderPluginMarkdown(record.manifest), types },
      // README, CHANGELOG, icon, links and permissions; null for versions indexed before them.
      package: record.docs ?? null,
    })
  })

  // Who may create packages in a scope (release scripts check this before publishing anything).
  app.get(`${API_BASE}/scopes/:scope`, (c) => {
    const scope = c.req.param('scope')
    if (!/^@[a-z0-9][a-z0-9._~-]*$/.test(scope)) throw new NotFound(`"${scope}" is not a scope`)
    const configured = options.scopeOwners?.[scope]
    return c.json({
      scope,
      owners: configured ?? catalog.owners.scopeMembers(scope),
      configured: configured !== undefined,
    })
  })

  app.get(`${API_BASE}/types/:type`, (c) => {
    const type = c.req.param('type')
    const details = catalog.versions.type(type)
    if (!details) throw new NotFound(`no plugin provides the type "${type}"`)
    return c.json(details)
  })

  app.get(`${API_BASE}/events`, (c) => {
    const origin = originOf(c)
    const since = parseEventId(c.req.header('last-event-id') ?? c.req.query('lastEventId'))
    return streamSSE(c, async (stream) => {
      const queue: Array<StoredEvent | 'heartbeat'> = []
      let wake: (() => void) | undefined
      let closed = false
      const notify = () => {
        wake?.()
        wake = undefined
      }
      // Backlog and subscription in the same tick: nothing can be appended in between.
      if (since !== undefined)
        queue.push(...catalog.events.eventsAfter(since, Number.MAX_SAFE_INTEGER))
      const unsubscribe = hub.subscribe(
        (event) => {
          queue.push(event)
          notify()
        },
        () => {
          closed = true
          notify()
        },
      )
      const heartbeat = setInterval(() => {
        queue.push('heartbeat')
        notify()
      }, options.heartbeatMs)
      stream.onAbort(() => {
        closed = true
        notify()
      })
      let last = since ?? -1
      try {
        await stream.write(
          `retry: 3000\n: connected, last event id ${catalog.events.lastEventId()}\n\n`,
        )
        while (!closed) {
          const next = queue.shift()
          if (next === undefined) {
            await new Promise<void>((resolve) => {
              wake = resolve
            })
            continue
          }
          if (next === 'heartbeat') {
            await stream.write(': heartbeat\n\n')
            continue
          }
          if (next.id <= last) continue
          await stream.writeSSE({
            id: String(next.id),
            event: next.event,
            data: JSON.stringify(toCatalogEvent(next, origin)),
          })
          last = next.id
        }
      } finally {
        clearInterval(heartbeat)
        unsubscribe()
      }
    })
  })

  app.all(`${API_BASE}/*`, () => {
    throw new NotFound('no such API route')
  })

  // --- UI -------------------------------------------------------------------------------------

  const page = (
    c: Context,
    title: string,
    body: SafeHtml,
    query?: string,
    status: 200 | 400 | 404 | 500 = 200,
  ) => c.body(renderPage({ title, body, query, docsUrl: options.docsUrl }), status, UI_HEADERS)

  app.get(UI_BASE, (c) => c.redirect(`${UI_BASE}/`))
  app.get('/favicon.ico', (c) =>
    c.body(ICON_SVG, 200, {
      'content-type': 'image/svg+xml',
      'cache-control': 'public, max-age=86400',
    }),
  )
  app.get(`${UI_BASE}/assets/app.js`, (c) =>
    c.body(UI_SCRIPT, 200, {
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'public, max-age=3600',
    }),
  )

  app.get(`${UI_BASE}/`, (c) => {
    const query = c.req.query('q') ?? ''
    const result = catalog.finder.search(
      query,
      Number(c.req.query('page') ?? 1),
      20,
      searchFilters(c),
    )
    return page(
      c,
      query ? `“${query}”` : 'Plugins',
      searchPage({ result, stats: catalog.versions.stats() }),
      query,
    )
  })

  app.get(`${UI_BASE}/plugins/*`, (c) => {
    const parsed = splitPackagePath(c.req.path.slice(`${UI_BASE}/plugins`.length))
    if (!parsed) throw new NotFound('no plugin name in the path')
    const { name, rest } = parsed
    const plugin = requirePlugin(name)
    if (rest[0] === 'diff') {
      const versions = plugin.versions.map((item) => item.version)
      const to = rest[2] ?? c.req.query('to') ?? plugin.latest
      const toIndex = versions.indexOf(to)
      const from =
        rest[1] ?? c.req.query('from') ?? versions[toIndex + 1] ?? versions[versions.length - 1]
      const fromRecord = requireVersion(name, from ?? plugin.latest)
      const toRecord = requireVersion(name, to)
      const diff = diffManifests(fromRecord.manifest, toRecord.manifest)
      return page(
        c,
        `${plugin.title}: ${diff.from} → ${diff.to}`,
        diffPage({
          plugin,
          diff,
          toManifest: toRecord.manifest,
          permissions: {
            from: fromRecord.docs?.permissions ?? NO_PERMISSIONS,
            to: toRecord.docs?.permissions ?? NO_PERMISSIONS,
          },
        }),
      )
    }
    if (rest.length > 0) throw new NotFound(`no such page under ${name}`)
    const record = requireVersion(name, c.req.query('version') ?? plugin.latest)
    return page(
      c,
      `${record.manifest.title} ${record.version}`,
      pluginPage({
        plugin,
        manifest: record.manifest,
        version: record.version,
        registryUrl: `${originOf(c)}/`,
        docs: record.docs,
        docsSite: docs,
      }),
    )
  })

  app.get(`${UI_BASE}/types/:type`, (c) => {
    const type = c.req.param('type')
    const details = catalog.versions.type(type)
    if (!details) throw new NotFound(`no plugin provides the type "${type}"`)
    const plugin = requirePlugin(details.name)
    const version = c.req.query('version') ?? details.latest
    const record = requireVersion(details.name, version)
    const found = listManifestTypes(record.manifest).find(({ entry }) => entry.type === type)
    if (!found) throw new NotFound(`${details.name}@${record.version} has no type "${type}"`)
    return page(
      c,
      `${found.entry.title} (${type})`,
      typePage({
        plugin,
        manifest: record.manifest,
        kind: found.kind,
        entry: found.entry,
        version: record.version,
        versions: details.versions.map((item) => item.version),
        docsSite: docs,
      }),
    )
  })

  app.all(`${UI_BASE}/*`, () => {
    throw new NotFound('no such page')
  })

  app.onError((error, c) => {
    const isApi = c.req.path.startsWith(API_BASE)
    const status = error instanceof NotFound ? 404 : error instanceof BadRequest ? 400 : 500
    const message = status === 500 ? `the registry failed: ${error.message}` : error.message
    if (status === 500)
      options.logger.error(`${c.req.method} ${c.req.path}: ${error.stack ?? error.message}`)
    if (isApi) return c.json({ error: message }, status)
    const heading = status === 400 ? 'Bad request' : status === 404 ? 'Not found' : 'Error'
    return page(c, heading, notFoundPage(message, heading), undefined, status)
  })

  function requirePlugin(name: string): PluginDetails {
    const plugin = catalog.versions.plugin(name)
    if (!plugin) throw new NotFound(`no plugin named ${name} in the catalog`)
    return plugin
  }

  function requireVersion(name: string, spec: string) {
    const version = catalog.versions.resolveVersion(name, spec)
    const record = version ? catalog.versions.version(name, version) : undefined
    if (!record) throw new NotFound(`${name} has no version "${spec}"`)
    return record
  }

  return app
}

function pluginJson(plugin: PluginDetails, origin: string) {
  return {
    ...plugin,
    ui: `${origin}${pluginUrl(plugin.name)}`,
    versions: plugin.versions.map(({ tarballPath, ...version }) => ({
      ...version,
      tarball: `${origin}${tarballPath}`,
    })),
  }
}

function toCatalogEvent(event: StoredEvent, origin: string): CatalogEvent {
  const data: CatalogEvent = {
    name: event.name,
    version: event.version,
    integrity: event.integrity,
    manifestHash: event.manifestHash,
    tarball: `${origin}${event.tarballPath}`,
    time: event.time,
  }
  if (event.deprecated !== undefined) data.deprecated = event.deprecated
  return data
}

function originOf(c: Context): string {
  return new URL(c.req.url).origin
}

function parseEventId(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined
  const id = Number(value)
  return Number.isSafeInteger(id) && id >= 0 ? id : undefined
}
