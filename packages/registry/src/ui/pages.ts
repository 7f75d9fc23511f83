import {
  describeJsonType,
  exampleId,
  exampleYaml,
  type JsonSchema,
  listManifestTypes,
  type PluginManifest,
  type TypeKind,
  type TypeManifest,
} from '@kite/sdk/host'
import {
  type SearchField,
  type SearchFilters,
  type SearchMatch,
  TYPE_KINDS,
} from '../catalog-search.js'
import type { PluginDetails, SearchResult } from '../catalog-types.js'
import {
  addedPermissions,
  hasPermissions,
  NO_PERMISSIONS,
  type PackageDocs,
  type PluginPermissions,
} from '../package-docs.js'
import { type ManifestDiff, type SchemaChange, upgradeNotes } from '../schema-diff.js'
import { type DocsLinks, docsReferenceUrl } from './docs-links.js'
import { html, inlineMarkdown, paragraphs, type SafeHtml } from './html.js'
import { formatDate, UI_BASE } from './layout.js'
import { renderMarkdown } from './markdown.js'

/** `@acme/x` → `@acme/x` with each segment URL-encoded but the scope's `@` kept readable. */
export function namePath(name: string): string {
  return name
    .split('/')
    .map((part) => encodeURIComponent(part).replace(/^%40/, '@'))
    .join('/')
}

export function pluginUrl(name: string, version?: string): string {
  const base = `${UI_BASE}/plugins/${namePath(name)}`
  return version ? `${base}?version=${encodeURIComponent(version)}` : base
}

export function typeUrl(type: string, version?: string): string {
  const base = `${UI_BASE}/types/${encodeURIComponent(type)}`
  return version ? `${base}?version=${encodeURIComponent(version)}` : base
}

export function diffUrl(name: string, from: string, to: string): string {
  return `${UI_BASE}/plugins/${namePath(name)}/diff?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`
}

// --- search -----------------------------------------------------------------------------------

export interface SearchPageData {
  result: SearchResult
  stats: { plugins: number; versions: number; types: number }
}

export function searchPage({ result, stats }: SearchPageData): SafeHtml {
  const { query, page, size, total, results, filters } = result
  const pages = Math.max(1, Math.ceil(total / size))
  const filtered = Object.values(filters).some((value) => value !== undefined)
  const pageLink = (target: number) =>
    `${UI_BASE}/?${new URLSearchParams({ ...(query ? { q: query } : {}), ...filters, page: String(target) })}`
  const heading =
    query || filtered
      ? html`<h1>${total} ${total === 1 ? 'result' : 'results'}${query ? html` for “${query}”` : ''}</h1>`
      : html`<h1>Find a plugin</h1>
<p>Tasks, triggers and conditions for Kite flows — every version documented, every upgrade diffed.</p>
<div class="stats"><span><b>${stats.plugins}</b> plugins</span><span><b>${stats.versions}</b> versions</span><span><b>${stats.types}</b> types</span></div>`
  const list =
    results.length === 0
      ? html`<div class="card empty">${query ? html`No plugin matches “${query}”. Try a group such as <code>kite.http</code>, a type name, or a word from a description.` : 'No plugins have been published yet. Publish one with npm publish.'}</div>`
      : html`<div class="cards" id="results">${results.map(
          (plugin) => html`<a class="card result" href="${pluginUrl(plugin.name)}">
<div class="card-head"><span class="card-title">${plugin.title}</span><span class="name">${plugin.name}</span>
<span class="badge">${plugin.latest}</span>${plugin.deprecated ? html`<span class="badge deprecated">deprecated</span>` : ''}</div>
<div class="desc">${inlineMarkdown(plugin.description || 'No description.')}</div>
<div class="chips"><span class="chip">${plugin.group}</span>${plugin.types.slice(0, 6).map((type) => html`<span class="chip">${type.slice(plugin.group.length + 1)}</span>`)}${plugin.typeCount > 6 ? html`<span class="chip">+${plugin.typeCount - 6}</span>` : ''}
<span class="muted" style="margin-left:auto;font-size:13px">${plugin.versionCount} ${plugin.versionCount === 1 ? 'version' : 'versions'} · updated ${formatDate(plugin.updated)}</span></div>
${matchedLine(plugin.matches)}</a>`,
        )}</div>`
  const pager =
    pages > 1
      ? html`<nav class="pager">${page > 1 ? html`<a class="button ghost" href="${pageLink(page - 1)}">← Previous</a>` : ''}
<span class="muted">Page ${page} of ${pages}</span>${page < pages ? html`<a class="button ghost" href="${pageLink(page + 1)}">Next →</a>` : ''}</nav>`
      : ''
  return html`<section class="hero">${heading}${result.problems?.map((problem) => html`<div class="notice warn">${problem}</div>`)}${filterForm(query, filters)}</section>${list}${pager}`
}

