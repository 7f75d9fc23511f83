import { isKiteClientError } from '@kite/client'
import { Command, CommanderError } from 'commander'
import pkg from '../package.json' with { type: 'json' }

/** A sub-command group adds itself to the program; each lives in `src/commands/<name>.ts`. */
export type RegisterCommand = (program: Command) => void

/** Builds the `kite` program with every sub-command registered. */
export function createProgram(commands: readonly RegisterCommand[]): Command {
  const program = new Command('kite')
    .description('Kite: typed plugins for workflow orchestration')
    .version(pkg.version)
    .showHelpAfterError()
    .exitOverride()
  for (const register of commands) register(program)
  return program
}

/** Error a command throws to stop with a message and an exit code, without a stack trace. */
export class CliError extends Error {
  readonly exitCode: number
  constructor(message: string, exitCode = 1) {
    super(message)
    this.name = 'CliError'
    this.exitCode = exitCode
  }
}

/**
 * The exit code of a command line that is wrong (an unknown command or option, a malformed value,
 * a file that cannot be read, an invalid flow); 1 is an operation that failed (the runtime refused
 * or could not be reached, an execution that did not succeed).
 */
export const USAGE_EXIT = 2

/** A `CliError` for a command line that is wrong: exit code 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, USAGE_EXIT)
    this.name = 'UsageError'
  }
}

/** Runs the program and turns errors into a message on stderr and an exit code. */
export async function runProgram(program: Command, argv: readonly string[]): Promise<number> {
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return 0
  } catch (error) {
    // Commander has printed the problem (and the help): help and --version exit 0, the rest is
    // a command line that is wrong.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : USAGE_EXIT
    // No runtime there, or a server that answers without the runtime's errors (`HTTP_404`).
    if (
      isKiteClientError(error) &&
      (error.code === 'UNREACHABLE' || (error.code.startsWith('HTTP_') && error.kind === 'user'))
    ) {
      process.stderr.write(
        `kite: ${error.message}; start one with \`kite server local\`, or pass --server (or set KITE_SERVER or KITE_PORT)\n`,
      )
      return 1
    }
    if (error instanceof CliError) {
      process.stderr.write(`kite: ${error.message}\n`)
      return error.exitCode
    }
    const message = error instanceof Error ? error.message : String(error)
    process.stderr.write(`kite: ${message}\n`)
    return 1
  }
}
