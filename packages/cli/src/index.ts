export { CliError, type RegisterCommand, createProgram, runProgram } from './program.js'
export { commands } from './commands/index.js'
