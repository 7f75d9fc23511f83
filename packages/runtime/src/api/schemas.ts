import { z } from '@hono/zod-openapi'
import { EXECUTION_STATES, TASK_RUN_STATES } from '@kite/sdk'
import { USER_NAME_PATTERN } from '../auth/auth-service.js'
import { LOG_LEVELS } from '../executor/execution-model.js'

// The bodies and parameters of the API, once: the routes validate with them, the OpenAPI
// document is generated from them and `@kite/client` gets its types from them.

const dateTime = z.string().openapi({ format: 'date-time' })
const json = z.record(z.string(), z.unknown())

export const ValidationIssue = z
  .object({
    path: z.string().openapi({ description: 'e.g. tasks[2].retry.maxAttempts' }),
    message: z.string(),
    line: z.number().int().optional().openapi({ description: 'Line in the YAML.' }),
    column: z.number().int().optional().openapi({ description: 'Column in the YAML (1-based).' }),
    taskId: z.string().optional(),
    type: z.string().optional(),
    versionSpec: z.string().optional(),
    decidedBy: z.string().optional(),
    version: z.string().optional(),
  })
  .openapi('ValidationIssue')

export const ErrorBody = z
  .object({
    message: z.string(),
    code: z.string(),
    errors: z.array(ValidationIssue).optional(),
  })
  .openapi('Error')
export type ErrorBody = z.infer<typeof ErrorBody>

/** Which level chose a plugin version (SPEC 4). */
export const DecidedBy = z
  .enum(['task', 'flow', 'namespace', 'instance', 'defaultVersion'])
  .openapi('DecidedBy')

const FLOW_WARNINGS =
  'What is valid but should change (an old type id resolved through an alias), placed like errors.'

export const FlowPlugin = z
  .object({
    taskId: z.string(),
    type: z.string(),
    package: z.string(),
    version: z.string(),
    versionSpec: z.string(),
    decidedBy: DecidedBy,
    integrity: z.string().optional(),
  })
  .openapi('FlowPlugin')

export const Flow = z
  .object({
    namespace: z.string(),
    id: z.string(),
    revision: z.number().int(),
    description: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    disabled: z.boolean().optional(),
    inputs: z.array(json).optional(),
    tasks: z.number().int().optional().openapi({ description: 'How many top-level tasks.' }),
    triggers: z.array(z.object({ id: z.string(), type: z.string() })).optional(),
    updated: dateTime,
    source: z.string(),
    plugins: z.array(FlowPlugin).optional(),
    warnings: z.array(ValidationIssue).optional().openapi({ description: FLOW_WARNINGS }),
  })
  .openapi('Flow')
export type Flow = z.infer<typeof Flow>

export const FlowRevision = z
  .object({
    revision: z.number().int(),
    updated: dateTime,
    deleted: z.boolean(),
    source: z.string(),
  })
  .openapi('FlowRevision')

export const FlowValidation = z
  .object({
    valid: z.literal(true),
    namespace: z.string(),
    id: z.string(),
    plugins: z.array(FlowPlugin),
    warnings: z.array(ValidationIssue).openapi({ description: FLOW_WARNINGS }),
  })
  .openapi('FlowValidation')

export const FlowInvalid = ErrorBody.extend({ valid: z.literal(false) }).openapi('FlowInvalid')

const stateInfo = <const S extends readonly [string, ...string[]]>(states: S) =>
  z.object({
    current: z.enum(states),
    histories: z.array(z.object({ state: z.enum(states), date: dateTime })),
    startDate: dateTime,
    endDate: dateTime.optional(),
    duration: z.number().optional().openapi({ description: 'Milliseconds, once ended.' }),
  })

export const ExecutionState = z.enum(EXECUTION_STATES).openapi('ExecutionState')
export const TaskRunState = z.enum(TASK_RUN_STATES).openapi('TaskRunState')

export const ExecutionPlugin = z
  .object({
    type: z.string(),
    kind: z.enum(['task', 'trigger', 'condition']),
    package: z.string(),
    version: z.string(),
    integrity: z.string().optional(),
    decidedBy: DecidedBy,
    taskIds: z.array(z.string()),
  })
  .openapi('ExecutionPlugin')

export const TaskRun = z
  .object({
    id: z.string(),
    executionId: z.string(),
    namespace: z.string(),
    flowId: z.string(),
    taskId: z.string(),
    type: z.string(),
    pluginVersion: z.string().optional(),
    parentTaskRunId: z.string().optional(),
    value: z.unknown().optional().openapi({ description: 'The ForEach value.' }),
    iteration: z.number().int().optional(),
    valueKeys: z.array(z.string()).optional(),
    state: stateInfo(TASK_RUN_STATES),
    attempts: z.array(
      z.object({
        state: stateInfo(TASK_RUN_STATES),
        error: z.string().optional(),
        metrics: z.array(json).optional(),
      }),
    ),
    outputs: json.optional(),
    error: z.string().optional(),
    wakeAt: dateTime.optional().openapi({
      description: 'A `kite.core.flow.Sleep` the executor waits for: when it ends.',
    }),
    sequence: z.number().int(),
  })
  .openapi('TaskRun')

