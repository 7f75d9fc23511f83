// The example flows the main job loads stay valid against the plugins in the repo, and each
// pinning example resolves to the version its description promises.
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createFlowValidator } from '@kite/runtime'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const flowsDir = join(root, 'examples/flows')
const validator = await createFlowValidator({
  config: join(root, 'examples/kite.yaml'),
  pluginDirs: [
    'packages/plugins/core',
    'packages/plugins/http',
    'packages/plugins/transform',
    'packages/plugins/sqlite',
    'examples/plugins/greeting',
    'examples/plugins/greeting/v2',
  ].map((dir) => join(root, dir)),
})
const files = (await readdir(flowsDir)).filter((file) => file.endsWith('.yml')).sort()

describe('examples/flows', () => {
  it('has the flows the main job promises', () => {
    for (const name of [
      'hello',
      'http-transform',
      'scheduled',
      'webhook',
      'pin-exact',
      'pin-latest',
    ]) {
      expect(files).toContain(`${name}.yml`)
    }
  })

  it.each(files)('%s is valid', async (file) => {
    const result = await validator.validate(await readFile(join(flowsDir, file), 'utf8'))
    expect(result.flow.id).toBe(file.replace(/\.yml$/, ''))
  })

  it.each([
    ['pin-exact.yml', '1.0.0', 'task'],
    ['pin-latest.yml', '2.0.0', 'task'],
    ['pin-oldest.yml', '1.0.0', 'task'],
    ['pin-range.yml', '1.0.0', 'task'],
    ['pin-flow-defaults.yml', '1.0.0', 'flow'],
    ['pin-namespace.yml', '1.0.0', 'namespace'],
  ])('%s runs acme.greeting.Hello %s, decided by the %s', async (file, version, level) => {
    const validated = await validator.validate(await readFile(join(flowsDir, file), 'utf8'))
    expect(validated.plugins).toEqual([
      expect.objectContaining({ type: 'acme.greeting.Hello', version, decidedBy: level }),
    ])
  })
})
