import {
  BUILTIN_FUNCTIONS,
  closestName,
  type ExpressionReference,
  expressionReferences,
  hasExpression,
  listNames,
} from '@kite/expressions'
import type { JsonSchema } from '@kite/sdk/host'
import { allTasks, childBranches, type Flow, type FlowTask, type PauseTask } from './flow-model.js'
import { formatPath, type PathSegment, parsePath } from './parse-flow.js'

/** What the checker knows about the plugin types a flow resolved to. */
export interface ExpressionTypes {
  /** Output schema of each plugin task that resolved, by task id. */
  taskOutputs: ReadonlyMap<string, { schema: JsonSchema; label: string }>
  /** Properties schema of each resolved plugin task (`$dynamic: false` values are not rendered). */
  taskProperties: ReadonlyMap<string, JsonSchema>
  /** Output schema of each plugin trigger that resolved, by trigger id. */
  triggerOutputs: ReadonlyMap<string, JsonSchema>
}

/** A reference that cannot work, where it is: `path` in the flow, `at` inside the string. */
export interface ExpressionProblem {
  path: PathSegment[]
  at: { line: number; column: number }
  taskId?: string
  message: string
}

/** Variables every expression sees (SPEC section 3) and the keys known in each. */
const ROOT_KEYS: Record<string, readonly string[] | undefined> = {
  flow: ['id', 'namespace', 'revision'],
  execution: ['id', 'namespace', 'flowId', 'state', 'startDate'],
  task: ['id', 'type'],
  taskrun: ['id', 'value', 'attemptsCount'],
  parent: undefined,
  inputs: undefined,
  vars: undefined,
  outputs: undefined,
  trigger: undefined,
  labels: undefined,
  envs: undefined,
}
const CONTEXT_FUNCTIONS = ['secret', 'kv']
const GLOBALS = new Set([...BUILTIN_FUNCTIONS, ...CONTEXT_FUNCTIONS, 'range'])

const SCHEDULE_KEYS = ['date', 'next', 'previous']
/** What a parent flow's Subflow task passes as `trigger`: any flow may run as a subflow. */
const SUBFLOW_KEYS = ['executionId', 'namespace', 'flowId', 'flowRevision']
const FLOW_TRIGGER_KEYS = ['executionId', 'namespace', 'flowId', 'flowRevision', 'state', 'outputs']

interface Place {
  /** The task whose values these are, or undefined for flow-level values (outputs, variables). */
  task?: FlowTask
  label: string
}

/**
 * Checks the names every `{{ }}` of a flow reads, before anything runs (SPEC 11): outputs of
 * tasks that exist, run earlier and declare the field in their resolved version's output schema;
 * declared inputs; keys of `variables`; the flow's triggers' outputs; the known variables. Every
 * problem is returned. Names only known at run time (computed keys, loops' values, outputs of
 * tasks inside a ForEach, open schemas, guarded reads such as `x ?? y`) are never an error.
 */
