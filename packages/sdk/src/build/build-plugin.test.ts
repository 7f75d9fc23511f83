import { execFile } from 'node:child_process'
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { sdkDir, useScratchDir } from '../../test/scratch.js'
import { parseManifest } from '../manifest.js'
import { buildPlugin } from './build-plugin.js'

const run = promisify(execFile)
const fixture = join(sdkDir, 'test/fixtures/bundled-plugin')
const scratch = useScratchDir('build')

async function copyFixture(name: string): Promise<string> {
  const dir = join(scratch(), name)
  await cp(fixture, dir, { recursive: true })
  return dir
}

describe('buildPlugin', () => {
  it('bundles every dependency but @kite/sdk and writes a valid manifest', async () => {
    const dir = await copyFixture('ok')
    const result = await buildPlugin({ dir })
    const bundle = await readFile(result.bundlePath, 'utf8')
    expect(bundle).toMatch(/from ["']@kite\/sdk["']/)
    expect(bundle).not.toMatch(/from ["']yaml["']/)
    expect(bundle).toContain('__kiteCreateRequire')
    const manifest = parseManifest(
      JSON.parse(await readFile(join(dir, 'dist/kite-plugin.json'), 'utf8')),
    )
    expect(manifest).toMatchObject({
      name: '@acme/kite-plugin-bundled',
      version: '1.0.0',
      group: 'acme.bundled',
      sdkRange: '^0.1.0',
      entry: 'dist/index.js',
    })
    expect(manifest.tasks.map((task) => task.type)).toEqual(['acme.bundled.ToYaml'])
  })

  it('produces a bundle that runs from a directory holding only @kite/sdk', async () => {
    const built = await copyFixture('portable-src')
    await buildPlugin({ dir: built })
    const isolated = await mkdtemp(join(tmpdir(), 'kite-bundle-'))
    try {
      await cp(join(built, 'dist'), join(isolated, 'dist'), { recursive: true })
      await cp(join(built, 'package.json'), join(isolated, 'package.json'))
      await mkdir(join(isolated, 'node_modules/@kite'), { recursive: true })
      await symlink(sdkDir, join(isolated, 'node_modules/@kite/sdk'), 'dir')
      const script = join(isolated, 'run.mjs')
      await writeFile(
        script,
        `import plugin from './dist/index.js'
import { runTask } from '@kite/sdk/testing'
const task = plugin.find('acme.bundled.ToYaml')
const { outputs } = await runTask(task, { value: { b: '{{ inputs.n }}' } }, { inputs: { n: 2 } })
console.log(JSON.stringify(outputs))`,
      )
      const { stdout } = await run(process.execPath, [script], { cwd: isolated })
      const outputs = JSON.parse(stdout)
      expect(outputs.yaml).toBe('b: 2\n')
      expect(outputs.sha256).toMatch(/^[0-9a-f]{64}$/)
      expect(outputs.eol).toBe('"\\n"')
      // __dirname of bundled CommonJS is the bundle's own directory.
      expect(outputs.dir).toBe('dist')
    } finally {
      await rm(isolated, { recursive: true, force: true })
    }
  })

  it('names every missing plugin field of package.json', async () => {
    const dir = await copyFixture('bad-package')
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'))
    pkg.kite = undefined
    pkg.keywords = []
    pkg.peerDependencies = {}
    await writeFile(join(dir, 'package.json'), JSON.stringify(pkg))
    const error = await buildPlugin({ dir }).catch((caught: Error) => caught)
    expect(error).toMatchObject({ code: 'BUILD_FAILED' })
    expect((error as Error).message).toContain(
      'add "kite": { "manifest": "dist/kite-plugin.json" }',
    )
    expect((error as Error).message).toContain('add "kite-plugin" to "keywords"')
    expect((error as Error).message).toContain('declare "@kite/sdk" in "peerDependencies"')
  })

  it('reports a syntax error with its location', async () => {
    const dir = await copyFixture('syntax')
    await writeFile(join(dir, 'src/index.ts'), 'export default {\n  oops: ,\n}\n')
    await expect(buildPlugin({ dir })).rejects.toThrow(/bundling failed:\n- src\/index\.ts:2:\d+: /)
  })

  it('refuses an entry without a plugin as default export', async () => {
    const dir = await copyFixture('no-default')
    await writeFile(join(dir, 'src/index.ts'), 'export const nothing = 1\n')
    await expect(buildPlugin({ dir })).rejects.toThrow(
      'dist/index.js has no plugin as its default export',
    )
  })

  it('refuses a plugin whose definitions are invalid, with the SDK message', async () => {
    const dir = await copyFixture('bad-plugin')
    await writeFile(
      join(dir, 'src/index.ts'),
      "import { definePlugin } from '@kite/sdk'\nexport default definePlugin({ group: 'Bad', title: 'x' })\n",
    )
    await expect(buildPlugin({ dir })).rejects.toThrow(/group "Bad" must be dotted lower-case/)
  })

  it('refuses a task property named version and a condition property named type', async () => {
    const dir = await copyFixture('reserved')
    await writeFile(
      join(dir, 'src/index.ts'),
      `import { defineCondition, definePlugin, defineTask, z } from '@kite/sdk'
const pin = defineTask({
  name: 'Pin',
  properties: z.object({ version: z.string() }),
  run: () => undefined,
})
const kind = defineCondition({
  name: 'Kind',
  properties: z.object({ type: z.string() }),
  test: () => true,
})
export default definePlugin({ group: 'acme.reserved', title: 'R', tasks: [pin], conditions: [kind] })
`,
    )
    const error = await buildPlugin({ dir }).catch((caught: Error) => caught)
    expect(error).toMatchObject({ code: 'DEFINITION_INVALID' })
    expect((error as Error).message).toContain(
      'task "Pin": the property "version" has the name of the reserved flow key "version"',
    )
    expect((error as Error).message).toContain(
      'condition "Kind": the property "type" has the name of the reserved flow key "type"',
    )
  })

  it('refuses a plugin whose examples do not validate, naming each', async () => {
    const dir = await copyFixture('bad-example')
    const source = await readFile(join(dir, 'src/index.ts'), 'utf8')
    await writeFile(
      join(dir, 'src/index.ts'),
      source.replace("code: 'value:\\n  a: 1'", "code: 'value: 7'"),
    )
    const error = await buildPlugin({ dir }).catch((caught: Error) => caught)
    expect(error).toMatchObject({ code: 'BUILD_FAILED' })
    expect((error as Error).message).toMatch(
      /plugin "acme\.bundled" has invalid examples:\n- "ToYaml" example 1 \("One key"\): value: /,
    )
  })

  it('refuses a misspelt Kite metadata key, naming the one meant', async () => {
    const dir = await copyFixture('misspelt-meta')
    const source = await readFile(join(dir, 'src/index.ts'), 'utf8')
    await writeFile(
      join(dir, 'src/index.ts'),
      source.replace(
        'z.record(z.string(), z.unknown())',
        'z.record(z.string(), z.unknown()).meta({ dynamc: false })',
      ),
    )
    const error = await buildPlugin({ dir }).catch((caught: Error) => caught)
    expect(error).toMatchObject({ code: 'BUILD_FAILED' })
    expect((error as Error).message).toContain(
      'acme.bundled.ToYaml properties.value: the metadata key "dynamc" is not one Kite reads; did you mean "dynamic"?',
    )
  })

  it('runs as the kite-plugin command', async () => {
    const dir = await copyFixture('cli')
    const { stdout } = await run(process.execPath, [join(sdkDir, 'dist/cli.js'), 'build'], {
      cwd: dir,
    })
    expect(stdout).toMatch(/✓ @acme\/kite-plugin-bundled@1\.0\.0 \(acme\.bundled\): 1 types/)
    const failure = await run(process.execPath, [join(sdkDir, 'dist/cli.js'), 'bild'], {
      cwd: dir,
    }).catch((error: { code: number; stderr: string }) => error)
    expect(failure).toMatchObject({ code: 2 })
    expect((failure as { stderr: string }).stderr).toContain('unknown command "bild"')
  })
})

describe('README reference', () => {
  it('rewrites the section between the markers from the manifest, and leaves the rest', async () => {
    const dir = await copyFixture('readme')
    await writeFile(
      join(dir, 'README.md'),
      '# Bundled\n\nHand-written intro.\n\n<!-- kite:reference:start -->\nstale\n<!-- kite:reference:end -->\n\nFooter.\n',
    )
    const result = await buildPlugin({ dir })
    const readme = await readFile(join(dir, 'README.md'), 'utf8')
    expect(result.readmeUpdated).toBe(true)
    expect(readme).toMatch(/^# Bundled\n\nHand-written intro\.\n\n<!-- kite:reference:start -->/)
    expect(readme).not.toContain('stale')
    expect(readme).toContain('### Object to YAML (`acme.bundled.ToYaml`)')
    expect(readme).toContain('| `value` | `object` |  | yes | yes |')
    expect(readme).toMatch(/<!-- kite:reference:end -->\n\nFooter\.\n$/)
  })

  it('leaves a README without markers alone', async () => {
    const dir = await copyFixture('readme-plain')
    await writeFile(join(dir, 'README.md'), '# Mine\n')
    expect((await buildPlugin({ dir })).readmeUpdated).toBe(false)
    expect(await readFile(join(dir, 'README.md'), 'utf8')).toBe('# Mine\n')
  })
})
