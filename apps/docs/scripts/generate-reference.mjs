/**
 * Generates the docs pages that come from the code, before every `vitepress build`/`dev`:
 *
 * - `src/reference/**`: one page per plugin and per type (and per version, when a plugin has
 *   several), rendered from each plugin's `dist/kite-plugin.json` with the SDK's Markdown
 *   generators, so these pages and the registry's agree;
 * - `src/api/index.md`: the runtime's HTTP API, from the OpenAPI document `@kite/runtime` builds;
 * - `.vitepress/generated/sidebar.json`: the reference sidebar.
 *
 * Everything it writes is gitignored and rewritten from scratch each time.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  listManifestTypes,
  parseManifest,
  renderPluginMarkdown,
  renderTypeMarkdown,
} from '@kite/sdk/host'
import { resolveSiteUrls } from '../../../scripts/ports.mjs'

const docsDir = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const repoRoot = resolve(docsDir, '../..')

/** Where the manifests come from: every first-party plugin, and both versions of the example. */
export function findManifestFiles(root = repoRoot) {
  const pluginsDir = join(root, 'packages/plugins')
  const firstParty = readdirSync(pluginsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(pluginsDir, entry.name, 'dist/kite-plugin.json'))
  const examples = ['examples/plugins/greeting/dist', 'examples/plugins/greeting/v2/dist'].map(
    (dir) => join(root, dir, 'kite-plugin.json'),
  )
  const files = [...firstParty, ...examples]
  const missing = files.filter((file) => !existsSync(file))
  if (missing.length > 0) {
    throw new Error(
      `missing plugin manifests (run \`npx turbo run build\` first):\n- ${missing.join('\n- ')}`,
    )
  }
  return files
}

/** `kite.http` → `kite-http`: one folder per plugin, named after its group (unique per package). */
export const pluginSlug = (group) => group.replaceAll('.', '-')

/** `kite.core.log.Log` in group `kite.core` → `log-log`. */
export const typeSlug = (group, type) =>
  type
    .slice(group.length + 1)
    .replaceAll('.', '-')
    .toLowerCase()

/**
 * Writes the reference pages and the API page into `outDir` (the VitePress source folder) and
 * the sidebar into `generatedDir`. Returns what it wrote, for the caller and the tests.
 */
export async function generateReference({
  outDir = join(docsDir, 'src'),
  generatedDir = join(docsDir, '.vitepress/generated'),
  manifestFiles = findManifestFiles(),
  openApiDocument,
  registryUrl = resolveSiteUrls().registry,
} = {}) {
  const registry = registryLinks(registryUrl)
  const referenceDir = join(outDir, 'reference')
  rmSync(referenceDir, { recursive: true, force: true })
  const written = []
  const write = (relative, content) => {
    const file = join(outDir, relative)
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, content)
    written.push(relative)
  }

  const byName = new Map()
  for (const file of manifestFiles) {
    const manifest = parseManifest(JSON.parse(readFileSync(file, 'utf8')))
    const versions = byName.get(manifest.name) ?? []
    versions.push(manifest)
    byName.set(manifest.name, versions)
  }
  const plugins = [...byName.values()]
    .map((versions) => versions.sort((a, b) => compareVersions(b.version, a.version)))
    .sort((a, b) => a[0].name.localeCompare(b[0].name))

  const sidebar = []
  const pages = []
  for (const versions of plugins) {
    const latest = versions[0]
    const slug = pluginSlug(latest.group)
    const base = `/reference/${slug}/`
    const folderOf = (manifest) => (manifest === latest ? base : `${base}v${manifest.version}/`)
    for (const manifest of versions) {
      const folder = folderOf(manifest)
      const types = listManifestTypes(manifest)
      write(`${folder.slice(1)}index.md`, pluginPage(manifest, versions, folderOf, registry))
      for (const { entry } of types) {
        write(
          `${folder.slice(1)}${typeSlug(manifest.group, entry.type)}.md`,
          typePage(manifest, entry.type, versions, folderOf, registry),
        )
      }
    }
    // Every version also answers at `v<version>/` (what the registry links to): for the latest,
    // a page that sends the reader to where it lives, with or without JavaScript.
    const latestFolder = `${base}v${latest.version}/`
    write(`${latestFolder.slice(1)}index.md`, movedPage(latest, base))
    for (const { entry } of listManifestTypes(latest)) {
      const slugOfType = typeSlug(latest.group, entry.type)
      write(`${latestFolder.slice(1)}${slugOfType}.md`, movedPage(latest, `${base}${slugOfType}`))
    }
    pages.push({
      name: latest.name,
      group: latest.group,
      link: base,
      versions: versions.map((manifest) => manifest.version),
      types: listManifestTypes(latest).map(({ entry }) => entry.type),
    })
    sidebar.push({
      text: latest.title,
      link: base,
      collapsed: true,
      items: listManifestTypes(latest).map(({ entry }) => ({
        text: entry.type,
        link: `${base}${typeSlug(latest.group, entry.type)}`,
      })),
    })
  }
  write('reference/index.md', referenceIndex(plugins))

  const document = openApiDocument ?? (await loadOpenApiDocument())
  rmSync(join(outDir, 'api'), { recursive: true, force: true })
  write('api/index.md', apiPage(document))

  mkdirSync(generatedDir, { recursive: true })
  writeFileSync(
    join(generatedDir, 'sidebar.json'),
    `${JSON.stringify([{ text: 'Plugins', link: '/reference/', items: sidebar }], null, 2)}\n`,
  )
  return { written, plugins: pages }
}

