#!/usr/bin/env node
// Save-time validation benchmark (`npm run bench flow-validate`, after a build). Prints the time
// to parse and validate one flow of N plugin tasks, each reading the previous task's output,
// an input and a variable in one expression — the typed-expression check included — and, for
// comparison, the same flow without expressions.
import { createFlowValidator, definePluginVersion } from '@kite/runtime'
import { definePlugin, defineTask, z } from '@kite/sdk'

const noop = defineTask({
  name: 'Noop',
  properties: z.object({ value: z.string().default('') }),
  outputs: z.object({ value: z.string() }),
  run: (props) => ({ value: props.value }),
})
const validator = await createFlowValidator({
  plugins: [
    definePluginVersion({
      name: '@bench/kite-plugin-noop',
      version: '1.0.0',
      plugin: definePlugin({ group: 'bench.noop', title: 'Noop', tasks: [noop] }),
    }),
  ],
})

const flowOf = (count, expressions) => {
  const tasks = Array.from({ length: count }, (_, index) => {
    const value =
      expressions && index > 0
        ? `"{{ outputs.t${index - 1}.value }} {{ inputs.name | upper }} {{ vars.greeting }}"`
        : 'plain'
    return `  - id: t${index}\n    type: bench.noop.Noop\n    value: ${value}\n`
  })
  return `id: bench\nnamespace: bench\ninputs:\n  - id: name\n    type: STRING\nvariables:\n  greeting: Hi\ntasks:\n${tasks.join('')}`
}

const measure = (source, runs) => {
  for (let i = 0; i < 20; i++) validator.validate(source)
  const times = []
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint()
    validator.validate(source)
    times.push(Number(process.hrtime.bigint() - start) / 1e6)
  }
  times.sort((a, b) => a - b)
  return { median: times[Math.floor(runs / 2)], p95: times[Math.floor(runs * 0.95)] }
}

for (const count of [10, 100]) {
  const typed = measure(flowOf(count, true), 200)
  const plain = measure(flowOf(count, false), 200)
  console.log(
    `validate a flow of ${count} tasks: with expressions median ${typed.median.toFixed(2)} ms, p95 ${typed.p95.toFixed(2)} ms; ` +
      `without median ${plain.median.toFixed(2)} ms, p95 ${plain.p95.toFixed(2)} ms`,
  )
}
