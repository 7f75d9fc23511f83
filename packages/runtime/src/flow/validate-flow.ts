import type { ExpressionEngine } from '@kite/expressions'
import { parseDuration, z } from '@kite/sdk'
import type { JsonSchema } from '@kite/sdk/host'
import { Cron } from 'croner'
import { isRuntimeError, RuntimeError, type ValidationIssue } from '../errors.js'
import type { ExecutionPlugin } from '../executor/execution-model.js'
import { applyPluginDefaults } from '../plugins/plugin-defaults.js'
import type {
  PluginPin,
  PluginResolver,
  ResolvedPlugin,
  ResolveRequest,
} from '../plugins/plugin-resolver.js'
import { checkFlowExpressions } from './expression-checker.js'
import {
  allTasks,
  type Flow,
  type FlowTask,
  type FlowTrigger,
  type LogLevelName,
  type PluginTask,
  type RetryPolicy,
} from './flow-model.js'
import { createFlowLocator, type PathSegment } from './flow-positions.js'
import { Duration, LogLevelSchema, RetrySchema } from './flow-schema.js'
import { formatPath, parsePath } from './parse-flow.js'
import {
  expressionSyntaxProblems,
  findPropertyProblems,
  type OtherVersion,
  type PropertyProblem,
} from './property-validator.js'

/** A plugin task ready to run: its resolved version and its properties with defaults applied. */
export interface PreparedTask {
  task: PluginTask
  resolved: ResolvedPlugin
  properties: Record<string, unknown>
  timeoutMs?: number
  retry?: RetryPolicy
  logLevel?: LogLevelName
}

/** A plugin condition of a trigger, resolved. */
export interface PreparedCondition {
  resolved: ResolvedPlugin
  properties: Record<string, unknown>
}

export interface PreparedTrigger {
  trigger: FlowTrigger
  /** Set for plugin triggers. */
  resolved?: ResolvedPlugin
  properties: Record<string, unknown>
  conditions: PreparedCondition[]
}

/** A flow whose every plugin type is resolved to a concrete version and validated against it. */
export interface ValidatedFlow {
  flow: Flow
  /** Plugin tasks by task id. */
  tasks: Map<string, PreparedTask>
  triggers: Map<string, PreparedTrigger>
  /** The resolved set, as an execution records it. */
  plugins: ExecutionPlugin[]
  /**
   * What is valid but should change, with positions like errors: an old type id that resolves
   * through a version's alias (`rename it`).
   */
  warnings: ValidationIssue[]
}

export interface ValidateFlowOptions {
  resolver: PluginResolver
  expressions: Pick<ExpressionEngine, 'check' | 'hasExpression'>
  /**
   * Versions recorded by an execution, by task id (`trigger:<id>` for triggers): an execution
   * that resumes runs exactly those, so they are looked up instead of resolved.
   */
  pins?: ReadonlyMap<string, PluginPin>
}

/** Keys of a task that plugin defaults may set besides the plugin's own properties. */
const DEFAULTABLE_COMMON = { timeout: Duration, retry: RetrySchema, logLevel: LogLevelSchema }

/**
 * The actions on an execution (`POST /executions/{id}/<action>`, `api/executions.ts`): a flow with
 * one of these ids clashes with them in `POST /executions/{namespace}/{id}`.
 */
export const EXECUTION_ACTIONS: ReadonlySet<string> = new Set([
  'kill',
  'resume',
  'restart',
  'replay',
])

/**
 * Resolves every task, trigger and condition of a parsed flow to a concrete installed version
 * and validates its properties against that version's JSON Schema (SPEC section 4, "validated
 * twice"). Throws a `FLOW_INVALID` RuntimeError with one issue per failing task: task id, type,
 * version spec, deciding level and why.
 */
