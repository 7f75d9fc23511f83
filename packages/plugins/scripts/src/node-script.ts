import { pathToFileURL } from 'node:url'
import { defineTask, z } from '@kite/sdk'
import { OUTPUT_PREFIX } from './child-process.js'
import {
  type InlineScript,
  inlineScriptProperties,
  runInlineScript,
  workspaceOutputs,
} from './workspace.js'

/** Preloaded with `--import`: gives the script the `kite` global and a `require`. */
const NODE_HELPER = `import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
const inputs = JSON.parse(readFileSync(new URL('./inputs.json', import.meta.url), 'utf8'))
globalThis.kite = Object.freeze({
  inputs,
  setOutputs(values) {
    if (typeof values !== 'object' || values === null || Array.isArray(values)) {
      throw new TypeError('kite.setOutputs() takes an object, e.g. kite.setOutputs({ total: 3 })')
    }
    process.stdout.write('\\n${OUTPUT_PREFIX}' + JSON.stringify({ outputs: values }) + '\\n')
  },
})
globalThis.require = createRequire(join(process.cwd(), 'script.js'))
`

export const nodeScript = defineTask({
  name: 'node.Script',
  title: 'Node.js script',
  description: [
    "Runs inline JavaScript in a separate `node` process (the worker's own Node.js) in the task's working directory.",
    'The script is an ES module: `import` and top-level `await` work, and `require` is defined too.',
    'It reads the task\'s `inputs` as `kite.inputs` and sets outputs with `kite.setOutputs({ key: value })`, or by printing a line `::kite::{"outputs":{...}}` to stdout.',
    'stdout lines are logged as INFO, stderr lines as WARN. A non-zero exit code fails the task with the code and the last lines of stderr.',
  ].join(' '),
  properties: z.object(inlineScriptProperties('The JavaScript')),
  outputs: z.object(workspaceOutputs),
  examples: [
    {
      title: 'Sum numbers',
      code: [
        'inputs:',
        '  numbers: "{{ outputs.fetch.body.values }}"',
        'script: |',
        '  const total = kite.inputs.numbers.reduce((sum, n) => sum + n, 0)',
        "  console.log('total:', total)",
        '  kite.setOutputs({ total })',
      ].join('\n'),
    },
    {
      title: 'Write a file and keep it',
      code: [
        'script: |',
        "  import { writeFile } from 'node:fs/promises'",
        "  await writeFile('report.json', JSON.stringify({ ok: true }))",
        'outputFiles: [report.json]',
      ].join('\n'),
    },
  ],
  run: (props, ctx) => runInlineScript(props, NODE_SCRIPT, ctx),
})

const NODE_SCRIPT: InlineScript = {
  label: 'node script',
  helper: ['helper.mjs', NODE_HELPER],
  scriptFile: 'script.mjs',
  command: ({ helper, script }) => ({
    command: process.execPath,
    args: ['--import', pathToFileURL(helper).href, script],
  }),
}
