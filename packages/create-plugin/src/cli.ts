import { runCreateCommand } from './create-command.js'
import { isScaffoldError } from './errors.js'

runCreateCommand(process.argv.slice(2), {
  cwd: process.cwd(),
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
}).then(
  () => process.exit(0),
  (error: unknown) => {
    if (isScaffoldError(error) && error.kind !== 'internal') {
      console.error(`create-kite-plugin: ${error.message}`)
    } else {
      console.error(`create-kite-plugin: ${(error as Error)?.stack ?? String(error)}`)
    }
    process.exit(1)
  },
)
