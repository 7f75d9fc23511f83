import { isDuration, z } from '@kite/sdk'
import {
  FLOW_TASK_KEYS,
  FLOW_TRIGGER_KEYS,
  type FlowConditionKey,
  type FlowTaskKey,
  type FlowTriggerKey,
} from '@kite/sdk/host'

/** Flow ids: letters, digits, `.`, `_`, `-`; starting with a letter or digit (Kestra's rule). */
export const FLOW_ID_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9._-]*$/
/** Namespaces: dotted lower-case segments of letters, digits, `_` and `-` (`company.team`). */
export const NAMESPACE_PATTERN = /^[a-z0-9][a-z0-9_-]*(?:\.[a-z0-9][a-z0-9_-]*)*$/
/** Task, trigger, input and output ids: letters, digits, `_`, `-` (no dots: ids are expression keys). */
export const TASK_ID_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_-]*$/

export const FlowId = z
  .string()
  .max(100, 'must be at most 100 characters')
  .regex(
    FLOW_ID_PATTERN,
    'must be letters, digits, ".", "_" or "-", starting with a letter or digit',
  )
export const Namespace = z
  .string()
  .max(150, 'must be at most 150 characters')
  .regex(
    NAMESPACE_PATTERN,
    'must be dotted lower-case segments of letters, digits, "_" or "-" (e.g. company.team)',
  )
export const TaskId = z
  .string()
  .max(100, 'must be at most 100 characters')
  .regex(TASK_ID_PATTERN, 'must be letters, digits, "_" or "-", starting with a letter or digit')

export const Duration = z
  .string()
  .refine(isDuration, 'must be an ISO-8601 duration such as PT30S, PT5M or PT1H')

const TypeName = z
  .string()
  .min(1)
  .regex(
    /^[a-z][a-z0-9_-]*(?:\.[A-Za-z][A-Za-z0-9_-]*)+$/,
    'must be a type id such as kite.http.Request',
  )

const VersionSpec = z
  .string()
  .min(1)
  .or(z.number().transform(String))
  .describe('an exact version, LATEST, OLDEST or a semver range')

const ScalarString = z.union([z.string(), z.number(), z.boolean()]).transform(String)

/** `labels` as a map, or as Kestra's list of `{ key, value }`. */
export const Labels = z.union(
  [
    z.record(z.string(), ScalarString),
    z
      .array(z.strictObject({ key: z.string().min(1), value: ScalarString }))
      .transform((list) => Object.fromEntries(list.map(({ key, value }) => [key, value]))),
  ],
  { error: 'must be a map of label names to values' },
)

export const InputType = z.enum(
  ['STRING', 'INT', 'FLOAT', 'BOOLEAN', 'DATETIME', 'JSON', 'ENUM', 'SECRET', 'FILE'],
  { error: 'must be one of STRING, INT, FLOAT, BOOLEAN, DATETIME, JSON, ENUM, SECRET, FILE' },
)

export const FlowInputSchema = z
  .strictObject({
    id: TaskId,
    type: InputType,
    description: z.string().optional(),
    displayName: z.string().optional(),
    required: z.boolean().default(true),
    defaults: z.unknown().optional(),
    values: z.array(ScalarString).min(1).optional(),
  })
  .superRefine((input, ctx) => {
    if (input.type === 'ENUM' && !input.values) {
      ctx.addIssue({ code: 'custom', path: ['values'], message: 'an ENUM input needs its values' })
    }
    if (input.type !== 'ENUM' && input.values) {
      ctx.addIssue({ code: 'custom', path: ['values'], message: 'only ENUM inputs take values' })
    }
  })

export const FlowOutputSchema = z.strictObject({
  id: TaskId,
  type: InputType.optional(),
  description: z.string().optional(),
  value: z.unknown().refine((value) => value !== undefined, 'is required'),
})

export const PluginDefaultSchema = z.strictObject({
  type: z
    .string()
    .min(1)
    .regex(/^[a-z][a-zA-Z0-9_.-]*$/, 'must be a type or a group prefix such as kite.http'),
  values: z.record(z.string(), z.unknown()),
  forced: z.boolean().default(false),
})

const MaxAttempts = z.number().int('must be a whole number').min(1, 'must be at least 1')

export const RetrySchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('constant'),
      interval: Duration,
      maxAttempts: MaxAttempts,
      maxDuration: Duration.optional(),
      warningOnRetry: z.boolean().default(false),
    }),
    z.strictObject({
      type: z.literal('exponential'),
      interval: Duration,
      maxInterval: Duration.optional(),
      delayFactor: z.number().min(1).default(2),
      maxAttempts: MaxAttempts,
      maxDuration: Duration.optional(),
      warningOnRetry: z.boolean().default(false),
    }),
  ],
  { error: 'retry.type must be "constant" or "exponential"' },
)

export const LogLevelSchema = z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'], {
  error: 'must be one of TRACE, DEBUG, INFO, WARN, ERROR',
})

/** The keys tasks and triggers share: what names the block and the plugin type it runs. */
const TypedBlockShape = {
  id: TaskId,
  type: TypeName,
  version: VersionSpec.optional(),
  description: z.string().optional(),
  disabled: z.boolean().default(false),
}

