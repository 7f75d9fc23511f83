import type { Cluster } from '@kite/client'
import { describe, expect, it } from 'vitest'
import { describeCluster } from './cluster.js'

const NOW = Date.parse('2026-12-03T04:00:00.000Z')
const node = (more: Partial<Cluster['nodes'][number]> = {}): Cluster['nodes'][number] => ({
  id: 'node-a',
  roles: ['api', 'executor', 'worker', 'scheduler'],
  host: 'vm',
  pid: 42,
  slots: 32,
  slotsInUse: 1,
  startedAt: '2026-12-03T03:00:00.000Z',
  heartbeatAt: '2026-12-03T03:59:58.000Z',
  plugins: ['@kite/plugin-core@1.0.0'],
  executions: 0,
  activeScheduler: true,
  self: true,
  ...more,
})

describe('describeCluster', () => {
  it('names a single-process runtime its own scheduler, not "no lease … or none active"', () => {
    const text = describeCluster({ nodes: [node()], scheduler: null, plugins: [] }, NOW)
    expect(text).toContain(
      'node-a  api,executor,worker,scheduler  vm pid 42  (this node, active scheduler)',
    )
    expect(text).toContain('scheduler: node-a (single process: no lease needed)')
    expect(text).not.toContain('none active')
  })

  it('says the lease of a cluster scheduler, and when there is none', () => {
    const leased = describeCluster(
      {
        nodes: [node({ activeScheduler: false })],
        scheduler: { nodeId: 'node-b', expiresAt: '2026-12-03T04:00:30.000Z' },
        plugins: [],
      },
      NOW,
    )
    expect(leased).toContain('scheduler: node-b (lease until 2026-12-03T04:00:30.000Z)')
    const none = describeCluster(
      { nodes: [node({ activeScheduler: false })], scheduler: null, plugins: [] },
      NOW,
    )
    expect(none).toContain('scheduler: none active')
  })
})
