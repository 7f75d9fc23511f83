import { definePlugin } from '@kite/sdk'
import { nodeScript } from './node-script.js'
import { pythonScript } from './python-script.js'
import { shellCommands, shellScript } from './shell.js'

export default definePlugin({
  group: 'kite.scripts',
  title: 'Scripts',
  description:
    'Run Node.js, Python and shell scripts in separate processes: inputs in, outputs and files out, every line of output in the logs, killed when the task times out.',
  tasks: [nodeScript, pythonScript, shellCommands, shellScript],
  triggers: [],
  conditions: [],
  // Its tasks are child processes; the runtime starts them only when plugins.permissions grants it.
  permissions: { childProcess: true },
})
