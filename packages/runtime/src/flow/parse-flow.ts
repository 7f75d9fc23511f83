import type { z } from '@kite/sdk'
import { LineCounter, parseDocument } from 'yaml'
import { RuntimeError, type ValidationIssue } from '../errors.js'
import {
  allTasks,
  BUILTIN_TRIGGER_TYPES,
  FLOWABLE_TYPES,
  type Flow,
  type FlowCondition,
  type FlowInput,
  type FlowOutput,
  type FlowTask,
  type FlowTrigger,
} from './flow-model.js'
import {
  createLocator,
  type FlowLocator,
  type PathSegment,
  yamlErrorPosition,
} from './flow-positions.js'
import {
  ConditionCommonSchema,
  FlowableSchemas,
  FlowInputSchema,
  FlowOutputSchema,
  FlowTopSchema,
  TASK_COMMON_KEYS,
  TaskCommonSchema,
  TRIGGER_COMMON_KEYS,
  TriggerSchemas,
} from './flow-schema.js'

export { lineOf, type PathSegment } from './flow-positions.js'

interface RawIssue {
  path: PathSegment[]
  message: string
  /** Point at the key itself (unknown keys), not at its value. */
  atKey?: boolean
}

/** Largest flow source accepted, in characters. */
export const MAX_FLOW_SOURCE = 1_000_000

/**
 * Parses a flow's YAML into a checked `Flow`. Throws a `FLOW_INVALID` RuntimeError listing every
 * problem with its YAML path and line (`tasks[2].retry.maxAttempts (line 14): expected number`).
 * This checks structure only; plugin types, versions and properties are checked by `validateFlow`.
 */
export function parseFlow(source: string): Flow {
  if (typeof source !== 'string' || source.trim() === '') {
    throw invalid('the flow is empty: expected YAML with at least id, namespace and tasks', [
      { path: '', message: 'the flow is empty' },
    ])
  }
  if (source.length > MAX_FLOW_SOURCE) {
    throw invalid(
      `the flow is too large (${source.length} characters, at most ${MAX_FLOW_SOURCE})`,
      [],
    )
  }
  const lineCounter = new LineCounter()
  const doc = parseDocument(source, { lineCounter, uniqueKeys: true })
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((error) => {
      const position = yamlErrorPosition(error, source, lineCounter)
      const quote = error.code === 'MISSING_CHAR' && /quote/i.test(error.message)
      return {
        path: '',
        message: quote
          ? `invalid YAML: this quoted string is never closed (add the closing quote)`
          : `invalid YAML: ${error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '')}`,
        ...position,
      }
    })
    throw invalid(`the flow is not valid YAML: ${formatFirst(issues)}`, issues)
  }
  let value: unknown
  try {
    value = doc.toJS({ maxAliasCount: 1000 })
  } catch (error) {
    throw invalid(`the flow is not valid YAML: ${(error as Error).message}`, [
      { path: '', message: (error as Error).message },
    ])
  }
  const raw: RawIssue[] = []
  const flow = buildFlow(value, source, raw)
  if (flow) checkIds(flow, raw)
  const locator = createLocator(doc, lineCounter, source)
  if (raw.length > 0 || !flow) {
    const issues = raw.map((issue) => locate(locator, issue))
    const name = flowName(value)
    throw invalid(
      `flow ${name}is invalid: ${issues.length} problem${issues.length === 1 ? '' : 's'}: ${formatFirst(issues)}`,
      issues,
    )
  }
  const place = (item: { path: string; line?: number; column?: number }) => {
    const position = locator.at(parsePath(item.path))
    if (position) Object.assign(item, position)
  }
  for (const task of allTasks(flow)) place(task)
  for (const trigger of flow.triggers) {
    place(trigger)
    for (const condition of trigger.conditions) place(condition)
  }
  return flow
}

function invalid(message: string, issues: ValidationIssue[]): RuntimeError {
  return new RuntimeError(message, { code: 'FLOW_INVALID', kind: 'user', issues })
}

