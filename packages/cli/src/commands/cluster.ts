// The command talks to a runtime over HTTP through @kite/client, it never loads one.
import type { Cluster } from '@kite/client'
import type { Command } from 'commander'
import { runtimeClient, withServerOption } from './options.js'

interface ClusterOptions {
  server?: string
  json: boolean
}

/** `kite cluster`: the live nodes sharing a runtime's store (SPEC 9). */
export function registerClusterCommand(program: Command): void {
  withServerOption(
    program
      .command('cluster')
      .description(
        'list the live nodes sharing the runtime’s store: roles, last heartbeat, slots in use, plugin versions loaded, the active scheduler',
      ),
  )
    .option('--json', 'print the API answer as JSON', false)
    .action(async (options: ClusterOptions) => {
      const cluster = await runtimeClient(options).cluster()
      process.stdout.write(
        options.json ? `${JSON.stringify(cluster, null, 2)}\n` : describeCluster(cluster),
      )
    })
}

/** One block per node, then the scheduler and the plugin set. */
export function describeCluster(cluster: Cluster, now = Date.now()): string {
  const lines: string[] = []
  for (const node of cluster.nodes) {
    const ago = Math.max(0, Math.round((now - Date.parse(node.heartbeatAt)) / 100) / 10)
    const marks = [node.self ? 'this node' : '', node.activeScheduler ? 'active scheduler' : '']
      .filter(Boolean)
      .join(', ')
    lines.push(
      `${node.id}  ${node.roles.join(',')}  ${node.host} pid ${node.pid}${marks ? `  (${marks})` : ''}`,
      `  heartbeat ${ago}s ago · slots ${node.slotsInUse}/${node.slots} · executions held ${node.executions}`,
      `  plugins: ${node.plugins.join(', ') || 'none'}`,
    )
  }
  if (cluster.nodes.length === 0) lines.push('no live nodes')
  // No lease: a single-process runtime's node schedules on its own; otherwise nobody does yet.
  const alone = cluster.nodes.find((node) => node.activeScheduler)
  lines.push(
    `scheduler: ${
      cluster.scheduler
        ? `${cluster.scheduler.nodeId} (lease until ${cluster.scheduler.expiresAt})`
        : alone
          ? `${alone.id} (single process: no lease needed)`
          : 'none active'
    }`,
  )
  const installed = cluster.plugins.filter((plugin) => plugin.installed)
  lines.push(
    `cluster plugin set: ${installed.map((plugin) => `${plugin.name}@${plugin.version}`).join(', ') || 'none recorded'}`,
  )
  return `${lines.join('\n')}\n`
}
