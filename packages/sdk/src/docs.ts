import { describeJsonType, type JsonSchema } from './json-schema.js'
import {
  listManifestTypes,
  type PluginManifest,
  type TypeKind,
  type TypeManifest,
} from './manifest.js'

/**
 * Renders the Markdown reference page of one type of a plugin version: what it does, its
 * properties (type, default, required, dynamic), its outputs and its examples.
 */
export function renderTypeMarkdown(manifest: PluginManifest, type: string): string {
  const found = listManifestTypes(manifest).find(({ entry }) => entry.type === type)
  if (!found) throw new Error(`${manifest.name}@${manifest.version} has no type "${type}"`)
  const { kind, entry } = found
  const lines: string[] = [
    `# ${entry.title}`,
    '',
    `\`${entry.type}\` · ${kind} · \`${manifest.name}@${manifest.version}\``,
    '',
  ]
  if (entry.deprecated) {
    const note = typeof entry.deprecated === 'string' ? `: ${entry.deprecated}` : ''
    lines.push(`> **Deprecated**${note}`, '')
  }
  if (entry.description) lines.push(entry.description, '')
  if ('interval' in entry)
    lines.push(`Polls every \`${entry.interval}\` unless the flow sets \`interval\`.`, '')
  lines.push('## Properties', '', ...propertiesTable(entry.properties, true), '')
  if ('outputs' in entry) {
    lines.push(kind === 'trigger' ? '## Event (`trigger.*`)' : '## Outputs', '')
    lines.push(...propertiesTable(entry.outputs, false), '')
  }
  if (entry.examples.length > 0) {
    lines.push('## Examples', '')
    for (const example of entry.examples) {
      lines.push(
        `### ${example.title}`,
        '',
        '```yaml',
        exampleYaml(example, entry, kind),
        '```',
        '',
      )
    }
  }
  return `${lines.join('\n').trimEnd()}\n`
}

/** Renders the overview page of a plugin version: what it is and a table of its types. */
export function renderPluginMarkdown(manifest: PluginManifest): string {
  const lines = [
    `# ${manifest.title}`,
    '',
    `\`${manifest.name}@${manifest.version}\` · group \`${manifest.group}\` · built for \`@kite/sdk ${manifest.sdkRange}\``,
    '',
  ]
  if (manifest.description) lines.push(manifest.description, '')
  lines.push('| Type | Kind | Description |', '| --- | --- | --- |')
  for (const { kind, entry } of listManifestTypes(manifest)) {
    lines.push(`| \`${entry.type}\` | ${kind} | ${cell(entry.title)} |`)
  }
  return `${lines.join('\n')}\n`
}

function propertiesTable(schema: JsonSchema, withInputColumns: boolean): string[] {
  const properties = Object.entries(schema.properties ?? {})
  if (properties.length === 0) return ['_None._']
  const required = new Set(schema.required ?? [])
  const head = withInputColumns
    ? [
        '| Name | Type | Default | Required | Dynamic | Description |',
        '| --- | --- | --- | --- | --- | --- |',
      ]
    : ['| Name | Type | Description |', '| --- | --- | --- |']
  const rows = properties.map(([name, property]) => {
    const description = cell(
      [
        property.title && property.title !== name ? `**${property.title}.**` : '',
        property.description ?? '',
      ]
        .concat(property.$deprecated ? ['_Deprecated._'] : [])
        .filter(Boolean)
        .join(' '),
    )
    const type = cell(`\`${describeJsonType(property)}\``)
    if (!withInputColumns) return `| \`${name}\` | ${type} | ${description} |`
    const defaultValue =
      property.default === undefined ? '' : cell(`\`${JSON.stringify(property.default)}\``)
    const isRequired = required.has(name) ? 'yes' : 'no'
    const dynamic = property.$dynamic === false ? 'no' : 'yes'
    return `| \`${name}\` | ${type} | ${defaultValue} | ${isRequired} | ${dynamic} | ${description} |`
  })
  return [...head, ...rows]
}

/** The task (or trigger) id examples use: the type's last name segment, lower-cased. */
export function exampleId(entry: Pick<TypeManifest, 'name'>): string {
  return entry.name.split('.').pop()?.toLowerCase() ?? 'task'
}

/**
 * An example as a complete task (or trigger, or condition) block: a partial one gains its `id`
 * (conditions have none) and `type`; a `full` one is shown as written. The reference pages and
 * the registry's browse UI show the same YAML.
 */
export function exampleYaml(
  example: { code: string; full?: boolean },
  entry: Pick<TypeManifest, 'name' | 'type'>,
  kind: TypeKind,
): string {
  const code = example.code.trimEnd()
  if (example.full) return code
  const id = kind === 'condition' ? '' : `id: ${exampleId(entry)}\n`
  return `${id}type: ${entry.type}\n${code}`
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ')
}