async function loadOpenApiDocument() {
  const { createOpenApiDocument } = await import('@kite/runtime')
  const runtimePackage = JSON.parse(
    readFileSync(join(repoRoot, 'packages/runtime/package.json'), 'utf8'),
  )
  return createOpenApiDocument(runtimePackage.version)
}

function compareVersions(a, b) {
  const parse = (version) => version.split(/[.+-]/).slice(0, 3).map(Number)
  const [x, y] = [parse(a), parse(b)]
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i]
  return 0
}

// ---------------------------------------------------------------------------------------------
// Pages

function frontmatter(fields) {
  const lines = Object.entries(fields).map(([key, value]) => `${key}: ${JSON.stringify(value)}`)
  return `---\n${lines.join('\n')}\n---\n\n`
}

/** VitePress compiles pages as Vue templates: keep `{{ }}` literal and stray `<` out of HTML. */
function vuePre(markdown) {
  return `::: v-pre\n\n${escapeHtmlOutsideCode(markdown).trimEnd()}\n\n:::\n`
}

/** Replaces `<` with `&lt;` except in fenced code blocks and inline code spans. */
export function escapeHtmlOutsideCode(markdown) {
  let fenced = false
  return markdown
    .split('\n')
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) {
        fenced = !fenced
        return line
      }
      if (fenced) return line
      return line
        .split(/(`[^`]*`)/)
        .map((part) => (part.startsWith('`') ? part : part.replaceAll('<', '&lt;')))
        .join('')
    })
    .join('\n')
}

function versionLine(manifest, versions, folderOf, typeSlugOrIndex) {
  if (versions.length < 2) return `Version ${manifest.version} (the version in this repository).`
  const links = versions.map((other) => {
    const label = other === versions[0] ? `${other.version} (latest)` : other.version
    if (other === manifest) return `**${label}**`
    const hasType =
      typeSlugOrIndex === '' ||
      listManifestTypes(other).some(
        ({ entry }) => typeSlug(other.group, entry.type) === typeSlugOrIndex,
      )
    return hasType ? `[${label}](${folderOf(other)}${typeSlugOrIndex})` : `${label} (not in it)`
  })
  return `Versions: ${links.join(' · ')}`
}

