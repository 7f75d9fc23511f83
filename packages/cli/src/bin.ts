import { commands } from './commands/index.js'
import { createProgram, runProgram } from './program.js'

const code = await runProgram(createProgram(commands), process.argv.slice(2))
// Long-running commands (servers) keep the process alive themselves and never reach here early.
// A command may have set its own exit code (`kite flow run` of a failed execution): keep it.
if (code !== 0) process.exitCode = code
