import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { runBundle } from '@kite/sdk/testing'
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

describe('the built package, in a plain node process', () => {
  const packageDir = new URL('..', import.meta.url)
  let server: Server
  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{"bundled":true}')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  })
  afterAll(() => new Promise((resolve) => server.close(resolve)))

  it('runs a request from the bundle', async () => {
    const port = (server.address() as AddressInfo).port
    const { manifest, value } = await runBundle(packageDir, 'kite.http.Request', {
      uri: `http://127.0.0.1:${port}/`,
    })
    expect(manifest).toMatchObject({ name: '@kite/plugin-http', group: 'kite.http' })
    const requestType = manifest.tasks.find((task) => task.type === 'kite.http.Request')
    expect(requestType?.outputs.$exclusive).toEqual([['body', 'uri']])
    expect(value).toMatchObject({ code: 200, body: { bundled: true } })
  })
})
