import type { RegisterCommand } from '../program.js'
import { registerClusterCommand } from './cluster.js'
import { registerExecutionsCommand } from './executions.js'
import { registerFlowCommand } from './flow.js'
import { registerPluginsCommand } from './plugins.js'
import { registerRegistryCommand } from './registry.js'
import { registerServerCommand } from './server.js'
import { registerTriggersCommand } from './triggers.js'
import { registerUsersCommand } from './users.js'

/** Every sub-command group of `kite`, in help order. */
export const commands: readonly RegisterCommand[] = [
  registerRegistryCommand,
  registerServerCommand,
  registerFlowCommand,
  registerExecutionsCommand,
  registerPluginsCommand,
  registerTriggersCommand,
  registerClusterCommand,
  registerUsersCommand,
]
