import type { ExpressionEngine } from '@kite/expressions'
import { parseDuration, z } from '@kite/sdk'
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
import {
  allTasks,
  type Flow,
  type FlowTask,
  type FlowTrigger,
  type LogLevelName,
  type PluginTask,
  type RetryPolicy,
} from './flow-model.js'
import { Duration, LogLevelSchema, RetrySchema } from './flow-schema.js'
import { checkProperties, syntaxProblems } from './property-validator.js'

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
 * Resolves every task, trigger and condition of a parsed flow to a concrete installed version
 * and validates its properties against that version's JSON Schema (SPEC section 4, "validated
 * twice"). Throws a `FLOW_INVALID` RuntimeError with one issue per failing task: task id, type,
 * version spec, deciding level and why.
 */
export function validateFlow(flow: Flow, options: ValidateFlowOptions): ValidatedFlow {
  const { resolver, expressions, pins } = options
  const issues: ValidationIssue[] = []
  const tasks = new Map<string, PreparedTask>()
  const triggers = new Map<string, PreparedTrigger>()
  const levels = resolver.defaultsLevels(flow.namespace, flow.pluginDefaults)

  const expressionIssues = (value: unknown, path: string, line?: number) => {
    for (const problem of syntaxProblems(value, path, expressions)) {
      issues.push({ path, message: problem.slice(path.length + 2), ...(line ? { line } : {}) })
    }
  }

  const resolve = (
    key: string,
    request: ResolveRequest,
    issueBase: Omit<ValidationIssue, 'message'>,
  ): ResolvedPlugin | undefined => {
    try {
      const pin = pins?.get(key)
      return pin ? resolver.resolvePinned(pin, request.label) : resolver.resolve(request)
    } catch (error) {
      if (!isRuntimeError(error)) throw error
      const detail = error.issues[0]
      issues.push({
        ...issueBase,
        ...(detail?.versionSpec ? { versionSpec: detail.versionSpec } : {}),
        ...(detail?.decidedBy ? { decidedBy: detail.decidedBy } : {}),
        code: error.code,
        message: error.message,
      })
      return undefined
    }
  }

  for (const task of allTasks(flow)) {
    const where = { path: task.path, ...(task.line ? { line: task.line } : {}) }
    if (task.runIf !== undefined) expressionIssues(task.runIf, `${task.path}.runIf`, task.line)
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
    const problems: string[] = []
    const common = z
      .object({
        timeout: DEFAULTABLE_COMMON.timeout.optional(),
        retry: DEFAULTABLE_COMMON.retry.optional(),
        logLevel: DEFAULTABLE_COMMON.logLevel.optional(),
      })
      .safeParse({ timeout, retry, logLevel })
    if (!common.success) {
      for (const issue of common.error.issues) {
        problems.push(`${issue.path.join('.')} (from pluginDefaults): ${issue.message}`)
      }
    }
    problems.push(...checkProperties(properties, resolved.manifestEntry.properties, expressions))
    if (problems.length > 0 || !common.success) {
      issues.push({
        ...base,
        versionSpec: resolved.versionSpec,
        decidedBy: resolved.decidedBy,
        version: resolved.version,
        message: `${label} (${task.type} ${resolved.version}, version "${resolved.versionSpec}" decided by ${resolved.decidedBy}): invalid properties: ${problems.join('; ')}`,
      })
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
    const where = { path: trigger.path, ...(trigger.line ? { line: trigger.line } : {}) }
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
        properties = applyPluginDefaults(trigger.type, trigger.properties, levels)
        const problems = checkProperties(properties, resolved.manifestEntry.properties, expressions)
        if (problems.length > 0) {
          issues.push({
            ...base,
            versionSpec: resolved.versionSpec,
            decidedBy: resolved.decidedBy,
            version: resolved.version,
            message: `${label} (${trigger.type} ${resolved.version}): invalid properties: ${problems.join('; ')}`,
          })
        }
      }
    }
    const conditions: PreparedCondition[] = []
    for (const [index, condition] of trigger.conditions.entries()) {
      const conditionLabel = `${label} condition ${index + 1}`
      const base = {
        path: condition.path,
        ...(condition.line ? { line: condition.line } : {}),
        taskId: trigger.id,
        type: condition.type,
      }
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
      const problems = checkProperties(
        conditionProperties,
        conditionResolved.manifestEntry.properties,
        expressions,
      )
      if (problems.length > 0) {
        issues.push({
          ...base,
          version: conditionResolved.version,
          decidedBy: conditionResolved.decidedBy,
          message: `${conditionLabel} (${condition.type} ${conditionResolved.version}): invalid properties: ${problems.join('; ')}`,
        })
        continue
      }
      conditions.push({ resolved: conditionResolved, properties: conditionProperties })
    }
    if (issues.length > before) return undefined
    return { trigger, ...(resolved ? { resolved } : {}), properties, conditions }
  }

  if (issues.length > 0) {
    const first = issues[0]!
    throw new RuntimeError(
      `flow "${flow.namespace}/${flow.id}" is invalid: ${issues.length} problem${issues.length === 1 ? '' : 's'}: ${first.line ? `${first.path} (line ${first.line})` : first.path}: ${first.message}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`,
      { code: 'FLOW_INVALID', kind: 'user', issues },
    )
  }
  return { flow, tasks, triggers, plugins: collectPlugins(tasks, triggers) }
}

function checkFlowable(
  task: Exclude<FlowTask, PluginTask>,
  check: (value: unknown, path: string, line?: number) => void,
): void {
  switch (task.kind) {
    case 'if':
      check(task.condition, `${task.path}.condition`, task.line)
      break
    case 'switch':
      check(task.value, `${task.path}.value`, task.line)
      break
    case 'forEach':
      check(task.values, `${task.path}.values`, task.line)
      break
    case 'subflow':
      check(task.namespace, `${task.path}.namespace`, task.line)
      check(task.flowId, `${task.path}.flowId`, task.line)
      check(task.inputs, `${task.path}.inputs`, task.line)
      check(task.labels, `${task.path}.labels`, task.line)
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
