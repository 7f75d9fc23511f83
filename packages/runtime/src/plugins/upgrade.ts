import {
  FLOW_CONDITION_KEYS,
  FLOW_TASK_KEYS,
  FLOW_TRIGGER_KEYS,
  findAliasedTask,
  listManifestTypes,
} from '@kite/sdk/host'
import semver from 'semver'
import { isMap, isSeq, parse, parseDocument, type YAMLMap } from 'yaml'
import { isRuntimeError, messageOf, RuntimeError } from '../errors.js'
import type { Engine } from '../executor/engine.js'
import type { Store } from '../storage/store.js'
import type { InstalledPlugin, PluginCatalog } from './plugin-catalog.js'
import type { PluginHost } from './plugin-host.js'

export interface UpgradeRequest {
  /** The package name. */
  plugin: string
  /** The exact, installed target version. */
  to: string
  /** Only the flows of this namespace (and its children). */
  namespace?: string
  /** Save a new revision of every flow that is not blocked. */
  apply?: boolean
}

export type TaskOutcome =
  | { id: string; type: string; from: string; status: 'unchanged' }
  | { id: string; type: string; from: string; status: 'migrated'; notes: string[] }
  | { id: string; type: string; from: string; status: 'blocked'; reason: string }

export interface FlowUpgrade {
  namespace: string
  id: string
  /** `blocked` when any task is, `migrated` when any moved, else `unchanged`. */
  status: 'unchanged' | 'migrated' | 'blocked'
  tasks: TaskOutcome[]
  /** Why the flow as a whole cannot move (it does not validate today, or its new source does not). */
  reason?: string
  /** A line diff of the YAML (`-`/`+`/` ` prefixes), when it changed. */
  diff?: string
  /** The revision saved (apply only). */
  revision?: number
}

export interface UpgradeDeps {
  engine: Pick<Engine, 'validateSource' | 'saveFlow'>
  store: Pick<Store, 'listFlows'>
  catalog: Pick<PluginCatalog, 'versionsOf' | 'list'>
  host: Pick<PluginHost, 'migrate'>
}

/**
 * The upgrade assistant (SPEC 11): for every saved flow with a task or trigger resolving to
 * `plugin`, runs the target version's migrations in that version's isolation (the host), pins
 * the block to the target version, validates the new source against it, and reports per flow
 * and task. A dry run unless `apply`, which saves the flows that are not blocked.
 */
