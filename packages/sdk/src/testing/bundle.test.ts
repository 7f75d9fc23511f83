import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { useScratchDir } from '../../test/scratch.js'
import { definePlugin, defineTask, z } from '../index.js'
import { createManifest } from '../manifest.js'
import { runBundle } from './bundle.js'
import { createSharedContext } from './harness.js'

// runBundle's child process imports the built @kite/sdk (npm test builds before testing).
const scratch = useScratchDir('bundle')

const echo = defineTask({
  name: 'Echo',
  properties: z.object({ text: z.string() }),
  outputs: z.object({ text: z.string() }),
  run: (props) => ({ text: props.text }),
})
const manifest = createManifest(
  definePlugin({ group: 'acme.echo', title: 'Echo', tasks: [echo] }),
  { name: '@acme/kite-plugin-echo', version: '1.0.0' },
  { entry: 'dist/index.js', sdkRange: '*' },
)

async function packageWith(name: string, bundle: string): Promise<string> {
  const dir = join(scratch(), name)
  await mkdir(join(dir, 'dist'), { recursive: true })
  await writeFile(join(dir, 'dist/kite-plugin.json'), JSON.stringify(manifest))
  await writeFile(join(dir, 'dist/index.js'), bundle)
  return dir
}

const ECHO_BUNDLE = `import { definePlugin, defineTask, z } from '@kite/sdk'
const echo = defineTask({
  name: 'Echo',
  properties: z.object({ text: z.string() }),
  outputs: z.object({ text: z.string() }),
  run(props, ctx) { ctx.logger.info('echo ' + props.text); return { text: props.text } },
})
export default definePlugin({ group: 'acme.echo', title: 'Echo', tasks: [echo] })
`

describe('runBundle', () => {
  it('runs a task of a built package in plain node, with rendered properties', async () => {
    const dir = await packageWith('ok', ECHO_BUNDLE)
    const result = await runBundle(
      dir,
      'acme.echo.Echo',
      { text: '{{ inputs.word }}' },
      {
        inputs: { word: 'kite' },
        secrets: { WORD: 'kite' },
      },
    )
    expect(result).toMatchObject({ kind: 'task', value: { text: 'kite' } })
    expect(result.manifest.name).toBe('@acme/kite-plugin-echo')
    expect(result.logs).toEqual([{ level: 'info', message: 'echo ******' }])
  })

  it('passes the task error through with its code', async () => {
    const dir = await packageWith('bad-props', ECHO_BUNDLE)
    await expect(runBundle(dir, 'acme.echo.Echo', { text: 7 })).rejects.toMatchObject({
      code: 'PROPERTIES_INVALID',
      message: expect.stringContaining('text'),
    })
  })

  it('says to build first when there is no manifest', async () => {
    const dir = join(scratch(), 'unbuilt')
    await mkdir(dir, { recursive: true })
    await expect(runBundle(dir, 'acme.echo.Echo')).rejects.toMatchObject({
      code: 'BUNDLE_INVALID',
      message: expect.stringContaining('has no dist/kite-plugin.json: build the plugin first'),
    })
  })

  it('reports a bundle that fails to import, and one without a plugin', async () => {
    const broken = await packageWith('broken', "throw new Error('broken at import')\n")
    await expect(runBundle(broken, 'acme.echo.Echo')).rejects.toThrow('broken at import')
    const empty = await packageWith('empty', 'export const nothing = 1\n')
    await expect(runBundle(empty, 'acme.echo.Echo')).rejects.toMatchObject({
      code: 'BUNDLE_INVALID',
      message: 'dist/index.js has no definePlugin(...) as its default export',
    })
  })

  it('fails a bundle that left a dependency outside, though the repo has it installed', async () => {
    const leaky = await packageWith('leaky', `import { stringify } from 'yaml'\n${ECHO_BUNDLE}`)
    await expect(runBundle(leaky, 'acme.echo.Echo', { text: 'x' })).rejects.toThrow(
      /Cannot find package 'yaml'/,
    )
  })

  it('refuses a bundle that lacks a type its manifest lists', async () => {
    const stale = await packageWith(
      'stale',
      "import { definePlugin } from '@kite/sdk'\nexport default definePlugin({ group: 'acme.echo', title: 'Echo' })\n",
    )
    await expect(runBundle(stale, 'acme.echo.Echo')).rejects.toMatchObject({
      code: 'BUNDLE_INVALID',
      message: expect.stringContaining(
        'provides no task "acme.echo.Echo" though the manifest lists it',
      ),
    })
  })
})

describe('createSharedContext', () => {
  it('lets one run read what another stored', async () => {
    const copy = defineTask({
      name: 'Copy',
      properties: z.object({ from: z.string() }),
      outputs: z.object({ uri: z.string() }),
      async run(props, ctx) {
        const text = new TextDecoder().decode(await ctx.storage.get(props.from))
        return { uri: await ctx.storage.put('copy.txt', text.toUpperCase()) }
      },
    })
    const { context, store, run, read } = await createSharedContext()
    const { uri } = await run(copy, { from: await store('in.txt', 'shared') })
    expect(new TextDecoder().decode(await read(uri))).toBe('SHARED')
    await context.cleanup()
  })
})