export const ExecutionSummary = z
  .object({
    id: z.string(),
    namespace: z.string(),
    flowId: z.string(),
    flowRevision: z.number().int(),
    state: stateInfo(EXECUTION_STATES),
    labels: z.record(z.string(), z.string()),
    inputs: json,
    outputs: json.optional(),
    plugins: z.array(ExecutionPlugin),
    trigger: z.object({ id: z.string(), type: z.string(), variables: json }).optional(),
    parent: z
      .object({
        executionId: z.string(),
        namespace: z.string(),
        flowId: z.string(),
        taskRunId: z.string(),
        taskId: z.string(),
      })
      .optional(),
    error: z.string().optional(),
    replayOf: z
      .object({
        executionId: z.string(),
        taskRunId: z.string().optional(),
        keepPlugins: z.boolean(),
      })
      .optional()
      .openapi({ description: 'On a replay: the execution and task run it started again from.' }),
  })
  .openapi('ExecutionSummary')
export type ExecutionSummary = z.infer<typeof ExecutionSummary>

export const Execution = ExecutionSummary.extend({ taskRunList: z.array(TaskRun) }).openapi(
  'Execution',
)
export type Execution = z.infer<typeof Execution>

export const ReplayBody = z
  .object({
    taskRunId: z
      .string()
      .min(1)
      .optional()
      .openapi({ description: 'The task run to start again from (default: the whole flow).' }),
    revision: z
      .number()
      .int()
      .min(1)
      .optional()
      .openapi({ description: "The flow revision to run (default: the original's)." }),
    keepPlugins: z.boolean().optional().openapi({
      description:
        "Keep the original's plugin versions (its lock) instead of resolving them again.",
    }),
  })
  .strict()
  .openapi('ReplayRequest')

export const LogLevel = z.enum(LOG_LEVELS as readonly ['trace', 'debug', 'info', 'warn', 'error'])

export const LogEntry = z
  .object({
    id: z.number().int(),
    executionId: z.string(),
    taskRunId: z.string().optional(),
    taskId: z.string().optional(),
    attemptNumber: z.number().int().optional(),
    level: LogLevel,
    message: z.string(),
    timestamp: dateTime,
  })
  .openapi('LogEntry')
export type LogEntry = z.infer<typeof LogEntry>

export const ExecutionPage = z
  .object({
    results: z.array(ExecutionSummary),
    total: z.number().int(),
    page: z.number().int(),
    size: z.number().int(),
  })
  .openapi('ExecutionPage')

export const Trigger = z
  .object({
    namespace: z.string(),
    flowId: z.string(),
    flowRevision: z.number().int(),
    triggerId: z.string(),
    type: z.string().openapi({
      description:
        'kite.trigger.Schedule, kite.trigger.Webhook, kite.trigger.Flow or a plugin trigger type.',
    }),
    kind: z.enum(['schedule', 'webhook', 'flow', 'plugin']),
    version: z.string().optional().openapi({ description: 'The resolved plugin version.' }),
    enabled: z.boolean().openapi({ description: 'False when disabled through the API.' }),
    flowDisabled: z
      .boolean()
      .openapi({ description: 'True when the flow or the trigger says `disabled: true`.' }),
    cron: z.string().optional(),
    timezone: z.string().optional(),
    interval: z.string().optional().openapi({ description: 'ISO-8601 polling interval.' }),
    nextDate: dateTime.optional(),
    lastEvaluation: dateTime.optional(),
    lastFired: dateTime.optional(),
    lastExecutionId: z.string().optional(),
    lastError: z.object({ date: dateTime, message: z.string() }).optional(),
    failures: z.number().int().openapi({ description: 'Consecutive failed evaluations.' }),
    state: json.openapi({ description: "The plugin trigger's `ctx.state`, by key." }),
    problem: z.string().optional().openapi({ description: 'Why it cannot be evaluated.' }),
  })
  .openapi('Trigger')

export const PluginVersion = z
  .object({
    version: z.string(),
    integrity: z.string().nullable(),
    origin: z.string(),
    types: z.array(z.object({ type: z.string(), kind: z.enum(['task', 'trigger', 'condition']) })),
    flows: z
      .array(z.string())
      .openapi({ description: 'Saved flows (`namespace/id`) that resolve to this version.' }),
  })
  .openapi('PluginVersion')

export const InstalledPlugin = z
  .object({
    name: z.string(),
    group: z.string().optional(),
    latestInstalled: z.string().optional(),
    latestAvailable: z.string().optional(),
    updateAvailable: z.boolean(),
    versions: z.array(PluginVersion),
  })
  .openapi('InstalledPlugin')

export const PluginList = z
  .object({
    registry: z.string().nullable(),
    sync: z.string(),
    connected: z.boolean(),
    results: z.array(InstalledPlugin),
  })
  .openapi('PluginList')

