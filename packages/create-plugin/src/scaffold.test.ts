import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import runtimePackage from '@kite/runtime/package.json' with { type: 'json' }
import sdkPackage from '@kite/sdk/package.json' with { type: 'json' }
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import rootPackage from '../../../package.json' with { type: 'json' }
import { type PartialAnswers, resolveAnswers } from './answers.js'
import { scaffoldPlugin } from './scaffold.js'
import { TYPESCRIPT_VERSION, VITEST_VERSION } from './versions.js'

let root: string

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'create-kite-plugin-'))
})

afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

let count = 0
async function scaffold(partial: PartialAnswers) {
  const dir = join(root, `p${++count}`)
  const answers = resolveAnswers({ dir, ...partial })
  const result = await scaffoldPlugin(answers)
  const read = (file: string) => readFile(join(dir, file), 'utf8')
  return { answers, result, dir, read }
}

const REGISTRY = 'http://127.0.0.1:4873/'
const combinations = [true, false].flatMap((trigger) =>
  [true, false].flatMap((condition) =>
    [undefined, REGISTRY].flatMap((registry) =>
      ['acme.demo', 'community.demo'].map((group) => ({ trigger, condition, registry, group })),
    ),
  ),
)

describe('scaffoldPlugin', () => {
  it.each(combinations)('writes a complete package for %o', async (options) => {
    const { result, read } = await scaffold(options)
    const { trigger, condition, registry, group } = options
    const scoped = group === 'acme.demo'
    const name = scoped ? '@acme/kite-plugin-demo' : 'kite-plugin-demo'

    expect(result.files).toEqual(
      [
        '.gitignore',
        '.npmrc',
        'README.md',
        'package.json',
        ...(condition ? ['src/contains.test.ts', 'src/contains.ts'] : []),
        'src/flow.test.ts',
        'src/hello.test.ts',
        'src/hello.ts',
        'src/index.test.ts',
        'src/index.ts',
        ...(trigger ? ['src/new-items.test.ts', 'src/new-items.ts'] : []),
        'test/flows/hello.yaml',
        'tsconfig.json',
        'vitest.config.ts',
      ].sort(),
    )
    for (const file of result.files) {
      const text = await read(file)
      expect(text, file).not.toMatch(/__[A-Z][A-Z0-9_]*__|#if|#endif/)
    }

    const pkg = JSON.parse(await read('package.json'))
    expect(pkg).toMatchObject({
      name,
      version: '1.0.0',
      type: 'module',
      keywords: expect.arrayContaining(['kite-plugin']),
      exports: { '.': './dist/index.js' },
      files: ['dist'],
      kite: { manifest: 'dist/kite-plugin.json' },
      scripts: {
        build: 'kite-plugin build',
        dev: 'kite-plugin build --watch',
        pretest: 'kite-plugin build',
        test: 'vitest run',
        typecheck: 'tsc --noEmit',
      },
      peerDependencies: { '@kite/sdk': `^${sdkPackage.version}` },
      devDependencies: {
        '@kite/runtime': `^${runtimePackage.version}`,
        '@kite/sdk': `^${sdkPackage.version}`,
        typescript: '5.9.3',
        vitest: '4.1.12',
      },
    })
    expect(pkg.publishConfig).toEqual(registry ? { registry } : undefined)

    const npmrc = await read('.npmrc')
    const active = npmrc.split('\n').filter((line) => line && !line.startsWith('#'))
    expect(active).toEqual(
      registry
        ? [`@kite:registry=${registry}`, ...(scoped ? [`@acme:registry=${registry}`] : [])]
        : [],
    )
    if (!registry) expect(npmrc).toContain('# @kite:registry=http://127.0.0.1:4873/')

    const index = await read('src/index.ts')
    expect(index).toContain(`group: '${group}'`)
    expect(index.includes('triggers: [newItems]')).toBe(trigger)
    expect(index.includes('conditions: [contains]')).toBe(condition)
    const indexTest = await read('src/index.test.ts')
    expect(indexTest.includes(`plugin.find('${group}.NewItems')`)).toBe(trigger)
    expect(indexTest.includes(`plugin.find('${group}.Contains')`)).toBe(condition)

    const flow = await read('test/flows/hello.yaml')
    expect(flow).toContain(`namespace: ${group}\n`)
    expect(flow).toContain(`type: ${group}.Hello\n`)
    expect(pkg.dependencies?.['@kite/runtime']).toBeUndefined()

    const readme = await read('README.md')
    expect(readme).toContain(`# ${name}\n`)
    expect(readme).toContain(`type: ${group}.Hello\n    version: "1.0.0"`)
    expect(readme).toContain('<!-- kite:reference:start -->')
    expect(readme).toContain('<!-- kite:reference:end -->')
    expect(readme.includes(`type: ${group}.NewItems`)).toBe(trigger)
    expect(readme.includes(`type: ${group}.Contains`)).toBe(trigger && condition)
    expect(readme.includes('created without a Kite registry')).toBe(!registry)
  })

  it('writes the task the answers name, with its description escaped', async () => {
    const { read } = await scaffold({
      group: 'acme.demo',
      taskName: 'FetchPokemon',
      taskDescription: "Fetches a Pokémon's height\\weight.",
    })
    const task = await read('src/fetch-pokemon.ts')
    expect(task).toContain('export const fetchPokemon = defineTask({')
    expect(task).toContain("name: 'FetchPokemon',")
    expect(task).toContain("title: 'Fetch pokemon',")
    expect(task).toContain("description: 'Fetches a Pokémon\\'s height\\\\weight.',")
    expect(await read('src/index.ts')).toContain(
      "import { fetchPokemon } from './fetch-pokemon.js'",
    )
  })

  it('refuses a directory that is not empty, and writes nothing', async () => {
    const dir = join(root, 'taken')
    await mkdir(dir)
    await writeFile(join(dir, 'notes.txt'), 'mine')
    await expect(scaffoldPlugin(resolveAnswers({ dir, group: 'acme.demo' }))).rejects.toThrow(
      expect.objectContaining({
        code: 'DIR_NOT_EMPTY',
        message: `${dir} is not empty (notes.txt): choose a new directory, or empty this one`,
      }),
    )
    expect(await readdir(dir)).toEqual(['notes.txt'])
  })

  it('refuses a path that is a file', async () => {
    const file = join(root, 'a-file')
    await writeFile(file, '')
    await expect(scaffoldPlugin(resolveAnswers({ dir: file, group: 'acme.demo' }))).rejects.toThrow(
      `${file} exists and is not a directory`,
    )
  })

  it('accepts an empty directory, or one holding only .git', async () => {
    const dir = join(root, 'git-only')
    await mkdir(join(dir, '.git'), { recursive: true })
    const { files } = await scaffoldPlugin(resolveAnswers({ dir, group: 'acme.demo' }))
    expect(files).toContain('package.json')
  })

  it('pins the vitest and typescript versions the monorepo itself uses', () => {
    expect(rootPackage.devDependencies.typescript).toBe(TYPESCRIPT_VERSION)
    expect(rootPackage.devDependencies.vitest).toBe(VITEST_VERSION)
  })
})
