import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import {
  type GreetingServer,
  greetFlow as greet,
  REPO_ROOT as root,
  startGreetingServer,
} from '../../test/greeting-server.js'
import type { KiteServer } from '../index.js'

let started: GreetingServer
let server: KiteServer
beforeAll(async () => {
  started = await startGreetingServer()
  server = started.server
})
afterAll(() => started?.close())

describe('GET /api/v1/plugins/schemas/flow', () => {
  it('answers a draft 2020-12 schema that validates real flows per version', async () => {
    const response = await fetch(`${server.url}/api/v1/plugins/schemas/flow`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toContain('application/json')
    const schema = (await response.json()) as { $schema?: string }
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema')
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema)
    const valid = (yaml: string) => validate(parse(yaml))

    expect(valid(await readFile(join(root, 'examples/flows/hello.yml'), 'utf8'))).toBe(true)
    expect(valid(await readFile(join(root, 'examples/flows/pin-exact.yml'), 'utf8'))).toBe(true)
    expect(valid(greet('    version: "1.0.0"\n    name: Ada'))).toBe(true)
    expect(valid(greet('    version: "2.0.0"\n    who: Ada'))).toBe(true)
    // `who` is a property of 2.0.0 only: invalid under 1.0.0, and `name` under 2.0.0.
    expect(valid(greet('    version: "1.0.0"\n    who: Ada'))).toBe(false)
    expect(valid(greet('    version: "2.0.0"\n    name: Ada'))).toBe(false)
    expect(valid('id: x\nnamespace: demo\ntasks: nope\n')).toBe(false)
  })

  it('follows what is installed: a type without an installed version is not in it', async () => {
    const schema = await (await fetch(`${server.url}/api/v1/plugins/schemas/flow`)).json()
    const text = JSON.stringify(schema)
    expect(text).toContain('"const":"acme.greeting.Hello"')
    expect(text).not.toContain('"const":"kite.transform.')
  })
})
