import { commands } from './commands/index.js'
import { createProgram, runProgram } from './program.js'

// A reader that stops early (`kite executions show ID | head -3`) closes the pipe: end quietly, as
// other command-line tools do, instead of a stack trace for the next write.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0)
  throw error
})

const code = await runProgram(createProgram(commands), process.argv.slice(2))
// Long-running commands (servers) keep the process alive themselves and never reach here early.
// A command may have set its own exit code (`kite flow run` of a failed execution): keep it.
if (code !== 0) process.exitCode = code
