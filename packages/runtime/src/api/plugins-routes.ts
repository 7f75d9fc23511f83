import { type Context, Hono } from 'hono'
import semver from 'semver'
import { messageOf, RuntimeError } from '../errors.js'
import type { WorkerHost } from '../plugins/worker-host.js'
import type { Runtime } from '../runtime.js'

export interface PluginRoutesOptions {
  runtime: Runtime
  /** Bearer token for install, uninstall and namespace defaults (default `KITE_ADMIN_TOKEN`). */
  adminToken?: string
}

/** One `name@spec` of a request body, split (`@scope/name@^1` → name `@scope/name`, spec `^1`). */
export function parsePluginSpec(text: string): { name: string; spec?: string } {
  const at = text.indexOf('@', 1)
  if (at < 0) return { name: text }
  const spec = text.slice(at + 1)
  return { name: text.slice(0, at), ...(spec ? { spec } : {}) }
}

/**
 * Plugin management routes (SPEC 6), mounted under `/api/v1`: `GET /plugins`,
 * `POST /plugins/install`, `DELETE /plugins/uninstall`, `POST /plugins/resolve`,
 * `GET`/`PUT /namespaces/{namespace}/plugin-defaults`.
 */
export function createPluginRoutes(options: PluginRoutesOptions): Hono {
  const { runtime } = options
  const { catalog, plugins } = runtime
  const adminToken = options.adminToken ?? process.env.KITE_ADMIN_TOKEN
  const app = new Hono()

  const admin = (c: Context): Response | undefined => {
    if (!adminToken) return undefined
    if (c.req.header('authorization') === `Bearer ${adminToken}`) return undefined
    return c.json(
      {
        message: 'this route needs the admin token: send Authorization: Bearer <KITE_ADMIN_TOKEN>',
        code: 'UNAUTHORIZED',
      },
      401,
    )
  }

  const specsOf = async (c: Context): Promise<{ specs: string[]; force: boolean }> => {
    let body: unknown
    try {
      body = JSON.parse((await c.req.text()) || '{}')
    } catch (error) {
      throw new RuntimeError(`the body is not JSON: ${messageOf(error)}`, {
        code: 'REQUEST_INVALID',
      })
    }
    const value = body as { plugins?: unknown; name?: unknown; version?: unknown; force?: unknown }
    const specs = Array.isArray(value.plugins)
      ? value.plugins
      : typeof value.name === 'string'
        ? [typeof value.version === 'string' ? `${value.name}@${value.version}` : value.name]
        : undefined
    if (!specs || specs.length === 0 || specs.some((spec) => typeof spec !== 'string')) {
      throw new RuntimeError(
        'the body must be {"plugins": ["@scope/name@version", ...]} (or {"name", "version"})',
        { code: 'REQUEST_INVALID' },
      )
    }
    return {
      specs: specs as string[],
      force: value.force === true || c.req.query('force') === 'true',
    }
  }

  /** Saved flows whose resolved set uses `name@version`. */
  const flowsUsing = async (name: string, version: string): Promise<string[]> => {
    const users: string[] = []
    for (const flow of await runtime.store.listFlows()) {
      if (flow.deleted) continue
      try {
        const validated = runtime.engine.validateSource(flow.source)
        if (validated.plugins.some((item) => item.package === name && item.version === version)) {
          users.push(`${flow.namespace}/${flow.id}`)
        }
      } catch {
        // A flow that no longer resolves uses no installed version.
      }
    }
    return users
  }

  app.get('/plugins', (c) => {
    const names = [...new Set(catalog.list().map((plugin) => plugin.name))]
    return c.json({
      registry: plugins.store.registry ?? null,
      sync: runtime.config.plugins.sync,
      connected: plugins.sync?.connected() ?? false,
      results: names.map((name) => {
        const versions = catalog.versionsOf(name)
        const newest = versions.at(-1)?.version
        const available = plugins.sync?.latest(name)
        return {
          name,
          group: versions[0]?.manifest.group,
          latestInstalled: newest,
          latestAvailable: available ?? newest,
          updateAvailable: Boolean(available && newest && semver.gt(available, newest)),
          versions: versions.map((plugin) => ({
            version: plugin.version,
            integrity: plugin.integrity ?? null,
            origin: plugin.origin,
            types: [
              ...plugin.manifest.tasks.map((entry) => ({ type: entry.type, kind: 'task' })),
              ...plugin.manifest.triggers.map((entry) => ({ type: entry.type, kind: 'trigger' })),
              ...plugin.manifest.conditions.map((entry) => ({
                type: entry.type,
                kind: 'condition',
              })),
            ],
          })),
        }
      }),
    })
  })

  app.post('/plugins/install', async (c) => {
    const denied = admin(c)
    if (denied) return denied
    const { specs } = await specsOf(c)
    const results = []
    for (const text of specs) {
      const { name, spec } = parsePluginSpec(text)
      const { plugin, installed } = await plugins.store.install(name, spec ?? 'latest')
      results.push({ name, version: plugin.version, integrity: plugin.integrity, installed })
    }
    return c.json({ results })
  })

  app.delete('/plugins/uninstall', async (c) => {
    const denied = admin(c)
    if (denied) return denied
    const { specs, force } = await specsOf(c)
    const targets = specs.map((text) => {
      const { name, spec } = parsePluginSpec(text)
      if (!spec || !semver.valid(spec)) {
        throw new RuntimeError(`uninstall needs an exact version: "${text}" (e.g. ${name}@1.0.0)`, {
          code: 'REQUEST_INVALID',
        })
      }
      if (!catalog.get(name, spec)) {
        throw new RuntimeError(`plugin ${name}@${spec} is not installed`, { code: 'NOT_FOUND' })
      }
      return { name, version: spec }
    })
    if (!force) {
      for (const { name, version } of targets) {
        const flows = await flowsUsing(name, version)
        if (flows.length > 0) {
          return c.json(
            {
              message: `plugin ${name}@${version} is used by ${flows.length} saved flow${flows.length === 1 ? '' : 's'} (${flows.join(', ')}); change them or uninstall with force`,
              code: 'PLUGIN_IN_USE',
              flows,
            },
            409,
          )
        }
      }
    }
    const results = []
    for (const { name, version } of targets) {
      const removed = await plugins.store.uninstall(name, version)
      const host = runtime.host as Partial<WorkerHost>
      await host.release?.(name, version)
      results.push({ name, version, uninstalled: removed })
    }
    return c.json({ results })
  })

  app.post('/plugins/resolve', async (c) => {
    const { specs } = await specsOf(c)
    const results = []
    for (const text of specs) {
      const { name, spec = 'LATEST' } = parsePluginSpec(text)
      const installed = catalog.versionsOf(name).map((plugin) => plugin.version)
      let available: string[] = []
      let registryError: string | undefined
      try {
        available = (await plugins.store.packument(name)).versions
      } catch (error) {
        registryError = messageOf(error)
      }
      const pick = (versions: string[]) => chooseVersion(spec, versions)
      results.push({
        spec: text,
        name,
        versionSpec: spec,
        versions: available,
        installed,
        resolved: pick(available) ?? null,
        resolvedInstalled: pick(installed) ?? null,
        ...(registryError ? { error: registryError } : {}),
      })
    }
    return c.json({ results })
  })

  app.get('/namespaces/:namespace/plugin-defaults', (c) =>
    c.json({
      namespace: c.req.param('namespace'),
      pluginDefaults: plugins.getNamespaceDefaults(c.req.param('namespace')),
    }),
  )

  app.put('/namespaces/:namespace/plugin-defaults', async (c) => {
    const denied = admin(c)
    if (denied) return denied
    const namespace = c.req.param('namespace')
    if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(namespace)) {
      throw new RuntimeError(`"${namespace}" is not a namespace (dotted lower-case segments)`, {
        code: 'REQUEST_INVALID',
      })
    }
    let body: unknown
    try {
      body = JSON.parse(await c.req.text())
    } catch (error) {
      throw new RuntimeError(`the body is not JSON: ${messageOf(error)}`, {
        code: 'REQUEST_INVALID',
      })
    }
    const list = Array.isArray(body) ? body : (body as { pluginDefaults?: unknown }).pluginDefaults
    const pluginDefaults = await plugins.setNamespaceDefaults(namespace, list)
    return c.json({ namespace, pluginDefaults })
  })

  return app
}

