import type { RegisterCommand } from '../program.js'

/** Every sub-command group of `kite`, in help order. */
export const commands: readonly RegisterCommand[] = []
