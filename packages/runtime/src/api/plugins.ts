import { z } from '@hono/zod-openapi'
import semver from 'semver'
import { messageOf, RuntimeError } from '../errors.js'
import { flowJsonSchema, schemaTypesOf } from '../flow/flow-json-schema.js'
import { parsePluginSpec } from '../plugins/plugin-spec.js'
import { upgradeFlows } from '../plugins/upgrade.js'
import { parseVersionSpec, selectVersion } from '../plugins/version-resolver.js'
import type { WorkerHost } from '../plugins/worker-host.js'
import { checkAdmin, errorAnswer, jsonAnswer, type RouteContext, resource } from './router.js'
import { ErrorBody, PluginList, PluginSpecs, queryBoolean, queryInt } from './schemas.js'

const { route, adminRoute, router } = resource('Plugins')
const specsBody = (description: string) => ({
  required: true,
  description,
  content: { 'application/json': { schema: PluginSpecs } },
})
const results = <T extends z.ZodType>(item: T) => z.object({ results: z.array(item) })

const list = route('get', '/plugins', {
  summary: 'Installed plugins',
  description:
    'Every installed package with its versions, the types each version provides, and whether the registry has a newer version.',
  responses: { 200: jsonAnswer(PluginList, 'The installed plugins.') },
})

const install = adminRoute('post', '/plugins/install', {
  summary: 'Install plugin versions from the registry',
  description: `Additive and idempotent; a range or LATEST/OLDEST is chosen among the registry's versions by the same rules as flows.`,
  request: { body: specsBody('`{ "plugins": ["@scope/name@1.2.0"] }`') },
  responses: {
    200: jsonAnswer(
      results(
        z.object({
          name: z.string(),
          version: z.string(),
          integrity: z.string().optional(),
          installed: z.boolean(),
        }),
      ),
      'What each spec installed (`installed: false` when it already was).',
    ),
    404: errorAnswer('The version does not exist in the registry.'),
    422: errorAnswer(
      'Integrity mismatch, incompatible @kite/sdk range, not allowed by plugins.security.',
    ),
  },
})

const PluginInUse = ErrorBody.extend({ flows: z.array(z.string()) }).openapi('PluginInUse')

const uninstall = adminRoute('delete', '/plugins/uninstall', {
  summary: 'Uninstall exact plugin versions',
  description: `Refused with 409 (and the flows listed) while a saved flow resolves to a version, unless \`force\`.`,
  request: {
    query: z.object({ force: queryBoolean('true: the same as `force: true` in the body.') }),
    body: specsBody('`{ "plugins": ["@scope/name@1.0.0"], "force": false }`'),
  },
  responses: {
    200: jsonAnswer(
      results(z.object({ name: z.string(), version: z.string(), uninstalled: z.boolean() })),
      'The versions removed.',
    ),
    400: errorAnswer('A spec is not an exact version.'),
    404: errorAnswer('The version is not installed.'),
    409: jsonAnswer(PluginInUse, 'Saved flows use the version; `flows` names them.'),
  },
})

const resolve = route('post', '/plugins/resolve', {
  summary: 'What each spec chooses',
  description: "The registry's versions, the installed ones, and the version each spec picks.",
  request: { body: specsBody('`{ "plugins": ["@scope/name@LATEST", "@scope/name@^1"] }`') },
  responses: {
    200: jsonAnswer(
      results(
        z.object({
          spec: z.string(),
          name: z.string(),
          versionSpec: z.string(),
          versions: z.array(z.string()),
          installed: z.array(z.string()),
          resolved: z.string().nullable(),
          resolvedInstalled: z.string().nullable(),
          error: z.string().optional(),
        }),
      ),
      'One answer per spec.',
    ),
  },
})

const TaskUpgrade = z
  .object({
    id: z.string(),
    type: z.string(),
    from: z.string().describe('The version the task resolves to now.'),
    status: z.enum(['unchanged', 'migrated', 'blocked']),
    notes: z.array(z.string()).optional().describe('The notes of the migrations that ran.'),
    reason: z.string().optional().describe('Why the task cannot move.'),
  })
  .openapi('TaskUpgrade')