export const PluginSpecs = z
  .object({
    plugins: z
      .array(z.string().min(1))
      .min(1)
      .openapi({ description: '`name@version`, a range, `LATEST`/`OLDEST` or a dist-tag' }),
    force: z.boolean().optional().openapi({ description: 'Uninstall even when flows use it.' }),
  })
  .openapi('PluginSpecs')

export const PluginDefaults = z
  .object({ namespace: z.string(), pluginDefaults: z.array(json) })
  .openapi('PluginDefaults')

// ── parameters ──────────────────────────────────────────────────────────────────────────────

export const pathParam = (name: string, description: string) =>
  z
    .string()
    .min(1)
    .openapi({ param: { name, in: 'path' }, description })

export const FlowParams = z.object({
  namespace: pathParam('namespace', 'The flow namespace.'),
  id: pathParam('id', 'The flow id.'),
})
export const ExecutionParams = z.object({ id: pathParam('id', 'The execution id.') })
export const NamespaceParams = z.object({
  namespace: pathParam('namespace', 'A namespace (dotted lower-case segments).'),
})
export const TriggerParams = z.object({
  namespace: pathParam('namespace', 'The flow namespace.'),
  flowId: pathParam('flowId', 'The flow id.'),
  triggerId: pathParam('triggerId', 'The trigger id.'),
})

/** An optional integer query parameter (query values arrive as text). */
export const queryInt = (description: string) =>
  z
    .string()
    .regex(/^-?\d+$/, 'must be an integer')
    .transform(Number)
    .optional()
    .openapi({ type: 'integer', description })

/** `true` or `false` (query values arrive as text). */
export const queryBoolean = (description: string) =>
  z.enum(['true', 'false']).optional().openapi({ description })

export const ClusterNode = z
  .object({
    id: z.string(),
    roles: z.array(z.enum(['api', 'executor', 'worker', 'scheduler'])),
    host: z.string(),
    pid: z.number().int(),
    slots: z
      .number()
      .int()
      .openapi({ description: 'Task runs it runs at once (0: no worker role).' }),
    slotsInUse: z.number().int(),
    startedAt: z.string(),
    heartbeatAt: z.string(),
    plugins: z
      .array(z.string())
      .openapi({ description: 'Plugin versions loaded (`name@version`).' }),
    executions: z
      .number()
      .int()
      .openapi({ description: 'Unfinished executions it holds (executors).' }),
    activeScheduler: z.boolean(),
    self: z.boolean().openapi({ description: 'The node that answered.' }),
  })
  .openapi('ClusterNode')

export const Cluster = z
  .object({
    nodes: z
      .array(ClusterNode)
      .openapi({ description: 'Live nodes (heartbeat within worker.heartbeatTimeout).' }),
    scheduler: z.object({ nodeId: z.string(), expiresAt: z.string() }).nullable().openapi({
      description:
        'The active scheduler and when its lease ends unrenewed (null: single-process runtime or none yet).',
    }),
    plugins: z
      .array(
        z.object({
          name: z.string(),
          version: z.string(),
          installed: z.boolean(),
          updatedAt: z.string(),
        }),
      )
      .openapi({
        description:
          'The installed plugin set recorded for the cluster (installed: false once uninstalled).',
      }),
  })
  .openapi('Cluster')

/** The two roles (SPEC 10): `viewer` reads, `admin` does everything. */
export const Role = z.enum(['viewer', 'admin']).openapi('Role')

const userName = z
  .string()
  .regex(
    USER_NAME_PATTERN,
    'must be 1 to 64 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit',
  )

export const LoginBody = z
  .object({
    username: z.string().min(1, 'is empty').max(64, 'is longer than 64 characters'),
    password: z.string().min(1, 'is empty').max(1024, 'is longer than 1024 characters'),
  })
  .openapi('LoginBody')

export const SessionUser = z.object({ name: z.string(), role: Role }).openapi('SessionUser')

export const Me = z
  .object({
    user: SessionUser.nullable(),
    authRequired: z.boolean().openapi({ description: 'False on a runtime without users.' }),
  })
  .openapi('Me')

export const User = z.object({ name: z.string(), role: Role, createdAt: dateTime }).openapi('User')

export const NewUser = z
  .object({
    name: userName,
    role: Role,
    password: z
      .string()
      .min(8, 'must be at least 8 characters')
      .max(1024, 'must be at most 1024 characters'),
  })
  .openapi('NewUser')

export const ApiToken = z
  .object({
    id: z.string(),
    name: z.string(),
    owner: z.string(),
    role: Role,
    createdAt: dateTime,
    lastUsedAt: dateTime.optional(),
    revokedAt: dateTime.optional(),
  })
  .openapi('ApiToken')

export const NewToken = z
  .object({
    name: userName,
    role: Role.optional().openapi({ description: "Default: the creator's role." }),
  })
  .openapi('NewToken')

export const CreatedToken = ApiToken.extend({
  token: z.string().openapi({ description: 'The token itself: shown this once, never stored.' }),
}).openapi('CreatedToken')
