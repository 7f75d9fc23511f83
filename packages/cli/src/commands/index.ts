import type { RegisterCommand } from '../program.js'
import { registerRegistryCommand } from './registry.js'

/** Every sub-command group of `kite`, in help order. */
export const commands: readonly RegisterCommand[] = [registerRegistryCommand]