const FlowUpgrade = z
  .object({
    namespace: z.string(),
    id: z.string(),
    status: z.enum(['unchanged', 'migrated', 'blocked']),
    tasks: z.array(TaskUpgrade),
    reason: z.string().optional().describe('Why the migrated flow does not validate.'),
    diff: z.string().optional().describe('Line diff of the YAML: `- ` removed, `+ ` added.'),
    revision: z.number().int().optional().describe('The revision saved (apply).'),
  })
  .openapi('FlowUpgrade')

const upgrade = adminRoute('post', '/plugins/upgrade', {
  summary: 'Upgrade saved flows to a plugin version',
  description: `For every saved flow with a task or trigger of the plugin: runs the target version's migrations in that version's worker, pins the task to it, validates, and reports unchanged / migrated (with a YAML diff) / blocked (why). A dry run unless \`apply\`, which saves a new revision of every flow that is not blocked. With \`apply\`:`,
  request: {
    body: {
      required: true,
      description: '`{ "plugin": "@scope/name", "to": "2.0.0", "apply": false }`',
      content: {
        'application/json': {
          schema: z.object({
            plugin: z.string().min(1),
            to: z.string().min(1),
            namespace: z.string().optional(),
            apply: z.boolean().optional(),
          }),
        },
      },
    },
  },
  responses: {
    200: jsonAnswer(
      z.object({
        plugin: z.string(),
        to: z.string(),
        applied: z.boolean(),
        flows: z.array(FlowUpgrade),
      }),
      'One report per flow that uses the plugin.',
    ),
    400: errorAnswer('`to` is not an exact version.'),
    404: errorAnswer('The plugin or the version is not installed.'),
    422: errorAnswer('The version is older than one saved flows use.'),
  },
})

const CatalogHit = z
  .object({
    name: z.string(),
    group: z.string(),
    title: z.string(),
    description: z.string(),
    latest: z.string(),
    versionCount: z.number().int(),
    deprecated: z.string().nullable(),
    installed: z.array(z.string()).describe('The versions this runtime has installed.'),
  })
  .openapi('CatalogHit')

const FlowJsonSchema = z
  .record(z.string(), z.unknown())
  .openapi('FlowJsonSchema', { description: 'A JSON Schema (draft 2020-12) of a flow.' })

const flowSchema = route('get', '/plugins/schemas/flow', {
  summary: 'The JSON Schema of a flow for the installed plugin versions',
  description:
    "Draft 2020-12: the flow's shape with one branch per installed `type` and version (an exact `version` selects that version's properties). For the UI editor and any editor with a YAML language server: `# yaml-language-server: $schema=<server>/api/v1/plugins/schemas/flow`.",
  responses: { 200: jsonAnswer(FlowJsonSchema, 'The flow JSON Schema.') },
})

const catalog = route('get', '/plugins/catalog', {
  summary: "Search the registry's plugin catalog",
  description:
    "The runtime's registry's catalog search (`/-/kite/api/v1/plugins?q=`), with the versions installed here: what the UI's Install dialog lists. Pick a version with `POST /plugins/resolve`.",
  request: {
    query: z.object({
      q: z.string().max(200).optional().openapi({ description: 'Words, typo-tolerant.' }),
      size: queryInt('From 1 to 50 (default 20).'),
    }),
  },
  responses: {
    200: jsonAnswer(
      z.object({ registry: z.string(), total: z.number().int(), results: z.array(CatalogHit) }),
      'The matching plugins.',
    ),
    400: errorAnswer('`size` is out of range.'),
    502: errorAnswer('No registry is configured, or it did not answer.'),
  },
})

