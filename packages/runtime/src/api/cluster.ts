import { parseDuration } from '@kite/sdk'
import type { NodeRole } from '../executor/engine.js'
import { nodeAlive } from '../executor/task-dispatch.js'
import { SCHEDULER_LEASE } from '../scheduler/scheduler-lease.js'
import { jsonAnswer, type RouteContext, resource } from './router.js'
import { Cluster } from './schemas.js'

const { route, router } = resource('Cluster')

const get = route('get', '/cluster', {
  summary: 'The nodes of this cluster',
  description:
    'The live nodes sharing this store (SPEC 9): their roles, last heartbeat, slots in use and plugin versions loaded; the active scheduler; the recorded plugin set.',
  responses: { 200: jsonAnswer(Cluster, 'The cluster as the store records it.') },
})

/** `GET /cluster`: what the store says about the nodes that share it. */
export function createClusterRoutes(context: RouteContext) {
  return router().openapi(get, async (c) => {
    const { store, config, nodeId } = context.runtime
    const timeoutMs = parseDuration(config.worker.heartbeatTimeout)
    const [nodes, lease, plugins] = await Promise.all([
      store.listNodes(),
      store.getLease(SCHEDULER_LEASE),
      store.listClusterPlugins(),
    ])
    const activeLease = lease && lease.expiresAt > Date.now() ? lease : undefined
    const live = nodes.filter((node) => node.id === nodeId || nodeAlive(node, timeoutMs))
    const held = await Promise.all(live.map((node) => store.countExecutionsOf(node.id)))
    return c.json(
      {
        nodes: live.map((node, index) => ({
          id: node.id,
          roles: node.roles as NodeRole[],
          host: node.host,
          pid: node.pid,
          slots: node.slots,
          slotsInUse: node.slotsInUse,
          startedAt: node.startedAt,
          heartbeatAt: node.heartbeatAt,
          plugins: node.plugins ?? [],
          executions: held[index] ?? 0,
          activeScheduler: activeLease
            ? activeLease.holder === node.id
            : node.id === nodeId && context.runtime.schedulerActive(),
          self: node.id === nodeId,
        })),
        scheduler: activeLease
          ? { nodeId: activeLease.holder, expiresAt: new Date(activeLease.expiresAt).toISOString() }
          : null,
        plugins,
      },
      200,
    )
  })
}
