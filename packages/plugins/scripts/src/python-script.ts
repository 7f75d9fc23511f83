import { defineTask, z } from '@kite/sdk'
import { OUTPUT_PREFIX } from './child-process.js'
import {
  type InlineScript,
  inlineScriptProperties,
  runInlineScript,
  workspaceOutputs,
} from './workspace.js'

/** Runs the script with a `kite` global, as `__main__`. */
const PYTHON_RUNNER = `import json, runpy, sys

class Kite:
    def __init__(self, inputs):
        self.inputs = inputs

    def set_outputs(self, values):
        if not isinstance(values, dict):
            raise TypeError('kite.set_outputs() takes a dict, e.g. kite.set_outputs({"total": 3})')
        sys.stdout.write('\\n${OUTPUT_PREFIX}' + json.dumps({'outputs': values}) + '\\n')
        sys.stdout.flush()

    setOutputs = set_outputs

with open(sys.argv[1], encoding='utf-8') as source:
    inputs = json.load(source)
script = sys.argv[2]
sys.argv = [script]
sys.path.insert(0, '')
runpy.run_path(script, init_globals={'kite': Kite(inputs)}, run_name='__main__')
`

export const pythonScript = defineTask({
  name: 'python.Script',
  title: 'Python script',
  description: [
    "Runs an inline Python script with the worker's `python3` (from PATH) in the task's working directory.",
    'The script reads the task\'s `inputs` as `kite.inputs` (a dict) and sets outputs with `kite.set_outputs({"key": value})`, or by printing a line `::kite::{"outputs":{...}}`.',
    'stdout lines are logged as INFO, stderr lines as WARN (output is unbuffered). A non-zero exit code fails the task with the code and the last lines of stderr; a worker without python3 fails the task saying so.',
  ].join(' '),
  properties: z.object(inlineScriptProperties('The Python code')),
  outputs: z.object(workspaceOutputs),
  examples: [
    {
      title: 'Count words',
      code: [
        'inputs:',
        '  text: "{{ outputs.fetch.body }}"',
        'script: |',
        '  words = len(kite.inputs["text"].split())',
        '  print(f"{words} words")',
        '  kite.set_outputs({"words": words})',
      ].join('\n'),
    },
  ],
  run: (props, ctx) => runInlineScript(props, PYTHON_SCRIPT, ctx),
})

const PYTHON_SCRIPT: InlineScript = {
  label: 'python script',
  helper: ['runner.py', PYTHON_RUNNER],
  scriptFile: 'script.py',
  command: ({ helper, inputs, script }) => ({
    command: 'python3',
    args: ['-u', helper, inputs, script],
    notFound:
      'python3 was not found on this worker (looked in PATH): install Python 3 there, or run the script on a worker that has it',
  }),
}