function pluginPage(manifest, versions, folderOf, registry) {
  const folder = folderOf(manifest)
  let markdown = renderPluginMarkdown(manifest)
  for (const { entry } of listManifestTypes(manifest)) {
    markdown = markdown.replace(
      `| \`${entry.type}\` |`,
      `| [\`${entry.type}\`](${folder}${typeSlug(manifest.group, entry.type)}) |`,
    )
  }
  const install = [
    '## Use it',
    '',
    '```yaml',
    `# a task of ${manifest.name}, pinned to this version`,
    'tasks:',
    '  - id: first',
    `    type: ${listManifestTypes(manifest)[0]?.entry.type ?? `${manifest.group}.Task`}`,
    `    version: "${manifest.version}"`,
    '```',
    '',
    'See [plugin versions and pinning](/guide/versions) for every way to choose a version.',
  ].join('\n')
  const versionsSection = [
    '## Versions',
    '',
    '| Version | Types |',
    '| --- | --- |',
    ...versions.map((other) => {
      const text = other === versions[0] ? `${other.version} (latest)` : other.version
      const label = other === manifest ? `**${text}** (this page)` : `[${text}](${folderOf(other)})`
      return `| ${label} | ${listManifestTypes(other).length} |`
    }),
    '',
    versions.length === 1
      ? 'The version in this repository; the [registry](/registry/) lists every published one.'
      : 'Each version has its own pages: a flow pinned to an older version reads those.',
  ].join('\n')
  const [heading, ...rest] = markdown.split('\n')
  return `${frontmatter({ title: `${manifest.title} (${manifest.name}@${manifest.version})` })}${vuePre(
    `${[heading, '', registry.pluginLine(manifest, versions), ...rest].join('\n')}\n${versionsSection}\n\n${install}\n`,
  )}`
}

function typePage(manifest, type, versions, folderOf, registry) {
  const slug = typeSlug(manifest.group, type)
  const markdown = renderTypeMarkdown(manifest, type)
  const [heading, ...rest] = markdown.split('\n')
  const plugin = `Plugin: [${manifest.title}](${folderOf(manifest)}) · ${versionLine(
    manifest,
    versions,
    folderOf,
    slug,
  )}`
  return `${frontmatter({ title: `${type} (${manifest.version})` })}${vuePre(
    [heading, '', plugin, '', registry.typeLine(manifest, type), ...rest].join('\n'),
  )}`
}