/** The version a spec picks among versions: exact, `LATEST`/`OLDEST` (any case) or a range. */
export function chooseVersion(spec: string, versions: readonly string[]): string | undefined {
  const keyword = spec.toUpperCase()
  const releases = versions.filter((version) => !semver.prerelease(version))
  const pool = releases.length > 0 ? releases : [...versions]
  const sorted = [...pool].sort(semver.compare)
  if (keyword === 'LATEST') return sorted.at(-1)
  if (keyword === 'OLDEST') return sorted[0]
  if (semver.valid(spec)) return versions.includes(spec) ? spec : undefined
  return semver.maxSatisfying([...versions], spec) ?? undefined
}

/** The plugin routes, for the OpenAPI document and the test that checks it. */
export const PLUGIN_API_ROUTES: ReadonlyArray<readonly [method: string, path: string]> = [
  ['get', '/api/v1/plugins'],
  ['post', '/api/v1/plugins/install'],
  ['delete', '/api/v1/plugins/uninstall'],
  ['post', '/api/v1/plugins/resolve'],
  ['get', '/api/v1/namespaces/{namespace}/plugin-defaults'],
  ['put', '/api/v1/namespaces/{namespace}/plugin-defaults'],
]

type Json = string | number | boolean | null | Json[] | { [key: string]: Json }