/** The keys every task takes, whatever its type. */
export const TaskCommonShape = {
  ...TypedBlockShape,
  runIf: z
    .union([z.string(), z.boolean()], { error: 'must be an expression or a boolean' })
    .optional(),
  allowFailure: z.boolean().default(false),
  timeout: Duration.optional(),
  retry: RetrySchema.optional(),
  logLevel: LogLevelSchema.optional(),
} satisfies Record<FlowTaskKey, z.ZodType>
export const TASK_COMMON_KEYS: readonly string[] = FLOW_TASK_KEYS
export const TaskCommonSchema = z.object(TaskCommonShape)

const TaskList = z.array(z.unknown())
const NonEmptyTaskList = z.array(z.unknown()).min(1, 'needs at least one task')
const Branches = { errors: TaskList.optional(), finally: TaskList.optional() }

/** The own keys of each built-in flowable task (children are parsed separately). */
export const FlowableSchemas = {
  sequential: z.strictObject({ ...TaskCommonShape, tasks: NonEmptyTaskList, ...Branches }),
  parallel: z.strictObject({
    ...TaskCommonShape,
    tasks: NonEmptyTaskList,
    concurrent: z.int().min(0).default(0),
    ...Branches,
  }),
  if: z.strictObject({
    ...TaskCommonShape,
    condition: z.union([z.string(), z.boolean()], {
      error: 'must be an expression or a boolean',
    }),
    // biome-ignore lint/suspicious/noThenProperty: Kestra's field name for the If branch
    then: NonEmptyTaskList,
    else: TaskList.optional(),
    ...Branches,
  }),
  switch: z.strictObject({
    ...TaskCommonShape,
    value: z.union([z.string(), z.number(), z.boolean()], {
      error: 'must be an expression or a scalar value',
    }),
    cases: z.record(z.string(), TaskList),
    defaults: TaskList.optional(),
    ...Branches,
  }),
  forEach: z.strictObject({
    ...TaskCommonShape,
    values: z.union([z.string(), z.array(z.unknown())], {
      error: 'must be a list or an expression that renders to one',
    }),
    concurrencyLimit: z.int().min(0).default(1),
    tasks: NonEmptyTaskList,
    ...Branches,
  }),
  subflow: z.strictObject({
    ...TaskCommonShape,
    namespace: z.string().min(1),
    flowId: z.string().min(1),
    revision: z.int().min(1).optional(),
    inputs: z.record(z.string(), z.unknown()).default({}),
    labels: Labels.default({}),
    wait: z.boolean().default(true),
    transmitFailed: z.boolean().default(true),
  }),
  pause: z.strictObject({
    ...TaskCommonShape,
    delay: Duration.optional(),
    /** Inputs given with the resume, read downstream as `outputs.<pause>.onResume.<id>`. */
    onResume: z.array(FlowInputSchema).optional(),
  }),
} as const

/** The keys every trigger takes. */
export const TriggerCommonShape = {
  ...TypedBlockShape,
  conditions: z.array(z.unknown()).default([]),
} satisfies Record<Exclude<FlowTriggerKey, 'interval'>, z.ZodType>
export const TRIGGER_COMMON_KEYS: readonly string[] = FLOW_TRIGGER_KEYS

export const TriggerSchemas = {
  schedule: z.strictObject({
    ...TriggerCommonShape,
    cron: z.string().min(1),
    timezone: z.string().optional(),
    inputs: z.record(z.string(), z.unknown()).default({}),
    recoverMissedSchedules: z.enum(['LAST', 'NONE', 'ALL']).default('ALL'),
  }),
  webhook: z.strictObject({
    ...TriggerCommonShape,
    key: z
      .string()
      .min(1)
      .regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, "_" or "-"'),
  }),
  flow: z.strictObject({
    ...TriggerCommonShape,
    preconditions: z
      .strictObject({
        flows: z.array(
          z.strictObject({
            namespace: Namespace,
            flowId: FlowId,
            states: z
              .array(z.enum(['SUCCESS', 'WARNING', 'FAILED', 'KILLED']))
              .default(['SUCCESS', 'WARNING', 'FAILED', 'KILLED']),
          }),
        ),
      })
      .default({ flows: [] }),
  }),
  plugin: z.object({ ...TriggerCommonShape, interval: Duration.optional() }),
} as const

export const ConditionCommonSchema = z.object({
  type: TypeName,
  version: VersionSpec.optional(),
} satisfies Record<FlowConditionKey, z.ZodType>)

/** Top-level keys; lists of tasks and triggers are parsed one element at a time. */
export const FlowTopSchema = z.strictObject({
  id: FlowId,
  namespace: Namespace,
  description: z.string().optional(),
  labels: Labels.default({}),
  inputs: z.array(z.unknown()).default([]),
  variables: z.record(z.string(), z.unknown()).default({}),
  tasks: NonEmptyTaskList,
  errors: TaskList.default([]),
  finally: TaskList.default([]),
  triggers: z.array(z.unknown()).default([]),
  pluginDefaults: z.array(PluginDefaultSchema).default([]),
  outputs: z.array(z.unknown()).default([]),
  disabled: z.boolean().default(false),
})
