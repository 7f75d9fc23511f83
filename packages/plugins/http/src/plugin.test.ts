import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { PluginDefinition } from '@kite/sdk'
import { isDefinition, parseManifest } from '@kite/sdk/host'
import { runTask } from '@kite/sdk/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import plugin from './index.js'

describe('the plugin', () => {
  it('provides Request, Download and Trigger under kite.http', () => {
    expect(plugin.group).toBe('kite.http')
    for (const type of ['kite.http.Request', 'kite.http.Download', 'kite.http.Trigger']) {
      expect(plugin.find(type)?.name).toBe(type.slice('kite.http.'.length))
    }
  })
})

describe('the built package', () => {
  const dist = new URL('../dist/', import.meta.url)
  let server: Server
  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{"bundled":true}')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  })
  afterAll(() => new Promise((resolve) => server.close(resolve)))

  it('has a valid manifest with the exclusive body/uri outputs', async () => {
    const manifest = parseManifest(
      JSON.parse(await readFile(new URL('kite-plugin.json', dist), 'utf8')),
    )
    expect(manifest).toMatchObject({ name: '@kite/plugin-http', group: 'kite.http' })
    const requestType = manifest.tasks.find((task) => task.type === 'kite.http.Request')
    expect(requestType?.outputs.$exclusive).toEqual([['body', 'uri']])
  })

  it('runs a request from the bundle', async () => {
    const built = (await import(new URL('index.js', dist).href)) as { default: PluginDefinition }
    const task = built.default.find('kite.http.Request')
    if (!isDefinition(task, 'task')) throw new Error('Request is missing from the bundle')
    const port = (server.address() as AddressInfo).port
    const { outputs } = await runTask(task, { uri: `http://127.0.0.1:${port}/` })
    expect(outputs).toMatchObject({ code: 200, body: { bundled: true } })
  })
})