/** The page at `v<latest>/…`: sends the reader to the latest version's page. */
function movedPage(manifest, target) {
  const head = [['meta', { 'http-equiv': 'refresh', content: `0; url=${target}` }]]
  return `${frontmatter({ title: `${manifest.title} ${manifest.version}`, search: false, head })}${vuePre(
    `# ${manifest.title} ${manifest.version}\n\nThe latest version: its reference is at [${target}](${target}).\n`,
  )}`
}

/** `@acme/x` with each segment URL-encoded but the scope's `@` kept (as the registry's UI does). */
const namePath = (name) =>
  name
    .split('/')
    .map((part) => encodeURIComponent(part).replace(/^%40/, '@'))
    .join('/')

/**
 * Links from a reference page to the registry's pages of the same version (and the diff from
 * the version before it), on `registryUrl` (`KITE_REGISTRY_URL`, else the one `npm start` runs).
 */
export function registryLinks(registryUrl) {
  const ui = `${registryUrl.endsWith('/') ? registryUrl : `${registryUrl}/`}-/kite`
  const version = (manifest) => `version=${encodeURIComponent(manifest.version)}`
  const pluginUrl = (manifest) => `${ui}/plugins/${namePath(manifest.name)}?${version(manifest)}`
  const diffUrl = (manifest, from) =>
    `${ui}/plugins/${namePath(manifest.name)}/diff?from=${encodeURIComponent(from.version)}&to=${encodeURIComponent(manifest.version)}`
  const typeUrl = (manifest, type) => `${ui}/types/${encodeURIComponent(type)}?${version(manifest)}`
  const previous = (manifest, versions) => versions[versions.indexOf(manifest) + 1]
  return {
    pluginUrl,
    typeUrl,
    diffUrl,
    pluginLine(manifest, versions) {
      const before = previous(manifest, versions)
      const diff = before
        ? ` · [what changed since ${before.version}](${diffUrl(manifest, before)})`
        : ''
      return `In the registry: [${manifest.name}@${manifest.version}](${pluginUrl(manifest)})${diff}`
    },
    typeLine(manifest, type) {
      return `In the registry: [${type} in ${manifest.version}](${typeUrl(manifest, type)})`
    },
  }
}

function referenceIndex(plugins) {
  const rows = plugins.map((versions) => {
    const latest = versions[0]
    const link = `/reference/${pluginSlug(latest.group)}/`
    // Three columns, the package and group in the plugin's cell: the description gets the width
    // (six columns overflowed the content column and cut it off). No HTML: the page is v-pre.
    const versionList = versions.map((manifest) => manifest.version).join(', ')
    return `| [${latest.title}](${link}) \`${latest.name}\` \`${latest.group}\` ${versionList} | ${listManifestTypes(latest).length} | ${latest.description.replaceAll('|', '\\|')} |`
  })
  const typeCount = plugins.reduce(
    (sum, versions) => sum + listManifestTypes(versions[0]).length,
    0,
  )
  return `${frontmatter({ title: 'Plugin reference' })}${vuePre(
    [
      '# Plugin reference',
      '',
      `Every first-party plugin (and the example plugin \`@acme/kite-plugin-greeting\`, which has two versions): ${plugins.length} plugins, ${typeCount} types in their latest versions. These pages are generated from each plugin's \`dist/kite-plugin.json\` by the same SDK functions the registry uses, so they say exactly what the code accepts.`,
      '',
      '| Plugin | Types | Description |',
      '| --- | --- | --- |',
      ...rows,
      '',
      'Each type page lists its properties (type, default, whether it is required, and whether it is *dynamic*, i.e. rendered through `{{ }}` before the task runs), its outputs and its examples.',
    ].join('\n'),
  )}`
}

// ---------------------------------------------------------------------------------------------
// The HTTP API page, from the OpenAPI document

const METHODS = ['get', 'post', 'put', 'patch', 'delete']

function apiPage(document) {
  const lines = [
    `# ${document.info.title}`,
    '',
    `Generated from the OpenAPI ${document.openapi} document of \`@kite/runtime\` ${document.info.version} — \`createOpenApiDocument()\`, the document a running runtime serves at \`GET /api/v1/openapi.json\`.`,
    '',
    document.info.description ?? '',
    '',
    'Try it against `kite server local` (default `http://127.0.0.1:{{ports.runtime}}`):',
    '',
    '```sh',
    "curl -X POST http://127.0.0.1:{{ports.runtime}}/api/v1/flows -H 'content-type: application/x-yaml' --data-binary @flow.yml",
    "curl -X POST 'http://127.0.0.1:{{ports.runtime}}/api/v1/executions/company.team/hello?wait=true' -H 'content-type: application/json' -d '{}'",
    '```',
    '',
    'All paths below are under `/api/v1`; `GET /api/v1` itself lists them. From TypeScript, [`@kite/client`](/runtime/#a-typed-client) calls them with types taken from the same routes. Once the runtime has a user, every route but webhooks, health, this index and the `/auth` routes needs a session cookie (the UI) or `Authorization: Bearer <token>` (401 otherwise), and a `viewer` may only `GET` (403 otherwise): see [Authentication](/runtime/authentication).',
    '',
  ]
  const operations = []
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      if (item[method]) operations.push({ path, method, operation: item[method] })
    }
  }
  const sections = new Map()
  for (const entry of operations.sort((a, b) => a.path.localeCompare(b.path))) {
    const section = sectionOf(entry.path)
    sections.set(section, [...(sections.get(section) ?? []), entry])
  }
  const rank = (section) => {
    const index = SECTION_ORDER.indexOf(section)
    return index === -1 ? SECTION_ORDER.length : index
  }
  for (const [section, entries] of [...sections].sort(([a], [b]) => rank(a) - rank(b))) {
    lines.push(`## ${section}`, '', '| Method | Path | Summary |', '| --- | --- | --- |')
    for (const { path, method, operation } of entries) {
      lines.push(
        `| ${method.toUpperCase()} | [${shortPath(path)}](#${anchor(method, path)}) | ${cell(operation.summary ?? '')} |`,
      )
    }
    lines.push('')
    for (const { path, method, operation } of entries) {
      lines.push(`### ${method.toUpperCase()} ${shortPath(path)} {#${anchor(method, path)}}`, '')
      lines.push(...operationLines(operation))
    }
  }
  lines.push(...schemaLines(document.components?.schemas ?? {}))
  return `${frontmatter({ title: 'HTTP API', outline: [2, 2] })}${vuePre(lines.join('\n'))}`
}

