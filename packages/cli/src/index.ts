export { commands } from './commands/index.js'
export { CliError, createProgram, type RegisterCommand, runProgram } from './program.js'
