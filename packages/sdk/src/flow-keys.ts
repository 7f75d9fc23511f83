/**
 * The keys a flow itself uses on each kind of block, whatever the plugin: the runtime's flow
 * model takes them from here, and a plugin property can never share one of these names (a flow
 * could never set it).
 */

/** Keys every task block takes from the flow, not from the plugin's properties. */
export const FLOW_TASK_KEYS = [
  'id',
  'type',
  'version',
  'description',
  'disabled',
  'runIf',
  'allowFailure',
  'timeout',
  'retry',
  'logLevel',
] as const

/** Keys every trigger block takes from the flow, not from the plugin's properties. */
export const FLOW_TRIGGER_KEYS = [
  'id',
  'type',
  'version',
  'description',
  'disabled',
  'conditions',
  'interval',
] as const

/** The only keys a condition block has besides its properties. */
export const FLOW_CONDITION_KEYS = ['type', 'version'] as const

export type FlowTaskKey = (typeof FLOW_TASK_KEYS)[number]
export type FlowTriggerKey = (typeof FLOW_TRIGGER_KEYS)[number]
export type FlowConditionKey = (typeof FLOW_CONDITION_KEYS)[number]

/**
 * The names a property of this kind of type may not take. Tasks and triggers share one list
 * (SPEC 2: `id`, `description`, `disabled`, `timeout`, `retry`, ... are reserved for both), so a
 * task and a trigger of one plugin can share property schemas.
 */
export function reservedPropertyNames(kind: 'task' | 'trigger' | 'condition'): readonly string[] {
  return kind === 'condition' ? FLOW_CONDITION_KEYS : RESERVED_FOR_TASKS_AND_TRIGGERS
}

const RESERVED_FOR_TASKS_AND_TRIGGERS: readonly string[] = [
  ...new Set<string>([...FLOW_TASK_KEYS, ...FLOW_TRIGGER_KEYS]),
]