export async function upgradeFlows(
  deps: UpgradeDeps,
  request: UpgradeRequest,
): Promise<FlowUpgrade[]> {
  const { plugin, to } = request
  const installed = deps.catalog.versionsOf(plugin).map((item) => item.version)
  if (installed.length === 0) {
    throw new RuntimeError(`plugin ${plugin} is not installed`, { code: 'NOT_FOUND' })
  }
  if (!semver.valid(to)) {
    throw new RuntimeError(
      `upgrade needs an exact version to go to, got "${to}" (e.g. ${plugin}@2.0.0)`,
      {
        code: 'REQUEST_INVALID',
      },
    )
  }
  if (!installed.includes(to)) {
    throw new RuntimeError(
      `${plugin}@${to} is not installed (installed: ${installed.join(', ')}); install it first`,
      { code: 'NOT_FOUND' },
    )
  }
  const flows = (await deps.store.listFlows(request.namespace || undefined)).filter(
    (flow) => !flow.deleted,
  )
  const plans: Array<{
    flow: (typeof flows)[number]
    uses: Array<{
      key: string
      type: string
      kind: 'task' | 'trigger' | 'condition'
      version: string
    }>
  }> = []
  const answer: FlowUpgrade[] = []
  const types = pluginTypes(deps.catalog.versionsOf(plugin))
  for (const flow of flows) {
    let validated: ReturnType<Engine['validateSource']>
    try {
      validated = deps.engine.validateSource(flow.source)
    } catch (error) {
      // A flow that does not validate today resolves to no version of anything: report it when
      // it names one of the plugin's types, so nobody believes it was checked.
      if (mentionsAny(flow.source, types)) {
        answer.push({
          namespace: flow.namespace,
          id: flow.id,
          status: 'blocked',
          tasks: [],
          reason: `it does not validate today, so it cannot be checked against ${plugin}@${to}: ${problemsOf(error)}; fix it, then run the assistant again`,
        })
      }
      continue
    }
    const uses = validated.plugins
      .filter((item) => item.package === plugin)
      .flatMap((item) =>
        item.taskIds.map((key) => ({
          key,
          type: item.type,
          kind: item.kind,
          version: item.version,
        })),
      )
    if (uses.length > 0) plans.push({ flow, uses })
  }
  const newer = plans.flatMap((plan) =>
    plan.uses
      .filter((use) => semver.gt(use.version, to))
      .map((use) => `${plan.flow.namespace}/${plan.flow.id} (${use.key}: ${use.version})`),
  )
  if (newer.length > 0) {
    throw new RuntimeError(
      `${plugin}@${to} is older than versions saved flows use: ${newer.join(', ')}; the assistant only upgrades`,
      { code: 'PLUGIN_VERSION' },
    )
  }

  for (const { flow, uses } of plans) {
    const document = parseDocument(flow.source)
    const tasks: TaskOutcome[] = []
    for (const use of uses) {
      const block = locateBlock(document, use.key)
      const base = { id: block.id, type: use.type, from: use.version }
      if (use.version === to) {
        tasks.push({ ...base, status: 'unchanged' })
        continue
      }
      const node = block.node
      if (!node) {
        tasks.push({ ...base, status: 'blocked', reason: `cannot find ${block.label} in the YAML` })
        continue
      }
      const properties: Record<string, unknown> = {}
      const values = node.toJSON() as Record<string, unknown>
      for (const pair of node.items) {
        const key = String((pair.key as { value?: unknown })?.value ?? pair.key)
        if (!block.flowKeys.includes(key)) properties[key] = values[key]
      }
      // A type the target version renamed (it declares the old id as an alias) moves to its new id.
      const targetManifest = deps.catalog.versionsOf(plugin).find((item) => item.version === to)
      const renamed =
        use.kind === 'task' && targetManifest
          ? findAliasedTask(targetManifest.manifest, use.type)
          : undefined
      const targetType = renamed?.type ?? use.type
      try {
        const result = await deps.host.migrate({
          pin: { type: targetType, kind: use.kind, package: plugin, version: to },
          fromVersion: use.version,
          properties,
          label: `flow "${flow.namespace}/${flow.id}", ${block.label}`,
        })
        for (const key of Object.keys(properties)) {
          if (!(key in result.properties)) node.delete(key)
        }
        for (const [key, value] of Object.entries(result.properties)) {
          if (JSON.stringify(properties[key]) !== JSON.stringify(value)) node.set(key, value)
        }
        node.set('version', to)
        const notes = result.applied.map((item) => item.note)
        // An old type id that resolved through an alias: written under its new name.
        const written = node.get('type')
        if (written !== targetType) {
          node.set('type', targetType)
          notes.push(`\`${String(written)}\` is renamed \`${targetType}\``)
        }
        tasks.push({ ...base, status: 'migrated', notes })
      } catch (error) {
        tasks.push({ ...base, status: 'blocked', reason: messageOf(error) })
      }
    }
    const source = document.toString()
    const outcome: FlowUpgrade = {
      namespace: flow.namespace,
      id: flow.id,
      status: tasks.some((task) => task.status === 'blocked')
        ? 'blocked'
        : tasks.some((task) => task.status === 'migrated')
          ? 'migrated'
          : 'unchanged',
      tasks,
    }
    if (outcome.status === 'migrated') {
      try {
        deps.engine.validateSource(source)
      } catch (error) {
        outcome.status = 'blocked'
        outcome.reason = problemsOf(error)
      }
      // jsdiff (about 20 modules) loads with the first upgrade that changes a flow, not at start.
      const { lineDiff } = await import('@kite/sdk/line-diff')
      outcome.diff = lineDiff(flow.source, source)
      if (outcome.status === 'migrated' && request.apply) {
        const saved = await deps.engine.saveFlow(source, {
          expect: { namespace: flow.namespace, id: flow.id },
        })
        outcome.revision = saved.revision
      }
    }
    answer.push(outcome)
  }
  return answer
}