const FIELD_LABELS: Record<SearchField, string> = {
  name: 'name',
  group: 'group',
  type: 'type',
  title: 'title',
  keyword: 'keyword',
  description: 'description',
}

/**
 * “Matched type kite.chat.SlackWebhook (slak ≈ slack)”: the best reason for each word typed
 * first, then others, at most three, one per text.
 */
function matchedLine(matches: readonly SearchMatch[]): SafeHtml {
  const seen = new Set<string>()
  const words = new Set<string>()
  const unique = matches.filter((match) => {
    const key = `${match.field}\u0000${match.value}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
  const firstPerWord = unique.filter((match) => !words.has(match.query) && words.add(match.query))
  const shown = [...firstPerWord, ...unique.filter((match) => !firstPerWord.includes(match))]
  if (shown.length === 0) return html``
  return html`<div class="matched">Matched ${shown
    .slice(0, 3)
    .map(
      (match, index) =>
        html`${index > 0 ? ' · ' : ''}<span class="why" data-field="${match.field}" data-how="${match.how}">${FIELD_LABELS[match.field]} <code>${match.value}</code>${match.how === 'exact' ? '' : html` <span class="muted">(${match.query} ${match.how === 'fuzzy' ? '≈' : '→'} ${match.term})</span>`}</span>`,
    )}${shown.length > 3 ? html` <span class="muted">+${shown.length - 3} more</span>` : ''}</div>`
}

/** Kind, group and keyword filters: a plain GET form, so it works without JavaScript. */
function filterForm(query: string, filters: SearchFilters): SafeHtml {
  return html`<form class="filters" action="${UI_BASE}/" method="get" id="filters">
<input type="hidden" name="q" value="${query}">
<label>Kind <select name="kind"><option value="">any</option>${TYPE_KINDS.map(
    (kind) =>
      html`<option value="${kind}"${filters.kind === kind ? html` selected` : ''}>${kind}</option>`,
  )}</select></label>
<label>Group <input name="group" value="${filters.group ?? ''}" placeholder="kite.http" size="12"></label>
<label>Keyword <input name="keyword" value="${filters.keyword ?? ''}" placeholder="slack" size="10"></label>
<button type="submit" class="ghost">Filter</button></form>`
}

// --- plugin -----------------------------------------------------------------------------------

export interface PluginPageData {
  plugin: PluginDetails
  manifest: PluginManifest
  version: string
  registryUrl: string
  /** README, CHANGELOG, icon, links, permissions (absent for versions indexed before them). */
  docs: PackageDocs | undefined
  /** The docs site, for a link to this version's reference page. */
  docsSite?: DocsLinks | undefined
}

export function pluginPage({
  plugin,
  manifest,
  version,
  registryUrl,
  docs,
  docsSite,
}: PluginPageData): SafeHtml {
  const reference = docsReferenceUrl(docsSite, {
    name: plugin.name,
    group: manifest.group,
    version,
  })
  const current = plugin.versions.find((item) => item.version === version)
  const isLatest = version === plugin.latest
  const types = listManifestTypes(manifest)
  const older = plugin.versions[plugin.versions.findIndex((item) => item.version === version) + 1]
  const compareFrom =
    older?.version ?? plugin.versions[plugin.versions.length - 1]?.version ?? version
  return html`<div class="crumbs"><a href="${UI_BASE}/">Plugins</a> / ${plugin.name}</div>
<div class="layout"><div>
<div class="title-row">${pluginIcon(manifest.title, docs?.icon)}<h1>${manifest.title}</h1>
<span class="badge" id="current-version">${version}</span>
${isLatest ? html`<span class="badge latest">latest</span>` : ''}
${current?.deprecated ? html`<span class="badge deprecated">deprecated</span>` : ''}
${versionSwitcher(
  pluginUrl(plugin.name),
  plugin.versions.map((item) => item.version),
  version,
  plugin.latest,
)}</div>
<div class="subtitle"><span class="name">${plugin.name}</span><span class="chip">${manifest.group}</span>
${current ? html`<span>published ${formatDate(current.published)}</span>` : ''}</div>
${current?.deprecated ? html`<div class="notice bad"><strong>Deprecated:</strong> ${current.deprecated}</div>` : ''}
${!isLatest ? html`<div class="notice warn">You are viewing an older version. The latest is <a href="${pluginUrl(plugin.name)}">${plugin.latest}</a> — <a href="${diffUrl(plugin.name, version, plugin.latest)}">see what changed</a>.</div>` : ''}
${manifest.description ? paragraphs(manifest.description) : html`<p class="muted">No description.</p>`}
${older ? html`<p><a href="${diffUrl(plugin.name, older.version, version)}" id="changed-since">What changed since ${older.version}</a></p>` : ''}
${reference ? html`<p><a href="${reference}" id="docs-reference">Reference for ${version} in the docs</a></p>` : ''}
<h2>Types <span class="muted" style="font-weight:400">(${types.length})</span></h2>
<div class="table"><table id="types"><thead><tr><th>Type</th><th>Kind</th><th>Description</th></tr></thead><tbody>
${types.map(
  ({
    kind,
    entry,
  }) => html`<tr><td><a href="${typeUrl(entry.type, version)}"><code>${entry.type}</code></a>${entry.deprecated ? html` <span class="badge deprecated">deprecated</span>` : ''}</td>
<td><span class="badge kind">${kind}</span></td><td><strong>${entry.title}</strong>${entry.description ? html`<br><span class="muted">${inlineMarkdown(firstSentence(entry.description))}</span>` : ''}</td></tr>`,
)}
</tbody></table></div>
<h2>Versions <span class="muted" style="font-weight:400">(${plugin.versions.length})</span></h2>
<div class="table"><table class="versions" id="versions"><thead><tr><th>Version</th><th>Published</th><th>Types</th><th></th></tr></thead><tbody>
${plugin.versions.map((item, index) => {
  const previous = plugin.versions[index + 1]
  return html`<tr><td class="v"><a href="${pluginUrl(plugin.name, item.version)}">${item.version}</a>
${item.version === plugin.latest ? html` <span class="badge latest">latest</span>` : ''}${Object.entries(
  plugin.distTags,
)
  .filter(([tag, tagged]) => tagged === item.version && tag !== 'latest')
  .map(([tag]) => html` <span class="badge">${tag}</span>`)}
${item.deprecated ? html` <span class="badge deprecated" title="${item.deprecated}">deprecated</span>` : ''}</td>
<td>${formatDate(item.published)}${item.deprecated ? html`<br><span class="muted">${item.deprecated}</span>` : ''}</td><td>${item.types.length}</td>
<td style="white-space:nowrap">${previous ? html`<a href="${diffUrl(plugin.name, previous.version, item.version)}">diff from ${previous.version}</a>` : html`<span class="muted">first version</span>`}</td></tr>`
})}
</tbody></table></div>
${
  plugin.versions.length > 1
    ? html`<h2>Compare versions</h2>
<form class="inline" action="${pluginUrl(plugin.name)}/diff" method="get" id="compare">
<label>from ${versionSelect(
        'from',
        plugin.versions.map((item) => item.version),
        compareFrom,
      )}</label>
<label>to ${versionSelect(
        'to',
        plugin.versions.map((item) => item.version),
        version,
      )}</label>
<button type="submit">Compare</button></form>`
    : ''
}
${docs?.readme ? html`<h2>README</h2><div class="card prose" id="readme">${renderMarkdown(docs.readme)}</div>` : ''}
${docs?.changelog ? html`<h2>Changelog</h2><div class="card prose" id="changelog">${renderMarkdown(docs.changelog)}</div>` : ''}
</div>
<aside>
<div class="card"><h3>Install</h3><div class="snippet wrap"><pre><code id="install-snippet">kite plugins install ${plugin.name}@${version}</code></pre></div>
<p class="muted snippet-note" style="font-size:13px;margin:12px 0 8px">Into a running Kite server. With npm, into a project:</p>
<div class="snippet wrap secondary"><pre><code id="npm-snippet">npm install ${plugin.name}@${version} --registry ${registryUrl}</code></pre></div></div>
${permissionsCard(docs?.permissions)}
<div class="card"><h3>Pin this version in a flow</h3><div class="snippet"><pre><code id="pin-snippet">${pinSnippet(manifest, version)}</code></pre></div>
<p class="muted" style="font-size:13px;margin:10px 0 0">Per task with <code>version</code>, or for the whole group with <code>pluginDefaults</code>.</p></div>
<div class="card"><h3>Details</h3><dl class="meta">
<dt>Group</dt><dd><code>${manifest.group}</code></dd>
<dt>Latest</dt><dd>${plugin.latest}</dd>
<dt>@kite/sdk</dt><dd><code>${manifest.sdkRange}</code></dd>
${docs?.homepage ? html`<dt>Homepage</dt><dd><a href="${docs.homepage}" rel="nofollow noopener" id="homepage">${shortUrl(docs.homepage)}</a></dd>` : ''}
${docs?.repository ? html`<dt>Repository</dt><dd><a href="${docs.repository}" rel="nofollow noopener" id="repository">${shortUrl(docs.repository)}</a></dd>` : ''}
<dt>Maintainers</dt><dd>${plugin.maintainers.join(', ') || '—'}</dd>
${manifest.keywords.length ? html`<dt>Keywords</dt><dd>${manifest.keywords.join(', ')}</dd>` : ''}
<dt>Integrity</dt><dd><code style="font-size:11px">${shortIntegrity(current?.integrity ?? '')}</code></dd>
<dt>API</dt><dd><a href="${UI_BASE}/api/v1/plugins/${namePath(plugin.name)}/${encodeURIComponent(version)}">manifest JSON</a></dd>
</dl></div>
</aside></div>`
}

function pinSnippet(manifest: PluginManifest, version: string): string {
  const types = listManifestTypes(manifest)
  const pick =
    types.find((item) => item.kind === 'task') ?? types.find((item) => item.kind === 'trigger')
  const lines: string[] = []
  if (pick) {
    const section = pick.kind === 'task' ? 'tasks' : 'triggers'
    lines.push(
      `${section}:`,
      `  - id: ${exampleId(pick.entry)}`,
      `    type: ${pick.entry.type}`,
      `    version: "${version}"`,
      '',
    )
  }
  lines.push(
    'pluginDefaults:',
    `  - type: ${manifest.group}`,
    '    values:',
    `      version: "${version}"`,
  )
  return lines.join('\n')
}

// --- type -------------------------------------------------------------------------------------

export interface TypePageData {
  plugin: PluginDetails
  manifest: PluginManifest
  kind: TypeKind
  entry: TypeManifest
  version: string
  /** Versions of the plugin that provide this type, newest first. */
  versions: string[]
  /** The docs site, for a link to this version's reference page of the type. */
  docsSite?: DocsLinks | undefined
}

export function typePage({
  plugin,
  manifest,
  kind,
  entry,
  version,
  versions,
  docsSite,
}: TypePageData): SafeHtml {
  const reference = docsReferenceUrl(
    docsSite,
    { name: plugin.name, group: manifest.group, version },
    entry.type,
  )
  const isLatest = version === plugin.latest
  const versionDeprecation = plugin.versions.find((item) => item.version === version)?.deprecated
  return html`<div class="crumbs"><a href="${UI_BASE}/">Plugins</a> / <a href="${pluginUrl(plugin.name, version)}">${manifest.title}</a> / ${entry.name}</div>
<div class="title-row"><h1>${entry.title}</h1><span class="badge kind">${kind}</span>
${versionSwitcher(typeUrl(entry.type), versions, version, plugin.latest)}</div>
<div class="subtitle"><code>${entry.type}</code><span>from <a href="${pluginUrl(plugin.name, version)}">${plugin.name}@${version}</a></span>
${isLatest ? html`<span class="badge latest">latest</span>` : html`<span class="badge">older version</span>`}</div>
${entry.deprecated ? html`<div class="notice bad"><strong>Deprecated</strong>${typeof entry.deprecated === 'string' ? html`: ${inlineMarkdown(entry.deprecated)}` : ''}</div>` : ''}
${versionDeprecation ? html`<div class="notice bad"><strong>${plugin.name}@${version} is deprecated:</strong> ${versionDeprecation}</div>` : ''}
${entry.description ? paragraphs(entry.description) : ''}
${reference ? html`<p><a href="${reference}" id="docs-reference">Reference for ${version} in the docs</a></p>` : ''}
${'interval' in entry ? html`<p>Polls every <code>${entry.interval}</code> unless the flow sets <code>interval</code>.</p>` : ''}
<h2>Properties</h2>
${propertiesTable(entry.properties, 'properties')}
${'outputs' in entry ? html`<h2>${kind === 'trigger' ? html`Event (<code>trigger.*</code>)` : 'Outputs'}</h2>${outputsTable(entry.outputs)}` : ''}
${
  entry.examples.length > 0
    ? html`<h2>Examples</h2>${entry.examples.map(
        (example) =>
          html`<h3>${example.title}</h3><div class="snippet"><pre><code>${exampleYaml(example, entry, kind)}</code></pre></div>`,
      )}`
    : ''
}
<p class="muted" style="margin-top:28px;font-size:13px">Also as <a href="${UI_BASE}/api/v1/plugins/${namePath(plugin.name)}/${encodeURIComponent(version)}/docs/${encodeURIComponent(entry.type)}">Markdown</a>
· <a href="${UI_BASE}/api/v1/plugins/${namePath(plugin.name)}/${encodeURIComponent(version)}">manifest JSON</a></p>`
}

function propertiesTable(schema: JsonSchema, id: string): SafeHtml {
  const rows = flattenProperties(schema)
  if (rows.length === 0) return html`<p class="muted">None.</p>`
  return html`<div class="table"><table id="${id}"><thead><tr><th>Name</th><th>Type</th><th>Default</th><th>Dynamic</th><th>Description</th></tr></thead><tbody>
${rows.map(
  ({
    path,
    property,
    required,
  }) => html`<tr><td><code>${path}</code>${required ? html` <span class="req" title="required">*</span>` : ''}</td>
<td><code>${describeJsonType(property)}</code></td>
<td>${property.default === undefined ? html`<span class="muted">—</span>` : html`<code>${JSON.stringify(property.default)}</code>`}</td>
<td>${property.$dynamic === false ? 'no' : 'yes'}</td>
<td>${describe(property, path)}</td></tr>`,
)}
</tbody></table></div><p class="muted" style="font-size:13px;margin-top:8px"><span class="req">*</span> required · dynamic properties render <code>{{ }}</code> expressions</p>`
}

function outputsTable(schema: JsonSchema): SafeHtml {
  const rows = flattenProperties(schema)
  if (rows.length === 0) return html`<p class="muted">None.</p>`
  return html`<div class="table"><table id="outputs"><thead><tr><th>Name</th><th>Type</th><th>Description</th></tr></thead><tbody>
${rows.map(
  ({
    path,
    property,
    required,
  }) => html`<tr><td><code>${path}</code>${required ? '' : html` <span class="muted">(optional)</span>`}</td>
<td><code>${describeJsonType(property)}</code></td><td>${describe(property, path)}</td></tr>`,
)}
</tbody></table></div>`
}

function describe(property: JsonSchema, path: string): SafeHtml {
  const name = path.split('.').pop() ?? path
  return html`${property.title && property.title !== name ? html`<strong>${property.title}.</strong> ` : ''}${inlineMarkdown(property.description ?? '')}${property.$deprecated ? html` <span class="badge deprecated">deprecated</span>` : ''}`
}

interface PropertyRow {
  path: string
  property: JsonSchema
  required: boolean
}

/** Top-level properties, and one level of the properties of nested objects (`a.b`). */
function flattenProperties(schema: JsonSchema, prefix = '', depth = 0): PropertyRow[] {
  const required = new Set(schema.required ?? [])
  const rows: PropertyRow[] = []
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const path = prefix ? `${prefix}.${name}` : name
    rows.push({ path, property, required: required.has(name) })
    if (depth < 1 && property.type === 'object' && property.properties) {
      rows.push(...flattenProperties(property, path, depth + 1))
    }
  }
  return rows
}

// --- diff -------------------------------------------------------------------------------------

export interface DiffPageData {
  plugin: PluginDetails
  diff: ManifestDiff
  /** The newer version's manifest: its migrations and aliases say what an upgrade rewrites. */
  toManifest: PluginManifest
  /** Permissions of both versions (none when a version was indexed before they were kept). */
  permissions: { from: PluginPermissions; to: PluginPermissions }
}

export function diffPage({ plugin, diff, toManifest, permissions }: DiffPageData): SafeHtml {
  const more = addedPermissions(permissions.from, permissions.to)
  const migrations = upgradeNotes(toManifest, diff.from)
  const versions = plugin.versions.map((item) => item.version)
  const groups = new Map<string, SchemaChange[]>()
  for (const change of diff.changes) {
    const list = groups.get(change.type) ?? []
    list.push(change)
    groups.set(change.type, list)
  }
  const ordered = [...groups.entries()].sort(
    ([a, left], [b, right]) =>
      Number(right.some((c) => c.breaking)) - Number(left.some((c) => c.breaking)) ||
      a.localeCompare(b),
  )
  return html`<div class="crumbs"><a href="${UI_BASE}/">Plugins</a> / <a href="${pluginUrl(plugin.name)}">${plugin.title}</a> / diff</div>
<div class="title-row"><h1>${diff.from} → ${diff.to}</h1></div>
<div class="subtitle"><span class="name">${plugin.name}</span><span>schema changes between two versions</span></div>
<form class="inline" action="${pluginUrl(plugin.name)}/diff" method="get" id="compare">
<label>from ${versionSelect('from', versions, diff.from)}</label>
<label>to ${versionSelect('to', versions, diff.to)}</label>
<button type="submit">Compare</button></form>
<div class="summary" id="summary"><span class="badge breaking">${diff.counts.breaking} breaking</span><span class="badge compatible">${diff.counts.nonBreaking} compatible</span></div>
${
  diff.changes.length === 0
    ? html`<div class="notice ok">No schema changes: flows written for ${diff.from} work unchanged with ${diff.to}.</div>`
    : diff.breaking
      ? html`<div class="notice bad">Upgrading from ${diff.from} to ${diff.to} may break flows. Review the breaking changes highlighted below, or keep flows pinned to <code>version: "${diff.from}"</code>.</div>`
      : html`<div class="notice ok">No breaking changes: flows written for ${diff.from} keep working with ${diff.to}.</div>`
}
${hasPermissions(more) ? html`<div class="notice bad" id="more-permissions"><strong>${diff.to} asks for more permissions than ${diff.from}:</strong> ${permissionItems(more)}</div>` : ''}
${
  migrations.length > 0
    ? html`<h2>Migrations</h2><p class="muted">What upgrading a flow from ${diff.from} to ${diff.to} rewrites (the runtime's upgrade assistant applies these).</p>
<div class="table"><table id="migrations"><tbody>${migrations.map(
        (note) =>
          html`<tr><td><a href="${typeUrl(note.type, diff.to)}"><code>${note.type}</code></a></td><td>${inlineMarkdown(note.note)}</td><td class="muted" style="white-space:nowrap">from ${note.from}</td></tr>`,
      )}</tbody></table></div>`
    : ''
}
${ordered.map(
  ([
    type,
    changes,
  ]) => html`<h2>${type ? html`<a href="${typeUrl(type, changes.some((c) => c.kind === 'type-removed') ? diff.from : diff.to)}"><code>${type}</code></a>` : 'Plugin'}</h2>
<div class="table"><table class="changes"><tbody>
${changes.map(
  (
    change,
  ) => html`<tr class="${change.breaking ? 'row-breaking' : 'row-compatible'}"><td>${change.breaking ? html`<span class="badge breaking">breaking</span>` : html`<span class="badge compatible">compatible</span>`}</td>
<td>${inlineMarkdown(change.message)}</td><td>${change.path ? html`<code>${change.path}</code>` : ''}</td></tr>`,
)}
</tbody></table></div>`,
)}`
}

// --- permissions ------------------------------------------------------------------------------

function permissionsCard(permissions: PluginPermissions | undefined): SafeHtml {
  const granted = permissions ?? NO_PERMISSIONS
  return html`<div class="card" id="permissions"><h3>Permissions</h3>${
    hasPermissions(granted)
      ? html`<p style="margin:0">${permissionItems(granted)}</p>`
      : html`<p class="muted" style="margin:0">None asked: no child processes, files or environment variables.</p>`
  }</div>`
}

function permissionItems(permissions: PluginPermissions): SafeHtml {
  const items: SafeHtml[] = []
  if (permissions.childProcess) items.push(html`<span class="perm">runs child processes</span>`)
  const list = (label: string, values: string[]) => {
    if (values.length > 0)
      items.push(
        html`<span class="perm">${label} ${values.map((value, index) => html`${index > 0 ? ', ' : ''}<code>${value}</code>`)}</span>`,
      )
  }
  list('reads files in', permissions.fsRead)
  list('writes files in', permissions.fsWrite)
  list('reads environment variables', permissions.env)
  return html`${items}`
}

// --- shared -----------------------------------------------------------------------------------

/** The package's own SVG icon (in an `<img>`, where SVG runs no script), or its initial. */
function pluginIcon(title: string, icon: string | undefined): SafeHtml {
  if (icon) return html`<img class="plugin-icon" id="plugin-icon" src="${icon}" alt="">`
  const initial = [...title.trim()][0]?.toUpperCase() ?? '?'
  return html`<span class="plugin-icon fallback" id="plugin-icon" aria-hidden="true">${initial}</span>`
}

function shortUrl(url: string): string {
  const text = url.replace(/^https?:\/\//, '').replace(/\/$/, '')
  return text.length > 40 ? `${text.slice(0, 39)}…` : text
}

function versionSwitcher(
  action: string,
  versions: string[],
  current: string,
  latest: string,
): SafeHtml {
  if (versions.length <= 1) return html``
  return html`<form class="switcher" action="${action}" method="get" id="version-switcher">
<label class="muted" for="version-select" style="font-size:13px">Version</label>
<select name="version" id="version-select" data-autosubmit>${versions.map(
    (version) =>
      html`<option value="${version}"${version === current ? html` selected` : ''}>${version}${version === latest ? ' (latest)' : ''}</option>`,
  )}</select><button type="submit" class="ghost" data-nojs>Go</button></form>`
}

function versionSelect(name: string, versions: string[], selected: string): SafeHtml {
  return html`<select name="${name}">${versions.map(
    (version) =>
      html`<option value="${version}"${version === selected ? html` selected` : ''}>${version}</option>`,
  )}</select>`
}

function firstSentence(text: string): string {
  const line = text.split('\n')[0] ?? ''
  return line.length > 160 ? `${line.slice(0, 157)}…` : line
}

function shortIntegrity(integrity: string): string {
  return integrity.length > 30 ? `${integrity.slice(0, 27)}…` : integrity
}

export function notFoundPage(what: string, heading = 'Not found'): SafeHtml {
  return html`<div class="card empty"><h1>${heading}</h1><p>${what}</p><p><a href="${UI_BASE}/">Back to all plugins</a></p></div>`
}
