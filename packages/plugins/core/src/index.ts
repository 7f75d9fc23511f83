import { definePlugin } from '@kite/sdk'
import { debugReturn } from './debug-return.js'
import { fail, labels } from './execution.js'
import { log } from './log.js'
import { coreConditions } from './logic-conditions.js'
import { outputValues } from './output-values.js'
import { sleep } from './sleep.js'

export default definePlugin({
  group: 'kite.core',
  title: 'Core',
  description:
    'The basics every flow uses: log lines, return and output values, fail on purpose, label the execution, sleep; and the conditions that decide whether a trigger fires (execution status, flow, namespace, day of week, time of day, expressions, and Not/Or to combine them).',
  tasks: [log, debugReturn, outputValues, fail, labels, sleep],
  triggers: [],
  conditions: coreConditions(),
})