/**
 * The YAML block a resolved key names: a task id, `trigger:<id>`, or
 * `trigger:<id>:condition:<index>` for a condition nested under a trigger.
 */
function locateBlock(
  document: ReturnType<typeof parseDocument>,
  key: string,
): { id: string; label: string; node: YAMLMap | undefined; flowKeys: readonly string[] } {
  if (!key.startsWith('trigger:')) {
    const node = findBlock(document.get('tasks'), key)
    return { id: key, label: `task "${key}"`, node, flowKeys: FLOW_TASK_KEYS }
  }
  const rest = key.slice('trigger:'.length)
  const at = rest.lastIndexOf(':condition:')
  if (at < 0) {
    const node = findBlock(document.get('triggers'), rest)
    return { id: rest, label: `trigger "${rest}"`, node, flowKeys: FLOW_TRIGGER_KEYS }
  }
  const triggerId = rest.slice(0, at)
  const index = Number(rest.slice(at + ':condition:'.length))
  const conditions = findBlock(document.get('triggers'), triggerId)?.get('conditions')
  const node = isSeq(conditions) ? conditions.items[index] : undefined
  return {
    id: `${triggerId}.conditions[${index}]`,
    label: `condition ${index + 1} of trigger "${triggerId}"`,
    node: isMap(node) ? node : undefined,
    flowKeys: FLOW_CONDITION_KEYS,
  }
}

/** The block (task or trigger) with this id in a list, searching nested `tasks` lists too. */
function findBlock(list: unknown, id: string): YAMLMap | undefined {
  if (!isSeq(list)) return undefined
  for (const item of list.items) {
    if (!isMap(item)) continue
    if (item.get('id') === id) return item
    for (const pair of item.items) {
      if (isSeq(pair.value)) {
        const found = findBlock(pair.value, id)
        if (found) return found
      }
    }
  }
  return undefined
}

/** Every type id the installed versions of a plugin provide, and the old ids they alias. */
function pluginTypes(versions: readonly InstalledPlugin[]): Set<string> {
  const types = new Set<string>()
  for (const { manifest } of versions) {
    for (const { entry } of listManifestTypes(manifest)) types.add(entry.type)
    for (const task of manifest.tasks) for (const alias of task.aliases ?? []) types.add(alias)
  }
  return types
}

/** Whether a flow's YAML names one of `types` as a `type:` anywhere (or mentions it, when it does not parse). */
function mentionsAny(source: string, types: ReadonlySet<string>): boolean {
  let value: unknown
  try {
    value = parse(source)
  } catch {
    return [...types].some((type) => source.includes(type))
  }
  const walk = (node: unknown): boolean => {
    if (Array.isArray(node)) return node.some(walk)
    if (node === null || typeof node !== 'object') return false
    const record = node as Record<string, unknown>
    if (typeof record.type === 'string' && types.has(record.type)) return true
    return Object.values(record).some(walk)
  }
  return walk(value)
}

/** A validation error's problems, one clause each. */
function problemsOf(error: unknown): string {
  return isRuntimeError(error) && error.issues.length > 0
    ? error.issues
        .map((issue) => `${issue.line ? `line ${issue.line}: ` : ''}${issue.message}`)
        .join('; ')
    : messageOf(error)
}
