import { defineCondition, EXECUTION_STATES, KiteError, z } from '@kite/sdk'

export const ExecutionState = z.enum(EXECUTION_STATES)

export const executionStatus = defineCondition({
  name: 'condition.ExecutionStatus',
  title: 'Execution status',
  description:
    "Passes when the execution's state is in `in` and not in `notIn`. On a flow trigger the execution is the upstream one, in its final state: use it to start a flow only after another failed, for example.",
  properties: z
    .object({
      in: z.array(ExecutionState).min(1).optional().describe('States that pass.'),
      notIn: z.array(ExecutionState).min(1).optional().describe('States that do not pass.'),
    })
    .refine((props) => props.in !== undefined || props.notIn !== undefined, {
      message: 'set `in`, `notIn` or both',
    }),
  examples: [
    { title: 'Only after a failure', code: 'in: [FAILED, WARNING]' },
    { title: 'Anything but success', code: 'notIn: [SUCCESS]' },
  ],
  test(props, ctx) {
    const state = ctx.execution.state
    if (state === undefined) {
      throw new KiteError(
        `the state of execution ${ctx.execution.id} is not known here, so ${ctx.task.type} cannot test it`,
        { code: 'STATE_UNKNOWN', kind: 'user' },
      )
    }
    const included = props.in === undefined || props.in.some((candidate) => candidate === state)
    const excluded = props.notIn?.some((candidate) => candidate === state) ?? false
    return included && !excluded
  },
})

export const executionFlow = defineCondition({
  name: 'condition.ExecutionFlow',
  title: 'Execution flow',
  description:
    'Passes when the execution belongs to the given flow (namespace and flow id). On a flow trigger the execution is the upstream one.',
  properties: z.object({
    namespace: z.string().min(1).describe('The namespace of the flow.'),
    flowId: z.string().min(1).describe('The id of the flow.'),
  }),
  examples: [
    { title: 'After the nightly export', code: 'namespace: company.data\nflowId: export' },
  ],
  test: (props, ctx) =>
    ctx.execution.namespace === props.namespace && ctx.execution.flowId === props.flowId,
})

export const NamespaceComparison = z.enum(['EQUALS', 'PREFIX', 'SUFFIX'])

export const executionNamespace = defineCondition({
  name: 'condition.ExecutionNamespace',
  title: 'Execution namespace',
  description:
    "Passes when the execution's namespace equals `namespace` (EQUALS), lies under it (PREFIX: `company` matches `company` and `company.team`, not `companyx`), or ends with it (SUFFIX: `team` matches `company.team`, not `company.myteam`). PREFIX and SUFFIX compare whole dotted segments.",
  properties: z.object({
    namespace: z.string().min(1).describe('The namespace, or the part of it, to compare with.'),
    comparison: NamespaceComparison.default('EQUALS').describe('How to compare.'),
  }),
  examples: [
    { title: 'Any namespace of the company', code: 'namespace: company\ncomparison: PREFIX' },
  ],
  test(props, ctx) {
    return namespaceMatches(ctx.execution.namespace, props.namespace, props.comparison)
  },
})

/** Compares namespaces segment by segment (see `executionNamespace`). */
export function namespaceMatches(
  actual: string,
  expected: string,
  comparison: z.infer<typeof NamespaceComparison>,
): boolean {
  if (actual === expected) return true
  switch (comparison) {
    case 'EQUALS':
      return false
    case 'PREFIX':
      return actual.startsWith(expected.endsWith('.') ? expected : `${expected}.`)
    case 'SUFFIX':
      return actual.endsWith(expected.startsWith('.') ? expected : `.${expected}`)
  }
}
