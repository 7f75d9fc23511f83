import { once } from 'node:events'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { RuntimeLogger } from '../executor/engine.js'
import { createPluginCatalog } from './plugin-catalog.js'
import { createPluginStore } from './plugin-store.js'
import { createPluginSync, type PluginSync } from './plugin-sync.js'

const API = '/-/kite/api/v1'

let dir: string
let server: Server
let registry: string
let sync: PluginSync | undefined
let streams: ServerResponse[]
let lastEventIds: Array<string | undefined>
let warnings: string[]
/** What the next connection to the event stream receives (raw bytes, as a registry sends them). */
let eventBody: string[]

const logger: RuntimeLogger = {
  info: () => undefined,
  debug: () => undefined,
  warn: (message: string) => warnings.push(message),
  error: (message: string) => warnings.push(message),
} as unknown as RuntimeLogger

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kite-plugin-sync-'))
  await mkdir(join(dir, 'plugins'))
  streams = []
  lastEventIds = []
  warnings = []
  eventBody = []
  server = createServer((req, res) => {
    if (req.url === `${API}/events`) {
      lastEventIds.push(req.headers['last-event-id'] as string | undefined)
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      streams.push(res)
      // Each piece is written on its own, so frames and lines cross chunk boundaries.
      for (const piece of eventBody) res.write(piece)
      return
    }
    if (req.url?.startsWith(`${API}/plugins?`)) {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ results: [], total: 0, size: 100 }))
      return
    }
    res.writeHead(404).end()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterEach(async () => {
  await sync?.close()
  sync = undefined
  for (const stream of streams) stream.destroy()
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  await rm(dir, { recursive: true, force: true })
})

function startSync(): PluginSync {
  const catalog = createPluginCatalog()
  const store = createPluginStore({
    dir: join(dir, 'plugins'),
    registry,
    catalog,
    security: { includes: [], excludes: [] },
    logger,
  })
  sync = createPluginSync({ store, catalog, mode: 'manual', logger, reconcileMs: 60_000 })
  return sync
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let waited = 0; !(await check()); waited += 10) {
    if (waited > 10_000) throw new Error(`timed out waiting for ${what} (${warnings.join('; ')})`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe('plugin sync event stream', () => {
  it('reads CRLF-framed events and multi-line data, split across chunks', async () => {
    const first = JSON.stringify({ name: '@acme/a', version: '1.2.0', manifestHash: 'sha256-x' })
    eventBody = [
      'retry: 3000\r\n: connected\r\n\r\n',
      `id: 7\r\nevent: published\r\ndata: ${first.slice(0, 10)}`,
      `${first.slice(10)}\r\n\r\n`,
      // Multi-line data: the lines join with "\n", which JSON reads as whitespace.
      'id: 8\nevent: published\ndata: {"name": "@acme/b",\ndata:  "version": "2.0.0"}\n\n',
      // A bare CR ends lines too.
      // (A trailing CR may be the start of a CRLF: the heartbeat after it settles that.)
      'id: 9\revent: published\rdata: {"name":"@acme/c","version":"3.1.0"}\r\r',
      ': heartbeat\n\n',
    ]
    const live = startSync()
    await until(() => live.latest('@acme/c') !== undefined, 'the third event')
    expect(live.latest('@acme/a')).toBe('1.2.0')
    expect(live.latest('@acme/b')).toBe('2.0.0')
    expect(live.latest('@acme/c')).toBe('3.1.0')
    const saved = () =>
      readFile(join(dir, 'plugins', 'sync.json'), 'utf8').then(JSON.parse, () => ({}))
    await until(async () => (await saved()).lastEventId === '9', 'the last id saved')
    expect(await saved()).toEqual({ lastEventId: '9' })
    expect(warnings).toEqual([])
  })

  it('skips an event whose data is not JSON, keeps its id, and reconnects with Last-Event-ID', async () => {
    eventBody = [
      'id: 4\nevent: published\ndata: {not json\n\n',
      'id: 5\nevent: published\ndata: {"name":"@acme/d","version":"1.0.0"}\n\n',
    ]
    const live = startSync()
    await until(() => live.latest('@acme/d') !== undefined, 'the good event')
    expect(warnings.some((line) => line.includes('not JSON: {not json'))).toBe(true)
    eventBody = ['id: 6\nevent: published\ndata: {"name":"@acme/e","version":"1.0.0"}\n\n']
    await until(() => streams.length === 1, 'the first connection')
    streams[0]?.end()
    await until(() => live.latest('@acme/e') !== undefined, 'the event after reconnecting')
    expect(lastEventIds).toEqual([undefined, '5'])
  })
})