function formatFirst(issues: ValidationIssue[]): string {
  const first = issues[0]
  if (!first) return ''
  const where = first.line === undefined ? first.path : `${first.path} (line ${first.line})`
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''
  return `${where ? `${where}: ` : ''}${first.message}${more}`
}

function flowName(value: unknown): string {
  if (!isRecord(value)) return ''
  const { namespace, id } = value
  return typeof namespace === 'string' && typeof id === 'string' ? `"${namespace}/${id}" ` : ''
}

function buildFlow(value: unknown, source: string, issues: RawIssue[]): Flow | undefined {
  if (!isRecord(value)) {
    issues.push({ path: [], message: 'a flow must be a YAML mapping with id, namespace and tasks' })
    return undefined
  }
  const top = check(FlowTopSchema, value, [], issues)
  // Lists are checked even when a top-level key is wrong, so one round shows every problem.
  const list = (key: string): unknown[] => {
    const parsed = top?.[key as keyof typeof top]
    if (Array.isArray(parsed)) return parsed
    return Array.isArray(value[key]) ? (value[key] as unknown[]) : []
  }
  const inputs = list('inputs').flatMap((input, index) => {
    const parsed = check(FlowInputSchema, input, ['inputs', index], issues)
    return parsed ? [parsed as FlowInput] : []
  })
  const outputs = list('outputs').flatMap((output, index) => {
    const parsed = check(FlowOutputSchema, output, ['outputs', index], issues)
    return parsed ? [parsed as FlowOutput] : []
  })
  const tasks = parseTasks(list('tasks'), ['tasks'], issues)
  const errors = parseTasks(list('errors'), ['errors'], issues)
  const finallyTasks = parseTasks(list('finally'), ['finally'], issues)
  const triggers = list('triggers').flatMap((trigger, index) => {
    const parsed = parseTrigger(trigger, ['triggers', index], issues)
    return parsed ? [parsed] : []
  })
  if (!top) return undefined
  return {
    id: top.id,
    namespace: top.namespace,
    ...(top.description === undefined ? {} : { description: top.description }),
    labels: top.labels,
    inputs,
    variables: top.variables,
    tasks,
    errors,
    finally: finallyTasks,
    triggers,
    pluginDefaults: top.pluginDefaults,
    outputs,
    disabled: top.disabled,
    source,
  }
}

function parseTasks(list: unknown[], path: PathSegment[], issues: RawIssue[]): FlowTask[] {
  return list.flatMap((item, index) => {
    const task = parseTask(item, [...path, index], issues)
    return task ? [task] : []
  })
}

function parseTask(value: unknown, path: PathSegment[], issues: RawIssue[]): FlowTask | undefined {
  if (!isRecord(value)) {
    issues.push({ path, message: 'a task must be a mapping with at least id and type' })
    return undefined
  }
  const where = { path: formatPath(path) }
  const type = value.type
  const kind =
    typeof type === 'string' ? FLOWABLE_TYPES[type as keyof typeof FLOWABLE_TYPES] : undefined
  if (typeof type === 'string' && type.startsWith('kite.flow.') && !kind) {
    issues.push({
      path: [...path, 'type'],
      message: `unknown flowable type "${type}"; the built-in ones are ${Object.keys(FLOWABLE_TYPES).join(', ')}`,
    })
    return undefined
  }
  if (!kind) {
    const common = check(TaskCommonSchema, pick(value, TASK_COMMON_KEYS), path, issues)
    if (!common) return undefined
    return { ...common, ...where, kind: 'plugin', properties: omit(value, TASK_COMMON_KEYS) }
  }
  switch (kind) {
    case 'sequential':
    case 'parallel':
    case 'forEach': {
      // The three flowables that hold one \`tasks\` list, parsed alike.
      const task = check(FlowableSchemas[kind], value, path, issues)
      if (!task) return undefined
      return {
        ...task,
        ...where,
        kind,
        tasks: parseTasks(task.tasks, [...path, 'tasks'], issues),
        ...branches(task, path, issues),
      } as FlowTask
    }
    case 'if': {
      const task = check(FlowableSchemas.if, value, path, issues)
      if (!task) return undefined
      return {
        ...task,
        ...where,
        kind,
        // biome-ignore lint/suspicious/noThenProperty: Kestra's field name for the If branch
        then: parseTasks(task.then, [...path, 'then'], issues),
        else: parseTasks(task.else ?? [], [...path, 'else'], issues),
        ...branches(task, path, issues),
      }
    }
    case 'switch': {
      const task = check(FlowableSchemas.switch, value, path, issues)
      if (!task) return undefined
      return {
        ...task,
        ...where,
        kind,
        cases: Object.fromEntries(
          Object.entries(task.cases).map(([key, tasks]) => [
            key,
            parseTasks(tasks, [...path, 'cases', key], issues),
          ]),
        ),
        defaults: parseTasks(task.defaults ?? [], [...path, 'defaults'], issues),
        ...branches(task, path, issues),
      }
    }
    case 'subflow': {
      const task = check(FlowableSchemas.subflow, value, path, issues)
      return task ? { ...task, ...where, kind } : undefined
    }
    case 'pause': {
      const task = check(FlowableSchemas.pause, value, path, issues)
      const seen = new Set<string>()
      for (const [index, input] of (task?.onResume ?? []).entries()) {
        if (seen.has(input.id)) {
          issues.push({
            path: [...path, 'onResume', index, 'id'],
            message: `duplicate onResume input id "${input.id}"`,
          })
        }
        seen.add(input.id)
      }
      return task ? { ...task, ...where, kind } : undefined
    }
  }
}