const SECTION_ORDER = ['Flows', 'Executions', 'Triggers', 'Plugins', 'Namespaces', 'Service']

function sectionOf(path) {
  const first = shortPath(path).split('/')[1] ?? ''
  if (first === 'health' || first === 'openapi.json' || first === '') return 'Service'
  return first.charAt(0).toUpperCase() + first.slice(1)
}

const shortPath = (path) => path.replace(/^\/api\/v1/, '') || '/'

function operationLines(operation) {
  const lines = []
  if (operation.summary) lines.push(`**${operation.summary}.**`, '')
  if (operation.description) lines.push(operation.description, '')
  const parameters = operation.parameters ?? []
  if (parameters.length > 0) {
    lines.push(
      '| Parameter | In | Type | Required | Description |',
      '| --- | --- | --- | --- | --- |',
    )
    for (const parameter of parameters) {
      lines.push(
        `| \`${parameter.name}\` | ${parameter.in} | ${schemaType(parameter.schema)} | ${parameter.required ? 'yes' : 'no'} | ${cell(parameter.description ?? '')} |`,
      )
    }
    lines.push('')
  }
  if (operation.requestBody) {
    const body = operation.requestBody
    const content = Object.entries(body.content ?? {})
      .map(([type, media]) => `\`${type}\` (${schemaType(media.schema)})`)
      .join(', ')
    lines.push(`Body: ${content}${body.description ? ` — ${body.description}` : ''}`, '')
  }
  lines.push('| Status | Description | Body |', '| --- | --- | --- |')
  for (const [status, response] of Object.entries(operation.responses ?? {})) {
    const content = Object.entries(response.content ?? {})
      .map(([type, media]) => `\`${type}\` ${schemaType(media.schema)}`)
      .join(', ')
    lines.push(`| ${status} | ${cell(response.description ?? '')} | ${content} |`)
  }
  lines.push('')
  return lines
}

function schemaLines(schemas) {
  const entries = Object.entries(schemas)
  if (entries.length === 0) return []
  const lines = ['## Schemas', '']
  for (const [name, schema] of entries) {
    lines.push(`### ${name} {#schema-${name.toLowerCase()}}`, '')
    if (schema.description) lines.push(schema.description, '')
    const properties = Object.entries(schema.properties ?? {})
    if (properties.length === 0) {
      lines.push(`Type: ${schemaType(schema)}`, '')
      continue
    }
    const required = new Set(schema.required ?? [])
    lines.push('| Field | Type | Required | Description |', '| --- | --- | --- | --- |')
    for (const [field, property] of properties) {
      lines.push(
        `| \`${field}\` | ${schemaType(property)} | ${required.has(field) ? 'yes' : 'no'} | ${cell(property.description ?? '')} |`,
      )
    }
    lines.push('')
  }
  return lines
}

const anchor = (method, path) =>
  `${method}-${
    path
      .replace(/^\/api\/v1\/?/, '')
      .replace(/[^a-zA-Z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'index'
  }`.toLowerCase()

function cell(text) {
  return String(text).replaceAll('|', '\\|').replaceAll('\n', ' ')
}

/** A short, linked description of a JSON Schema, for table cells. */
export function schemaType(schema) {
  if (!schema || typeof schema !== 'object') return ''
  if (schema.$ref) {
    const name = schema.$ref.split('/').pop()
    return `[${name}](#schema-${name.toLowerCase()})`
  }
  if ('const' in schema) return `\`${JSON.stringify(schema.const)}\``
  if (schema.enum) return schema.enum.map((value) => `\`${JSON.stringify(value)}\``).join(' \\| ')
  for (const key of ['oneOf', 'anyOf']) {
    if (schema[key]) return schema[key].map(schemaType).join(' or ')
  }
  if (schema.type === 'array') return `array of ${schemaType(schema.items) || 'any'}`
  const type = Array.isArray(schema.type) ? schema.type.join(' \\| ') : (schema.type ?? 'any')
  return `\`${type}${schema.format ? ` (${schema.format})` : ''}\``
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now()
  const { written, plugins } = await generateReference()
  process.stdout.write(
    `docs: generated ${written.length} pages for ${plugins.length} plugins and the HTTP API in ${Date.now() - started} ms\n`,
  )
}
