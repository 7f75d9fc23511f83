import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RuntimeError, type ValidationIssue } from '../errors.js'
import { createRegistryAdvice } from './registry-advice.js'

// A loopback "registry" whose catalog answers whatever the test sets: the advice must treat
// garbage as "the registry knows nothing", install nothing and leave the messages readable.
let answer: { status: number; body: string } = { status: 200, body: '{}' }
let server: Server
let url: string
const installs: string[] = []
beforeAll(async () => {
  server = createServer((_request, response) => {
    response.writeHead(answer.status, { 'content-type': 'application/json' })
    response.end(answer.body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

const advice = () =>
  createRegistryAdvice({
    store: {
      registry: url,
      isAllowed: () => true,
      install: async (name, spec) => {
        installs.push(`${name}@${spec}`)
        return {} as never
      },
    },
    catalog: { get: () => undefined },
  })!
const pinned = (): ValidationIssue => ({
  path: 'tasks[0]',
  code: 'PLUGIN_VERSION',
  type: 'acme.greeting.Hello',
  versionSpec: '2.0.0',
  message: 'task "hi": version "2.0.0" matches none of the installed versions 1.0.0',
})
const unknown = (): ValidationIssue => ({
  path: 'tasks[0].name',
  type: 'acme.greeting.Hello',
  version: '2.0.0',
  message: 'task "hi": invalid property: name: unknown property; known in 2.0.0: who',
})

describe('registry advice', () => {
  it('is absent without a registry', () => {
    const none = createRegistryAdvice({
      store: { registry: undefined, isAllowed: () => true, install: async () => ({}) as never },
      catalog: { get: () => undefined },
    })
    expect(none).toBeUndefined()
  })

  it('installs the version a pin selects among those the catalog lists', async () => {
    answer = {
      status: 200,
      body: JSON.stringify({
        name: '@acme/g',
        versions: [{ version: '1.0.0' }, { version: '2.0.0' }],
      }),
    }
    installs.length = 0
    expect(await advice().installPinned([pinned()])).toEqual(['@acme/g@2.0.0'])
    expect(installs).toEqual(['@acme/g@2.0.0'])
  })

  it('treats any garbage answer as knowing nothing: no install, messages kept', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.json(),
          fc.string(),
          fc.constant('{"name":"@acme/g","versions":[{"version":"two"}]}'),
          fc.constant('{"name":1,"versions":"1.0.0"}'),
          fc.constant('{"changes":[{"type":null}]}'),
        ),
        fc.constantFrom(200, 404, 500),
        async (body, status) => {
          answer = { status, body }
          installs.length = 0
          const issues = [pinned(), unknown()]
          expect(await advice().installPinned(issues)).toEqual([])
          expect(installs).toEqual([])
          const error = new RuntimeError(`flow is invalid: ${issues[0]!.message}`, {
            code: 'FLOW_INVALID',
            issues,
          })
          await advice().explain(error)
          // Unknown property: untouched unless the registry's diff says otherwise.
          expect(issues[1]!.message).toBe(unknown().message)
          expect(issues[0]!.message.startsWith(pinned().message)).toBe(true)
          expect(error.message).toContain(issues[0]!.message)
        },
      ),
      { numRuns: 40 },
    )
  })
})
