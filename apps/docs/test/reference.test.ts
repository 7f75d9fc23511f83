import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { listManifestTypes, type PluginManifest, parseManifest } from '@kite/sdk/host'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { docsReferenceUrl } from '../../../packages/registry/src/ui/docs-links.js'
import { generateReference, pluginSlug, typeSlug } from '../scripts/generate-reference.mjs'

const docsDir = resolve(import.meta.dirname, '..')
const repoRoot = resolve(docsDir, '../..')
const PROPERTIES_HEADER = '| Name | Type | Default | Required | Dynamic | Description |'

/** Read independently of the generator: every folder under packages/plugins is a plugin. */
function firstPartyManifests(): PluginManifest[] {
  const dir = join(repoRoot, 'packages/plugins')
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) =>
      parseManifest(
        JSON.parse(readFileSync(join(dir, entry.name, 'dist/kite-plugin.json'), 'utf8')),
      ),
    )
}

const greeting = ['examples/plugins/greeting/dist', 'examples/plugins/greeting/v2/dist'].map(
  (dir) => parseManifest(JSON.parse(readFileSync(join(repoRoot, dir, 'kite-plugin.json'), 'utf8'))),
)

describe('generated reference', () => {
  let out: string
  let result: { written: string[]; plugins: Array<{ name: string; versions: string[] }> }
  const page = (relative: string) => readFileSync(join(out, 'src', relative), 'utf8')

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'kite-docs-'))
    result = await generateReference({
      outDir: join(out, 'src'),
      generatedDir: join(out, 'generated'),
    })
  })
  afterAll(() => rmSync(out, { recursive: true, force: true }))

  it('has one page per first-party plugin, listing its types', () => {
    const manifests = firstPartyManifests()
    expect(manifests.length).toBeGreaterThanOrEqual(10)
    for (const manifest of manifests) {
      const overview = page(`reference/${pluginSlug(manifest.group)}/index.md`)
      expect(overview).toContain(`${manifest.name}@${manifest.version}`)
      for (const { entry } of listManifestTypes(manifest)) {
        expect(overview).toContain(`${typeSlug(manifest.group, entry.type)})`)
      }
    }
    expect(result.plugins.map((plugin) => plugin.name)).toEqual(
      expect.arrayContaining(manifests.map((manifest) => manifest.name)),
    )
  })

  it('has one page per type with its properties table, outputs and examples', () => {
    for (const manifest of firstPartyManifests()) {
      for (const { kind, entry } of listManifestTypes(manifest)) {
        const text = page(
          `reference/${pluginSlug(manifest.group)}/${typeSlug(manifest.group, entry.type)}.md`,
        )
        expect(text).toContain(`\`${entry.type}\` · ${kind}`)
        expect(text).toContain(PROPERTIES_HEADER)
        for (const name of Object.keys(entry.properties.properties ?? {})) {
          expect(text).toContain(`| \`${name}\` |`)
        }
        if (kind === 'task') expect(text).toContain('## Outputs')
        for (const example of entry.examples) expect(text).toContain(`### ${example.title}`)
        // Expressions in examples stay literal: the page body is a v-pre block.
        expect(text).toMatch(/^---\n[\s\S]*?\n---\n\n::: v-pre\n/)
      }
    }
  })

  it('documents both versions of the example plugin, linking each to the other', () => {
    const [v1, v2] = greeting
    expect(result.plugins.find((plugin) => plugin.name === v1!.name)?.versions).toEqual([
      '2.0.0',
      '1.0.0',
    ])
    const latest = page('reference/acme-greeting/hello.md')
    expect(latest).toContain('| `who` |')
    expect(latest).toContain('[1.0.0](/reference/acme-greeting/v1.0.0/hello)')
    const old = page('reference/acme-greeting/v1.0.0/hello.md')
    expect(old).toContain('| `name` |')
    expect(old).toContain('[2.0.0 (latest)](/reference/acme-greeting/hello)')
    expect(page('reference/acme-greeting/goodbye.md')).toContain('1.0.0 (not in it)')
    expect(existsSync(join(out, 'src/reference/acme-greeting/v1.0.0/goodbye.md'))).toBe(false)
    expect(v2!.version).toBe('2.0.0')
  })

  it("links each version's pages to the registry's pages of that version, and back to the diff", async () => {
    const other = mkdtempSync(join(tmpdir(), 'kite-docs-links-'))
    try {
      await generateReference({
        outDir: join(other, 'src'),
        generatedDir: join(other, 'generated'),
        openApiDocument: { openapi: '3.1.0', info: { title: 'x', version: '0' }, paths: {} },
        registryUrl: 'https://plugins.example.com/base',
      })
      const read = (relative: string) => readFileSync(join(other, 'src', relative), 'utf8')
      const ui = 'https://plugins.example.com/base/-/kite'
      const latest = read('reference/acme-greeting/index.md')
      expect(latest).toContain(
        `In the registry: [@acme/kite-plugin-greeting@2.0.0](${ui}/plugins/@acme/kite-plugin-greeting?version=2.0.0)`,
      )
      expect(latest).toContain(
        `[what changed since 1.0.0](${ui}/plugins/@acme/kite-plugin-greeting/diff?from=1.0.0&to=2.0.0)`,
      )
      const old = read('reference/acme-greeting/v1.0.0/index.md')
      expect(old).toContain(`(${ui}/plugins/@acme/kite-plugin-greeting?version=1.0.0)`)
      expect(old).not.toContain('what changed since')
      expect(read('reference/acme-greeting/v1.0.0/hello.md')).toContain(
        `In the registry: [acme.greeting.Hello in 1.0.0](${ui}/types/acme.greeting.Hello?version=1.0.0)`,
      )
      // The latest version answers at v<version>/ too (the registry links there), sending the
      // reader on without JavaScript.
      const moved = read('reference/acme-greeting/v2.0.0/hello.md')
      expect(moved).toContain(
        '"http-equiv":"refresh","content":"0; url=/reference/acme-greeting/hello"',
      )
      expect(moved).toContain('search: false')
      expect(read('reference/acme-greeting/v2.0.0/index.md')).toContain(
        'url=/reference/acme-greeting/',
      )
    } finally {
      rmSync(other, { recursive: true, force: true })
    }
  })

  it("has a page at every URL the registry's browse UI links to, for every version and type", () => {
    const docs = { url: 'http://docs.test/', reference: ['@kite/*', '@acme/*'] }
    const written = new Set(result.written)
    const pageOf = (url: string | undefined) => {
      const path = new URL(url ?? 'http://docs.test/missing').pathname.slice(1)
      return path.endsWith('/') ? `${path}index.md` : `${path}.md`
    }
    for (const manifest of [...firstPartyManifests(), ...greeting]) {
      const plugin = { name: manifest.name, group: manifest.group, version: manifest.version }
      expect(written).toContain(pageOf(docsReferenceUrl(docs, plugin)))
      for (const { entry } of listManifestTypes(manifest)) {
        expect(written).toContain(pageOf(docsReferenceUrl(docs, plugin, entry.type)))
      }
    }
  })

  it('writes the HTTP API page from the runtime OpenAPI document', () => {
    const api = page('api/index.md')
    expect(api).toContain('### POST /flows {#post-flows}')
    expect(api).toContain('### GET /executions/{id} {#get-executions-id}')
    expect(api).toContain('## Schemas')
  })

  it('writes a sidebar with every plugin and type', () => {
    const sidebar = JSON.parse(readFileSync(join(out, 'generated/sidebar.json'), 'utf8'))
    const links = JSON.stringify(sidebar)
    for (const manifest of [...firstPartyManifests(), greeting[1]!]) {
      for (const { entry } of listManifestTypes(manifest)) {
        expect(links).toContain(
          `/reference/${pluginSlug(manifest.group)}/${typeSlug(manifest.group, entry.type)}"`,
        )
      }
    }
  })
})