function branches(
  task: { errors?: unknown[]; finally?: unknown[] },
  path: PathSegment[],
  issues: RawIssue[],
): { errors: FlowTask[]; finally: FlowTask[] } {
  return {
    errors: parseTasks(task.errors ?? [], [...path, 'errors'], issues),
    finally: parseTasks(task.finally ?? [], [...path, 'finally'], issues),
  }
}

function parseTrigger(
  value: unknown,
  path: PathSegment[],
  issues: RawIssue[],
): FlowTrigger | undefined {
  if (!isRecord(value)) {
    issues.push({ path, message: 'a trigger must be a mapping with at least id and type' })
    return undefined
  }
  const where = { path: formatPath(path) }
  const type = value.type
  const kind =
    typeof type === 'string'
      ? BUILTIN_TRIGGER_TYPES[type as keyof typeof BUILTIN_TRIGGER_TYPES]
      : undefined
  if (typeof type === 'string' && type.startsWith('kite.trigger.') && !kind) {
    issues.push({
      path: [...path, 'type'],
      message: `unknown trigger type "${type}"; the built-in ones are ${Object.keys(BUILTIN_TRIGGER_TYPES).join(', ')}`,
    })
    return undefined
  }
  const conditionsOf = (list: unknown[]) =>
    list.flatMap((item, index) => {
      const condition = parseCondition(item, [...path, 'conditions', index], issues)
      return condition ? [condition] : []
    })
  switch (kind) {
    case 'schedule':
    case 'webhook':
    case 'flow': {
      // Built-in triggers differ only by schema (the one cast: TypeScript cannot tie `kind`
      // to the schema it picked).
      const trigger = check(TriggerSchemas[kind], value, path, issues)
      if (!trigger) return undefined
      return {
        ...trigger,
        ...where,
        kind,
        conditions: conditionsOf(trigger.conditions),
      } as FlowTrigger
    }
    default: {
      const trigger = check(TriggerSchemas.plugin, pick(value, TRIGGER_COMMON_KEYS), path, issues)
      if (!trigger) return undefined
      return {
        ...trigger,
        ...where,
        kind: 'plugin',
        conditions: conditionsOf(trigger.conditions),
        properties: omit(value, TRIGGER_COMMON_KEYS),
      }
    }
  }
}

function parseCondition(
  value: unknown,
  path: PathSegment[],
  issues: RawIssue[],
): FlowCondition | undefined {
  if (!isRecord(value)) {
    issues.push({ path, message: 'a condition must be a mapping with at least a type' })
    return undefined
  }
  const common = check(ConditionCommonSchema, pick(value, ['type', 'version']), path, issues)
  if (!common) return undefined
  return {
    ...common,
    path: formatPath(path),
    properties: omit(value, ['type', 'version']),
  }
}