const specsBody = (description: string): Json => ({
  required: true,
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['plugins'],
        properties: {
          plugins: { type: 'array', items: { type: 'string' }, description },
          force: { type: 'boolean' },
        },
      },
    },
  },
})
const answer = (description: string): Json => ({
  description,
  content: { 'application/json': { schema: { type: 'object' } } },
})
const admin = 'Needs `Authorization: Bearer <KITE_ADMIN_TOKEN>` when an admin token is configured.'
const namespaceParameter: Json = [
  { name: 'namespace', in: 'path', required: true, schema: { type: 'string' } },
]

/** The OpenAPI paths of the plugin routes. */
export const PLUGIN_OPENAPI_PATHS: Record<string, Json> = {
  '/api/v1/plugins': {
    get: {
      summary: 'Installed plugins',
      description:
        'Every installed package with its versions, the types each version provides, and whether the registry has a newer version.',
      responses: { '200': answer('`{ registry, sync, connected, results: [...] }`') },
    },
  },
  '/api/v1/plugins/install': {
    post: {
      summary: 'Install plugin versions from the registry',
      description: `Additive and idempotent; each spec is name@version, range or dist-tag. ${admin}`,
      requestBody: specsBody('`@scope/name@1.2.0`'),
      responses: {
        '200': answer('`{ results: [{ name, version, integrity, installed }] }`'),
        '404': answer('The version does not exist in the registry.'),
        '422': answer(
          'Integrity mismatch, incompatible @kite/sdk range, not allowed by plugins.security.',
        ),
      },
    },
  },
  '/api/v1/plugins/uninstall': {
    delete: {
      summary: 'Uninstall exact plugin versions',
      description: `Refused with 409 (and the flows listed) while a saved flow resolves to a version, unless \`force\`. ${admin}`,
      requestBody: specsBody('`@scope/name@1.0.0`'),
      responses: {
        '200': answer('`{ results: [{ name, version, uninstalled }] }`'),
        '409': answer('`{ message, code: PLUGIN_IN_USE, flows }`'),
      },
    },
  },
  '/api/v1/plugins/resolve': {
    post: {
      summary: 'What each spec chooses',
      description: "The registry's versions, the installed ones, and the version each spec picks.",
      requestBody: specsBody('`@scope/name@LATEST`, `@scope/name@^1`'),
      responses: {
        '200': answer(
          '`{ results: [{ spec, versions, installed, resolved, resolvedInstalled }] }`',
        ),
      },
    },
  },
  '/api/v1/namespaces/{namespace}/plugin-defaults': {
    get: {
      summary: "A namespace's plugin defaults",
      parameters: namespaceParameter,
      responses: { '200': answer('`{ namespace, pluginDefaults }`') },
    },
    put: {
      summary: "Replace a namespace's plugin defaults",
      description: `Resolution level 3; stored in the data directory. ${admin}`,
      parameters: namespaceParameter,
      requestBody: {
        required: true,
        content: { 'application/json': { schema: { type: 'object' } } },
      },
      responses: { '200': answer('`{ namespace, pluginDefaults }`') },
    },
  },
}