describe('built site', () => {
  const dist = join(docsDir, '.vitepress/dist')

  it('contains a page for every plugin, type and guide (run `npm run build -w @kite/docs`)', () => {
    expect(existsSync(dist), `${dist} is missing: build the docs first`).toBe(true)
    const html = (relative: string) => readFileSync(join(dist, `${relative}.html`), 'utf8')
    for (const manifest of [...firstPartyManifests(), greeting[1]!]) {
      const slug = pluginSlug(manifest.group)
      expect(html(`reference/${slug}/index`)).toContain(manifest.name)
      for (const { entry } of listManifestTypes(manifest)) {
        const text = html(`reference/${slug}/${typeSlug(manifest.group, entry.type)}`)
        expect(text).toContain(entry.type)
        expect(text).toContain('<th>Dynamic</th>')
      }
    }
    expect(html('reference/acme-greeting/v1.0.0/hello')).toContain(
      '@acme/kite-plugin-greeting@1.0.0',
    )
    expect(html('reference/acme-greeting/v1.0.0/hello')).toContain('{{ inputs.name }}')
    for (const guide of [
      'guide/index',
      'guide/versions',
      'guide/expressions',
      'guide/typed-flows',
      'api/index',
      'cli/index',
    ]) {
      expect(existsSync(join(dist, `${guide}.html`)), guide).toBe(true)
    }
  })
})