export function validateFlow(flow: Flow, options: ValidateFlowOptions): ValidatedFlow {
  const { resolver, expressions, pins } = options
  const issues: ValidationIssue[] = []
  const warnings: ValidationIssue[] = []
  // Where each issue is in the YAML: its path, and the place inside a string when known.
  const places = new Map<
    ValidationIssue,
    { path: PathSegment[]; at?: PropertyProblem['at']; atKey?: boolean }
  >()
  const tasks = new Map<string, PreparedTask>()
  const triggers = new Map<string, PreparedTrigger>()
  const levels = resolver.defaultsLevels(flow.namespace, flow.pluginDefaults)
  const taskOutputs = new Map<string, { schema: JsonSchema; label: string }>()
  const taskProperties = new Map<string, JsonSchema>()
  const triggerOutputs = new Map<string, JsonSchema>()

  const expressionIssues = (value: unknown, path: string) => {
    for (const problem of expressionSyntaxProblems(value, parsePath(path), expressions)) {
      const issue = { path: formatPath(problem.path), message: problem.message }
      issues.push(issue)
      places.set(issue, { path: problem.path, ...(problem.at ? { at: problem.at } : {}) })
    }
  }

  /** One issue per property problem, placed at the property (not at the task). */
  const propertyIssues = (
    owner: { path: string },
    problems: PropertyProblem[],
    fields: Omit<ValidationIssue, 'path' | 'message'>,
    prefix: string,
  ) => {
    const base = parsePath(owner.path)
    for (const problem of problems) {
      const path = [...base, ...problem.path]
      const issue: ValidationIssue = {
        path: formatPath(path),
        ...fields,
        message: `${prefix}: ${problem.path.length > 0 ? `${formatPath(problem.path)}: ` : ''}${problem.message}`,
      }
      issues.push(issue)
      places.set(issue, {
        path,
        ...(problem.at ? { at: problem.at } : {}),
        ...(problem.atKey ? { atKey: true } : {}),
      })
    }
  }

  const otherVersions = (type: string): OtherVersion[] =>
    resolver.versionsOfType(type).map((item) => ({
      package: item.package,
      version: item.version,
      properties: item.entry.properties,
    }))

  const resolve = (
    key: string,
    request: ResolveRequest,
    issueBase: Omit<ValidationIssue, 'message'>,
  ): ResolvedPlugin | undefined => {
    try {
      const pin = pins?.get(key)
      const resolved = pin ? resolver.resolvePinned(pin, request.label) : resolver.resolve(request)
      if (resolved.alias) {
        const warning: ValidationIssue = {
          ...issueBase,
          path: `${issueBase.path}.type`,
          version: resolved.version,
          message: `${request.label}: \`${resolved.alias.written}\` is an alias of \`${resolved.type}\` since ${resolved.alias.since}; rename it`,
        }
        warnings.push(warning)
        places.set(warning, { path: [...parsePath(issueBase.path), 'type'] })
      }
      return resolved
    } catch (error) {
      if (!isRuntimeError(error)) throw error
      const detail = error.issues[0]
      const issue = {
        ...issueBase,
        ...(detail?.versionSpec ? { versionSpec: detail.versionSpec } : {}),
        ...(detail?.decidedBy ? { decidedBy: detail.decidedBy } : {}),
        code: error.code,
        message: error.message,
      }
      issues.push(issue)
      // The value to change is the type, or the version when the type exists but no version fits.
      const at =
        error.code === 'PLUGIN_VERSION' && request.version !== undefined ? 'version' : 'type'
      places.set(issue, { path: [...parsePath(issueBase.path), at] })
      return undefined
    }
  }

  for (const task of allTasks(flow)) {
    const where = { path: task.path }
    if (task.runIf !== undefined) expressionIssues(task.runIf, `${task.path}.runIf`)
    if (task.kind !== 'plugin') {
      checkFlowable(task, expressionIssues)
      continue
    }
    const label = `task "${task.id}"`
    const base = {
      ...where,
      taskId: task.id,
      type: task.type,
      ...(task.version === undefined ? {} : { versionSpec: task.version }),
    }
    const resolved = resolve(
      task.id,
      {
        type: task.type,
        kind: 'task',
        label,
        ...(task.version === undefined ? {} : { version: task.version }),
        namespace: flow.namespace,
        flowDefaults: flow.pluginDefaults,
      },
      base,
    )
    if (!resolved) continue
    if ('outputs' in resolved.manifestEntry) {
      taskOutputs.set(task.id, {
        schema: resolved.manifestEntry.outputs,
        label: `${task.type} ${resolved.version}`,
      })
    }
    taskProperties.set(task.id, resolved.manifestEntry.properties)
    const merged = applyPluginDefaults(
      task.type,
      {
        ...task.properties,
        ...(task.timeout === undefined ? {} : { timeout: task.timeout }),
        ...(task.retry === undefined ? {} : { retry: task.retry }),
        ...(task.logLevel === undefined ? {} : { logLevel: task.logLevel }),
      },
      levels,
    )
    const { timeout, retry, logLevel, ...properties } = merged
    const problems: PropertyProblem[] = []
    const common = z
      .object({
        timeout: DEFAULTABLE_COMMON.timeout.optional(),
        retry: DEFAULTABLE_COMMON.retry.optional(),
        logLevel: DEFAULTABLE_COMMON.logLevel.optional(),
      })
      .safeParse({ timeout, retry, logLevel })
    if (!common.success) {
      for (const issue of common.error.issues) {
        problems.push({
          path: issue.path.map((segment) => segment as PathSegment),
          message: `${issue.message} (from pluginDefaults)`,
        })
      }
    }
    problems.push(
      ...findPropertyProblems(properties, resolved.manifestEntry.properties, expressions, {
        version: resolved.version,
        otherVersions: otherVersions(task.type),
      }),
    )
    if (problems.length > 0 || !common.success) {
      const { path: _path, ...fields } = base
      propertyIssues(
        task,
        problems,
        {
          ...fields,
          versionSpec: resolved.versionSpec,
          decidedBy: resolved.decidedBy,
          version: resolved.version,
        },
        `${label} (${task.type} ${resolved.version}, version "${resolved.versionSpec}" decided by ${resolved.decidedBy}): invalid property`,
      )
      continue
    }
    tasks.set(task.id, {
      task,
      resolved,
      properties,
      ...(common.data.timeout === undefined
        ? {}
        : { timeoutMs: parseDuration(common.data.timeout) }),
      ...(common.data.retry === undefined ? {} : { retry: common.data.retry }),
      ...(common.data.logLevel === undefined ? {} : { logLevel: common.data.logLevel }),
    })
  }

  for (const trigger of flow.triggers) {
    const prepared = validateTrigger(trigger)
    if (prepared) triggers.set(trigger.id, prepared)
  }

  for (const [index, output] of flow.outputs.entries()) {
    expressionIssues(output.value, `outputs[${index}].value`)
  }

  function validateTrigger(trigger: FlowTrigger): PreparedTrigger | undefined {
    const where = { path: trigger.path }
    const label = `trigger "${trigger.id}"`
    const before = issues.length
    let resolved: ResolvedPlugin | undefined
    let properties: Record<string, unknown> = {}
    if (trigger.kind === 'schedule') {
      try {
        new Cron(trigger.cron, {
          paused: true,
          ...(trigger.timezone ? { timezone: trigger.timezone } : {}),
        })
      } catch (error) {
        issues.push({
          ...where,
          path: `${trigger.path}.cron`,
          message: `${label}: invalid cron "${trigger.cron}": ${(error as Error).message}`,
        })
      }
      if (trigger.timezone !== undefined && !validTimezone(trigger.timezone)) {
        issues.push({
          ...where,
          path: `${trigger.path}.timezone`,
          message: `${label}: unknown time zone "${trigger.timezone}"`,
        })
      }
    } else if (trigger.kind === 'plugin') {
      const base = { ...where, taskId: trigger.id, type: trigger.type }
      resolved = resolve(
        `trigger:${trigger.id}`,
        {
          type: trigger.type,
          kind: 'trigger',
          label,
          ...(trigger.version === undefined ? {} : { version: trigger.version }),
          namespace: flow.namespace,
          flowDefaults: flow.pluginDefaults,
        },
        base,
      )
      if (resolved) {
        if ('outputs' in resolved.manifestEntry) {
          triggerOutputs.set(trigger.id, resolved.manifestEntry.outputs)
        }
        properties = applyPluginDefaults(trigger.type, trigger.properties, levels)
        const problems = findPropertyProblems(
          properties,
          resolved.manifestEntry.properties,
          expressions,
          { version: resolved.version, otherVersions: otherVersions(trigger.type) },
        )
        const { path: _path, ...fields } = base
        propertyIssues(
          trigger,
          problems,
          {
            ...fields,
            versionSpec: resolved.versionSpec,
            decidedBy: resolved.decidedBy,
            version: resolved.version,
          },
          `${label} (${trigger.type} ${resolved.version}): invalid property`,
        )
      }
    }
    const conditions: PreparedCondition[] = []
    for (const [index, condition] of trigger.conditions.entries()) {
      const conditionLabel = `${label} condition ${index + 1}`
      const base = { path: condition.path, taskId: trigger.id, type: condition.type }
      const conditionResolved = resolve(
        `trigger:${trigger.id}:condition:${index}`,
        {
          type: condition.type,
          kind: 'condition',
          label: conditionLabel,
          ...(condition.version === undefined ? {} : { version: condition.version }),
          namespace: flow.namespace,
          flowDefaults: flow.pluginDefaults,
        },
        base,
      )
      if (!conditionResolved) continue
      const conditionProperties = applyPluginDefaults(condition.type, condition.properties, levels)
      const problems = findPropertyProblems(
        conditionProperties,
        conditionResolved.manifestEntry.properties,
        expressions,
        { version: conditionResolved.version, otherVersions: otherVersions(condition.type) },
      )
      if (problems.length > 0) {
        const { path: _path, ...fields } = base
        propertyIssues(
          condition,
          problems,
          { ...fields, version: conditionResolved.version, decidedBy: conditionResolved.decidedBy },
          `${conditionLabel} (${condition.type} ${conditionResolved.version}): invalid property`,
        )
        continue
      }
      conditions.push({ resolved: conditionResolved, properties: conditionProperties })
    }
    if (issues.length > before) return undefined
    return { trigger, ...(resolved ? { resolved } : {}), properties, conditions }
  }

  for (const problem of checkFlowExpressions(flow, {
    taskOutputs,
    taskProperties,
    triggerOutputs,
  })) {
    const issue: ValidationIssue = {
      path: formatPath(problem.path),
      ...(problem.taskId ? { taskId: problem.taskId } : {}),
      message: problem.message,
    }
    issues.push(issue)
    places.set(issue, { path: problem.path, at: problem.at })
  }

  if (EXECUTION_ACTIONS.has(flow.id)) {
    const warning: ValidationIssue = {
      path: 'id',
      message: `flow id "${flow.id}" cannot be started through the HTTP API: POST /executions/${flow.namespace}/${flow.id} is read as the ${flow.id} of an execution, so the UI's Run and \`kite executions start\` cannot start it (its triggers and Subflow tasks can); rename it`,
    }
    warnings.push(warning)
    places.set(warning, { path: ['id'] })
  }

  if (issues.length > 0 || warnings.length > 0) {
    const locator = createFlowLocator(flow.source)
    for (const issue of [...issues, ...warnings]) {
      const place = places.get(issue) ?? { path: parsePath(issue.path) }
      const position = place.at
        ? locator.inValue(place.path, place.at.line, place.at.column)
        : locator.at(place.path, place.atKey === true)
      if (position) Object.assign(issue, position)
    }
  }
  if (issues.length > 0) {
    const first = issues[0]!
    throw new RuntimeError(
      `flow "${flow.namespace}/${flow.id}" is invalid: ${issues.length} problem${issues.length === 1 ? '' : 's'}: ${first.line ? `${first.path} (line ${first.line})` : first.path}: ${first.message}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`,
      { code: 'FLOW_INVALID', kind: 'user', issues },
    )
  }
  return { flow, tasks, triggers, plugins: collectPlugins(tasks, triggers), warnings }
}