export function checkFlowExpressions(flow: Flow, types: ExpressionTypes): ExpressionProblem[] {
  const problems: ExpressionProblem[] = []
  const order = new Map<string, number>()
  const ancestors = new Map<string, Set<string>>()
  const inLoop = new Set<string>()
  const pauses = new Map<string, PauseTask>()
  // Children of one Parallel run side by side: any of them may read another's outputs.
  const parallels = new Map<string, string[]>()
  const visit = (tasks: FlowTask[], parents: FlowTask[]) => {
    for (const task of tasks) {
      order.set(task.id, order.size)
      if (task.kind === 'pause') pauses.set(task.id, task)
      ancestors.set(task.id, new Set(parents.map((parent) => parent.id)))
      parallels.set(
        task.id,
        parents.filter((parent) => parent.kind === 'parallel').map((parent) => parent.id),
      )
      if (parents.some((parent) => parent.kind === 'forEach')) inLoop.add(task.id)
      for (const branch of childBranches(task)) visit(branch.tasks, [...parents, task])
    }
  }
  visit(flow.tasks, [])
  visit(flow.errors, [])
  visit(flow.finally, [])

  const inputIds = flow.inputs.map((input) => input.id)
  const variableKeys = Object.keys(flow.variables)
  const triggerKeys = knownTriggerKeys(flow, types)

  const scan = (value: unknown, path: PathSegment[], place: Place) => {
    if (typeof value === 'string') {
      if (!hasExpression(value)) return
      let references: ExpressionReference[]
      try {
        references = expressionReferences(value)
      } catch {
        return // syntax errors are reported by the syntax check
      }
      for (const reference of references) {
        const message = checkReference(reference, place)
        if (message) {
          problems.push({
            path,
            at: { line: reference.line, column: reference.column },
            ...(place.task ? { taskId: place.task.id } : {}),
            message: `${place.label}: {{ ${reference.text} }}: ${message}`,
          })
        }
      }
    } else if (Array.isArray(value)) {
      for (const [index, item] of value.entries()) scan(item, [...path, index], place)
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) scan(item, [...path, key], place)
    }
  }

  const checkReference = (reference: ExpressionReference, place: Place): string | undefined => {
    if (reference.guarded) return undefined
    const { root, path } = reference
    if (reference.called) {
      if (GLOBALS.has(root)) return undefined
      const hint = closestName(root, [...GLOBALS])
      return `unknown function "${root}"${hint ? `; did you mean "${hint}"?` : ''}`
    }
    if (!Object.hasOwn(ROOT_KEYS, root)) {
      if (GLOBALS.has(root)) return undefined
      const hint = closestName(root, Object.keys(ROOT_KEYS))
      return `unknown variable "${root}"${hint ? `; did you mean "${hint}"?` : ''} (variables: ${Object.keys(ROOT_KEYS).join(', ')})`
    }
    const first = path[0]
    if (typeof first !== 'string') return undefined
    switch (root) {
      case 'inputs':
        return inputIds.includes(first)
          ? undefined
          : unknownName('input', first, inputIds, 'declared inputs')
      case 'vars':
        return variableKeys.includes(first)
          ? undefined
          : unknownName('variable', first, variableKeys, 'variables')
      case 'trigger':
        if (!triggerKeys || triggerKeys.includes(first)) return undefined
        return `${unknownName('trigger output', first, triggerKeys, "outputs of the flow's triggers and of a Subflow call")}${flow.triggers.length === 0 ? '; the flow has no triggers: "trigger" is set only when it runs as a subflow' : ''}`
      case 'outputs':
        return checkOutput(first, path.slice(1), place)
      default: {
        const keys = ROOT_KEYS[root]
        if (!keys || keys.includes(first)) return undefined
        return unknownName(`key of "${root}"`, first, [...keys], `keys of ${root}`)
      }
    }
  }

  const checkOutput = (taskId: string, rest: PathSegment[], place: Place): string | undefined => {
    const position = order.get(taskId)
    if (position === undefined) {
      const hint = closestName(taskId, [...order.keys()])
      return `no task "${taskId}" in this flow${hint ? `; did you mean "${hint}"?` : ''}`
    }
    if (place.task) {
      if (taskId === place.task.id) return `task "${taskId}" cannot read its own outputs`
      const own = order.get(place.task.id) ?? 0
      const sideBySide = parallels
        .get(place.task.id)
        ?.some((parallel) => parallels.get(taskId)?.includes(parallel))
      if (position > own && !ancestors.get(place.task.id)?.has(taskId) && !sideBySide) {
        return `task "${taskId}" runs after task "${place.task.id}", so its outputs do not exist yet`
      }
    }
    // Outputs of tasks in a loop are keyed by the iteration's value first.
    if (inLoop.has(taskId)) return undefined
    const pause = pauses.get(taskId)
    if (pause) return checkSchemaPath(pauseOutputs(pause), rest, `Pause "${taskId}"`)
    const producer = types.taskOutputs.get(taskId)
    if (!producer) return undefined
    return checkSchemaPath(producer.schema, rest, `task "${taskId}" (${producer.label})`)
  }

  for (const task of allTasks(flow)) {
    const base = parsePath(task.path)
    const place: Place = { task, label: `task "${task.id}"` }
    if (task.runIf !== undefined) scan(task.runIf, [...base, 'runIf'], place)
    switch (task.kind) {
      case 'plugin': {
        const schema = types.taskProperties.get(task.id)
        for (const [key, value] of Object.entries(task.properties)) {
          if (schema?.properties?.[key]?.$dynamic === false) continue
          scan(value, [...base, key], place)
        }
        break
      }
      case 'if':
        scan(task.condition, [...base, 'condition'], place)
        break
      case 'switch':
        scan(task.value, [...base, 'value'], place)
        break
      case 'forEach':
        scan(task.values, [...base, 'values'], place)
        break
      case 'subflow':
        for (const key of ['namespace', 'flowId', 'inputs', 'labels'] as const) {
          scan(task[key], [...base, key], place)
        }
        break
      default:
        break
    }
  }
  for (const [index, output] of flow.outputs.entries()) {
    scan(output.value, ['outputs', index, 'value'], { label: `flow output "${output.id}"` })
  }
  for (const [key, value] of Object.entries(flow.variables)) {
    scan(value, ['variables', key], { label: `variable "${key}"` })
  }
  return problems
}