/** `/plugins`: installed versions, install, uninstall, resolve, upgrade, the catalog and the flow JSON Schema (SPEC 6, 11). */
export function createPluginRoutes(context: RouteContext) {
  /** Saved flows (`namespace/id`) by the `name@version` each resolves to: one pass over them. */
  const flowsByVersion = async (): Promise<Map<string, string[]>> => {
    const users = new Map<string, string[]>()
    for (const flow of await context.runtime.store.listFlows()) {
      if (flow.deleted) continue
      try {
        const validated = await context.runtime.engine.validateSource(flow.source)
        for (const key of new Set(
          validated.plugins.map((item) => `${item.package}@${item.version}`),
        )) {
          users.set(key, [...(users.get(key) ?? []), `${flow.namespace}/${flow.id}`])
        }
      } catch {
        // A flow that no longer resolves uses no installed version.
      }
    }
    return users
  }
  /** Saved flows whose resolved set uses `name@version`. */
  const flowsUsing = async (name: string, version: string): Promise<string[]> =>
    (await flowsByVersion()).get(`${name}@${version}`) ?? []

  /** The exact version to install: ranges and LATEST/OLDEST are chosen by the resolver's rules. */
  const versionToInstall = async (name: string, spec = 'LATEST'): Promise<string> => {
    const parsed = parseVersionSpec(spec)
    if (!parsed || parsed.kind === 'exact') return spec // exact versions and dist-tags: the registry knows
    const { versions } = await context.runtime.plugins.store.packument(name)
    const chosen = selectVersion(spec, versions)
    if (chosen) return chosen
    throw new RuntimeError(
      `version "${spec}" of ${name} matches none of the registry's versions ${versions.join(', ') || 'none'}`,
      { code: 'NOT_FOUND' },
    )
  }

  /** The registry's catalog search (a Kite registry's `/-/kite/api/v1/plugins`). */
  const searchCatalog = async (q: string, size: number) => {
    const registry = context.runtime.plugins.store.registry?.replace(/\/$/, '')
    if (!registry) {
      throw new RuntimeError(
        'no registry is configured: start the runtime with --registry URL (or plugins.registry in kite.yaml)',
        { code: 'REGISTRY_UNAVAILABLE' },
      )
    }
    const url = `${registry}/-/kite/api/v1/plugins?${new URLSearchParams({ q, size: String(size) })}`
    let body: { total?: number; results?: Array<Record<string, unknown>> }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(10_000) })
      if (!response.ok) throw new Error(`it answered ${response.status}`)
      body = (await response.json()) as typeof body
    } catch (error) {
      throw new RuntimeError(
        `cannot search the registry's catalog at ${url}: ${messageOf(error)} (is ${registry} a Kite registry, and is it up?)`,
        { code: 'REGISTRY_UNAVAILABLE', cause: error },
      )
    }
    const text = (value: unknown) => (typeof value === 'string' ? value : '')
    return {
      registry,
      total: typeof body.total === 'number' ? body.total : 0,
      results: (body.results ?? []).map((hit) => ({
        name: text(hit.name),
        group: text(hit.group),
        title: text(hit.title),
        description: text(hit.description),
        latest: text(hit.latest),
        versionCount: typeof hit.versionCount === 'number' ? hit.versionCount : 0,
        deprecated: typeof hit.deprecated === 'string' ? hit.deprecated : null,
        installed: context.runtime.catalog.versionsOf(text(hit.name)).map((item) => item.version),
      })),
    }
  }

  return (
    router()
      .openapi(catalog, async (c) => {
        const { q = '', size = 20 } = c.req.valid('query')
        if (size < 1 || size > 50) {
          throw new RuntimeError('size must be from 1 to 50', {
            code: 'REQUEST_INVALID',
            issues: [{ path: 'query.size', message: 'out of range' }],
          })
        }
        return c.json(await searchCatalog(q, size), 200)
      })
      .openapi(list, async (c) => {
        const names = [...new Set(context.runtime.catalog.list().map((plugin) => plugin.name))]
        const users = await flowsByVersion()
        return c.json(
          {
            registry: context.runtime.plugins.store.registry ?? null,
            sync: context.runtime.config.plugins.sync,
            connected: context.runtime.plugins.sync?.connected() ?? false,
            results: names.map((name) => {
              const versions = context.runtime.catalog.versionsOf(name)
              const newest = versions.at(-1)?.version
              const available = context.runtime.plugins.sync?.latest(name)
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
                  flows: users.get(`${name}@${plugin.version}`) ?? [],
                  types: [
                    ...plugin.manifest.tasks.map((entry) => ({
                      type: entry.type,
                      kind: 'task' as const,
                    })),
                    ...plugin.manifest.triggers.map((entry) => ({
                      type: entry.type,
                      kind: 'trigger' as const,
                    })),
                    ...plugin.manifest.conditions.map((entry) => ({
                      type: entry.type,
                      kind: 'condition' as const,
                    })),
                  ],
                })),
              }
            }),
          },
          200,
        )
      })
      .openapi(install, async (c) => {
        checkAdmin(context, c.req.raw)
        const answer = []
        for (const text of c.req.valid('json').plugins) {
          const { name, spec } = parsePluginSpec(text)
          const version = await versionToInstall(name, spec)
          const { plugin, installed } = await context.runtime.plugins.store.install(name, version)
          answer.push({ name, version: plugin.version, integrity: plugin.integrity, installed })
        }
        return c.json({ results: answer }, 200)
      })
      .openapi(uninstall, async (c) => {
        checkAdmin(context, c.req.raw)
        const body = c.req.valid('json')
        const force = body.force === true || c.req.valid('query').force === 'true'
        const targets = body.plugins.map((text) => {
          const { name, spec } = parsePluginSpec(text)
          if (!spec || !semver.valid(spec)) {
            throw new RuntimeError(
              `uninstall needs an exact version: "${text}" (e.g. ${name}@1.0.0)`,
              {
                code: 'REQUEST_INVALID',
              },
            )
          }
          if (!context.runtime.catalog.get(name, spec)) {
            throw new RuntimeError(`plugin ${name}@${spec} is not installed`, { code: 'NOT_FOUND' })
          }
          return { name, version: spec }
        })
        if (!force) {
          for (const { name, version } of targets) {
            const flows = await flowsUsing(name, version)
            if (flows.length > 0) {
              const message = `plugin ${name}@${version} is used by ${flows.length} saved flow${flows.length === 1 ? '' : 's'} (${flows.join(', ')}); change them, or uninstall anyway with \`?force=true\` (API) or \`kite plugins uninstall ${name}@${version} --force\` (CLI)`
              return c.json({ message, code: 'PLUGIN_IN_USE', flows }, 409)
            }
          }
        }
        const answer = []
        for (const { name, version } of targets) {
          const uninstalled = await context.runtime.plugins.store.uninstall(name, version)
          await (context.runtime.host as Partial<WorkerHost>).release?.(name, version)
          answer.push({ name, version, uninstalled })
        }
        return c.json({ results: answer }, 200)
      })
      .openapi(upgrade, async (c) => {
        const body = c.req.valid('json')
        if (body.apply) checkAdmin(context, c.req.raw)
        const flows = await upgradeFlows(context.runtime, body)
        return c.json(
          { plugin: body.plugin, to: body.to, applied: body.apply === true, flows },
          200,
        )
      })
      .openapi(resolve, async (c) => {
        const answer = []
        for (const text of c.req.valid('json').plugins) {
          const { name, spec = 'LATEST' } = parsePluginSpec(text)
          const installed = context.runtime.catalog.versionsOf(name).map((plugin) => plugin.version)
          let available: string[] = []
          let registryError: string | undefined
          try {
            available = (await context.runtime.plugins.store.packument(name)).versions
          } catch (error) {
            registryError = messageOf(error)
          }
          answer.push({
            spec: text,
            name,
            versionSpec: spec,
            versions: available,
            installed,
            resolved: selectVersion(spec, available) ?? null,
            resolvedInstalled: selectVersion(spec, installed) ?? null,
            ...(registryError ? { error: registryError } : {}),
          })
        }
        return c.json({ results: answer }, 200)
      })
      // SPEC 11: the flow JSON Schema of the installed versions (editors, the UI).
      .openapi(flowSchema, (c) =>
        c.json(flowJsonSchema(schemaTypesOf(context.runtime.catalog)), 200),
      )
  )
}