function checkFlowable(
  task: Exclude<FlowTask, PluginTask>,
  check: (value: unknown, path: string) => void,
): void {
  switch (task.kind) {
    case 'if':
      check(task.condition, `${task.path}.condition`)
      break
    case 'switch':
      check(task.value, `${task.path}.value`)
      break
    case 'forEach':
      check(task.values, `${task.path}.values`)
      break
    case 'subflow':
      check(task.namespace, `${task.path}.namespace`)
      check(task.flowId, `${task.path}.flowId`)
      check(task.inputs, `${task.path}.inputs`)
      check(task.labels, `${task.path}.labels`)
      break
    default:
      break
  }
}

function collectPlugins(
  tasks: Map<string, PreparedTask>,
  triggers: Map<string, PreparedTrigger>,
): ExecutionPlugin[] {
  const byKey = new Map<string, ExecutionPlugin>()
  const add = (resolved: ResolvedPlugin, id: string) => {
    const key = `${resolved.type}@${resolved.version}#${resolved.decidedBy}`
    const existing = byKey.get(key)
    if (existing) {
      existing.taskIds.push(id)
      return
    }
    byKey.set(key, {
      type: resolved.type,
      kind: resolved.kind,
      package: resolved.package,
      version: resolved.version,
      ...(resolved.integrity ? { integrity: resolved.integrity } : {}),
      decidedBy: resolved.decidedBy,
      taskIds: [id],
    })
  }
  for (const [id, task] of tasks) add(task.resolved, id)
  for (const [id, trigger] of triggers) {
    if (trigger.resolved) add(trigger.resolved, `trigger:${id}`)
    for (const [index, condition] of trigger.conditions.entries()) {
      add(condition.resolved, `trigger:${id}:condition:${index}`)
    }
  }
  return [...byKey.values()]
}

/** Recorded pins by task id, from an execution's `plugins` list. */
export function pinsOf(plugins: readonly ExecutionPlugin[]): Map<string, PluginPin> {
  const pins = new Map<string, PluginPin>()
  for (const { taskIds, ...pin } of plugins) for (const id of taskIds) pins.set(id, pin)
  return pins
}

function validTimezone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone })
    return true
  } catch {
    return false
  }
}
