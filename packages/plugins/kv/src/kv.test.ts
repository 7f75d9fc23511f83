import { runBundle, runTask } from '@kite/sdk/testing'
import { describe, expect, it } from 'vitest'
import plugin from './index.js'
import { deleteKey, get, keys, set } from './kv.js'

describe('Set', () => {
  it('stores any JSON value, keeping native types from expressions', async () => {
    const { context } = await runTask(
      set,
      { key: 'order-{{ inputs.id }}', value: { id: '{{ inputs.id }}', items: ['a', 'b'] } },
      { inputs: { id: 42 } },
    )
    expect(context.kv.get('order-42')).toEqual({ id: 42, items: ['a', 'b'] })
  })

  it('overwrites by default and refuses to when overwrite is false', async () => {
    const replaced = await runTask(set, { key: 'k', value: 2 }, { kv: { k: 1 } })
    expect(replaced.context.kv.get('k')).toBe(2)
    await expect(
      runTask(
        set,
        { key: 'k', value: 2, overwrite: false },
        { kv: { k: 1 }, namespace: 'company.team' },
      ),
    ).rejects.toMatchObject({
      code: 'KV_EXISTS',
      message:
        'key "k" already exists in namespace company.team; set overwrite: true to replace it',
    })
    const fresh = await runTask(set, { key: 'k', value: false, overwrite: false })
    expect(fresh.context.kv.get('k')).toBe(false)
  })

  it('expires a key after its ttl', async () => {
    const { context } = await runTask(set, { key: 'short', value: 'x', ttl: 'PT0.2S' })
    expect(await context.ctx.kv.get('short')).toBe('x')
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(await context.ctx.kv.get('short')).toBeUndefined()
    expect(await context.ctx.kv.keys()).toEqual([])
  })

  it('needs a value and a valid ttl', async () => {
    await expect(runTask(set, { key: 'k' })).rejects.toThrow(/value: required: give any JSON value/)
    await expect(runTask(set, { key: 'k', value: 1, ttl: '1 hour' })).rejects.toThrow(
      /ttl: must be an ISO-8601 duration/,
    )
  })
})

describe('Get', () => {
  it('reads a value', async () => {
    const { outputs } = await runTask(get, { key: 'cursor' }, { kv: { cursor: { id: 7 } } })
    expect(outputs).toEqual({ value: { id: 7 }, exists: true })
  })

  it('gives null for a missing key, or fails with errorOnMissing', async () => {
    const { outputs } = await runTask(get, { key: 'nope' })
    expect(outputs).toEqual({ value: null, exists: false })
    await expect(runTask(get, { key: 'nope', errorOnMissing: true })).rejects.toMatchObject({
      code: 'KV_MISSING',
      message: 'key "nope" does not exist in namespace test',
    })
  })
})

describe('Delete', () => {
  it('deletes a key and says whether it existed', async () => {
    const first = await runTask(deleteKey, { key: 'k' }, { kv: { k: 1, other: 2 } })
    expect(first.outputs.deleted).toBe(true)
    expect([...first.context.kv.keys()]).toEqual(['other'])
    expect((await runTask(deleteKey, { key: 'k' })).outputs.deleted).toBe(false)
    await expect(runTask(deleteKey, { key: 'k', errorOnMissing: true })).rejects.toMatchObject({
      code: 'KV_MISSING',
    })
  })
})

describe('Keys', () => {
  it('lists keys by prefix, sorted', async () => {
    const kv = { 'lock-b': 1, 'lock-a': 2, other: 3 }
    expect((await runTask(keys, { prefix: 'lock-' }, { kv })).outputs).toEqual({
      keys: ['lock-a', 'lock-b'],
      count: 2,
    })
    expect((await runTask(keys, {}, { kv })).outputs.keys).toEqual(['lock-a', 'lock-b', 'other'])
  })
})

describe('the plugin', () => {
  it('provides Set, Get, Delete and Keys under kite.kv', () => {
    expect(plugin.group).toBe('kite.kv')
    expect(plugin.tasks.map((task) => task.name)).toEqual(['Set', 'Get', 'Delete', 'Keys'])
  })

  it('builds to a bundle with a valid manifest that runs in plain node', async () => {
    const { manifest, value } = await runBundle(
      new URL('..', import.meta.url),
      'kite.kv.Get',
      { key: 'a' },
      { kv: { a: [1, 2] } },
    )
    expect(manifest).toMatchObject({ name: '@kite/plugin-kv', group: 'kite.kv' })
    expect(value).toEqual({ value: [1, 2], exists: true })
  })
})