/** Task ids are unique across the whole flow (nested tasks, errors and finally included). */
function checkIds(flow: Flow, issues: RawIssue[]): void {
  const seen = new Map<string, string>()
  for (const task of allTasks(flow)) {
    const first = seen.get(task.id)
    if (first !== undefined) {
      issues.push({
        path: [...parsePath(task.path), 'id'],
        message: `duplicate task id "${task.id}" (already used at ${first}); task ids must be unique across the flow, nested tasks included`,
      })
    } else {
      seen.set(task.id, task.path)
    }
  }
  const unique = (items: Array<{ id: string }>, key: string, what: string) => {
    const ids = new Set<string>()
    for (const [index, item] of items.entries()) {
      if (ids.has(item.id)) {
        issues.push({ path: [key, index, 'id'], message: `duplicate ${what} id "${item.id}"` })
      }
      ids.add(item.id)
    }
  }
  unique(flow.triggers, 'triggers', 'trigger')
  unique(flow.inputs, 'inputs', 'input')
  unique(flow.outputs, 'outputs', 'output')
}

/** Runs a zod schema and turns its issues into raw issues under `path`. */
function check<S extends z.ZodType>(
  schema: S,
  value: unknown,
  path: PathSegment[],
  issues: RawIssue[],
): z.output<S> | undefined {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  for (const issue of result.error.issues) {
    const at = [...path, ...issue.path.map((segment) => segment as PathSegment)]
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(schema)
      for (const key of issue.keys) {
        const hint = closest(key, known)
        issues.push({
          path: [...at, key],
          atKey: true,
          message: `unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}`,
        })
      }
      continue
    }
    issues.push({ path: at, message: issueMessage(issue) })
  }
  return undefined
}

function issueMessage(issue: z.core.$ZodIssue): string {
  const message = issue.message.replace(/^Invalid input: /, '')
  if (issue.code === 'invalid_type' && /received undefined$/.test(message)) return 'is required'
  return message
}

function knownKeys(schema: z.ZodType): string[] {
  const shape = (schema as { shape?: Record<string, unknown> }).shape
  if (shape) return Object.keys(shape)
  const inner = (schema as { def?: { in?: z.ZodType; schema?: z.ZodType } }).def
  const wrapped = inner?.in ?? inner?.schema
  return wrapped ? knownKeys(wrapped) : []
}

/** The known key nearest to a misspelt one, if it is close enough to be a typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1
  for (const candidate of candidates) {
    const distance = levenshtein(word.toLowerCase(), candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, index) => index)
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1))
      previous = current
    }
  }
  return row[b.length]!
}

/** `['tasks', 2, 'retry']` → `tasks[2].retry`. */
export function formatPath(path: readonly PathSegment[]): string {
  let text = ''
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) text += text ? `.${segment}` : segment
    else text += `[${JSON.stringify(segment)}]`
  }
  return text
}

/** The inverse of `formatPath` for the paths it writes. */
export function parsePath(path: string): PathSegment[] {
  const segments: PathSegment[] = []
  const pattern = /([A-Za-z_$][\w$-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g
  for (const match of path.matchAll(pattern)) {
    if (match[1] !== undefined) segments.push(match[1])
    else if (match[2] !== undefined) segments.push(Number(match[2]))
    else if (match[3] !== undefined) segments.push(JSON.parse(match[3]) as string)
  }
  return segments
}

/** Places an issue at the deepest YAML node on its path that exists. */
function locate(locator: FlowLocator, issue: RawIssue): ValidationIssue {
  const position = locator.at(issue.path, issue.atKey === true)
  return { path: formatPath(issue.path), message: issue.message, ...position }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function pick(value: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const picked: Record<string, unknown> = {}
  for (const key of keys) if (key in value) picked[key] = value[key]
  return picked
}

function omit(value: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const kept: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) if (!keys.includes(key)) kept[key] = item
  return kept
}