/**
 * The output names the flow's triggers (and a Subflow call) provide, or undefined when one
 * trigger's outputs are open (webhook bodies, open schemas).
 */
function knownTriggerKeys(flow: Flow, types: ExpressionTypes): string[] | undefined {
  const keys = new Set<string>(SUBFLOW_KEYS)
  for (const trigger of flow.triggers) {
    switch (trigger.kind) {
      case 'schedule':
        for (const key of SCHEDULE_KEYS) keys.add(key)
        break
      case 'flow':
        for (const key of FLOW_TRIGGER_KEYS) keys.add(key)
        break
      case 'webhook':
        return undefined
      case 'plugin': {
        const schema = types.triggerOutputs.get(trigger.id)
        if (schema?.additionalProperties !== false) return undefined
        for (const key of Object.keys(schema.properties ?? {})) keys.add(key)
        break
      }
    }
  }
  return [...keys]
}

/** Follows literal keys through a JSON Schema while it is closed; open parts accept anything. */
function checkSchemaPath(
  schema: JsonSchema,
  path: PathSegment[],
  owner: string,
): string | undefined {
  let node: JsonSchema | undefined = schema
  const walked: PathSegment[] = []
  for (const segment of path) {
    if (!node || typeof node !== 'object') return undefined
    if (typeof segment === 'number') {
      const items = node.items
      if (!items || typeof items !== 'object' || Array.isArray(items)) return undefined
      node = items as JsonSchema
    } else {
      const properties = node.properties
      if (properties && Object.hasOwn(properties, segment)) {
        node = properties[segment] as JsonSchema
      } else if (node.additionalProperties === false && properties) {
        const known = Object.keys(properties)
        const hint = closestName(segment, known)
        const where = walked.length > 0 ? ` under "${formatPath(walked)}"` : ''
        return `"${segment}" is not an output of ${owner}${where}${hint ? `; did you mean "${hint}"?` : ''} (outputs: ${listNames(known) || 'none'})`
      } else {
        return undefined
      }
    }
    walked.push(segment)
  }
  return undefined
}

function unknownName(what: string, name: string, known: string[], list: string): string {
  const hint = closestName(name, known)
  return `unknown ${what} "${name}"${hint ? `; did you mean "${hint}"?` : ''} (${list}: ${listNames(known) || 'none'})`
}

/** What a Pause outputs: `onResume.<input>` for each input it declares. */
function pauseOutputs(task: PauseTask): JsonSchema {
  const inputs = Object.fromEntries((task.onResume ?? []).map((input) => [input.id, {}]))
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      onResume: { type: 'object', additionalProperties: false, properties: inputs },
    },
  }
}
