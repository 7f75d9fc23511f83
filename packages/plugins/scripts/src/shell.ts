import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { defineTask, z } from '@kite/sdk'
import { runInWorkspace, workspaceOutputs, workspaceProperties } from './workspace.js'

const SHELL_OUTPUTS_NOTE =
  'Set outputs by printing a line `::kite::{"outputs":{...}}`. stdout lines are logged as INFO, stderr lines as WARN; a non-zero exit code fails the task with the code and the last lines of stderr.'

/** Runs shell text with `/bin/sh -e` in the working directory. */
function runShell(
  text: string,
  label: string,
  props: z.output<z.ZodObject<typeof workspaceProperties>>,
  ctx: Parameters<typeof runInWorkspace>[2],
) {
  return runInWorkspace(
    props,
    {
      label,
      async prepare(kiteDir) {
        const file = join(kiteDir, 'script.sh')
        await writeFile(file, text.endsWith('\n') ? text : `${text}\n`)
        return { command: '/bin/sh', args: ['-e', file] }
      },
    },
    ctx,
  )
}

export const shellCommands = defineTask({
  name: 'shell.Commands',
  title: 'Shell commands',
  description: `Runs a list of commands, in order, with \`/bin/sh -e\` in the task's working directory: the first command that fails stops the run. ${SHELL_OUTPUTS_NOTE}`,
  properties: z.object({
    commands: z
      .array(z.string())
      .min(1)
      .describe('The commands, one shell line each; `{{ }}` expressions are rendered first.'),
    ...workspaceProperties,
  }),
  outputs: z.object(workspaceOutputs),
  examples: [
    {
      title: 'Build a report',
      code: [
        'commands:',
        '  - mkdir -p out',
        '  - echo "name,total" > out/report.csv',
        '  - echo "{{ inputs.name }},42" >> out/report.csv',
        '  - echo \'::kite::{"outputs":{"lines":2}}\'',
        'outputFiles: ["out/*.csv"]',
      ].join('\n'),
    },
    {
      title: 'Use a stored file',
      code: [
        'inputFiles:',
        '  data.csv: "{{ outputs.download.uri }}"',
        'env:',
        '  LC_ALL: C',
        'commands:',
        '  - sort data.csv > sorted.csv',
        'outputFiles: [sorted.csv]',
      ].join('\n'),
    },
  ],
  run: (props, ctx) => runShell(props.commands.join('\n'), 'shell commands', props, ctx),
})

export const shellScript = defineTask({
  name: 'shell.Script',
  title: 'Shell script',
  description: `Runs a shell script with \`/bin/sh -e\` in the task's working directory. ${SHELL_OUTPUTS_NOTE}`,
  properties: z.object({
    script: z.string().min(1).describe('The script text; `{{ }}` expressions are rendered first.'),
    ...workspaceProperties,
  }),
  outputs: z.object(workspaceOutputs),
  examples: [
    {
      title: 'Loop over files',
      code: [
        'inputFiles:',
        '  a.txt: hello',
        '  b.txt: world',
        'script: |',
        '  for f in *.txt; do',
        '    echo "$f: $(wc -c < "$f") bytes"',
        '  done',
      ].join('\n'),
    },
  ],
  run: (props, ctx) => runShell(props.script, 'shell script', props, ctx),
})
