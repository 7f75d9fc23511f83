import { defineTask, KiteError, z } from '@kite/sdk'
import { parseAllDocuments, stringify } from 'yaml'
import {
  jsonFileFormatProperty,
  readJsonInput,
  readTextInput,
  storageUri,
  storeProperty,
  valueOrUriOutputs,
} from './io.js'

export const jsonToYaml = defineTask({
  name: 'JsonToYaml',
  title: 'JSON to YAML',
  description:
    'Writes a JSON value (`value`, or a stored JSON or JSON Lines file `from`) as YAML text, returned as `value` or stored as a `.yaml` file. Strings that YAML 1.1 tools would misread (`yes`, `on`, `2024-01-02`) are quoted.',
  properties: z.object({
    value: z.unknown().optional().describe('The value to write. Set this or `from`.'),
    from: storageUri
      .optional()
      .describe(
        'A stored JSON file, or JSON Lines file (read as a list), as a kite:/// URI. Set this or `value`.',
      ),
    fromFormat: jsonFileFormatProperty,
    indent: z.number().int().min(1).max(8).default(2).describe('Spaces per indentation level.'),
    sortKeys: z.boolean().default(false).describe('Write the keys of every mapping sorted.'),
    store: storeProperty,
  }),
  outputs: valueOrUriOutputs(
    'The YAML text.',
    'The kite:/// URI of the stored YAML file (when `store` is true).',
  ),
  examples: [
    { title: 'Render an object as YAML', code: 'value:\n  name: Ada\n  languages: [en, fr]' },
    {
      title: 'Convert a stored JSON file to a YAML file',
      code: 'from: "{{ outputs.download.uri }}"\nstore: true',
    },
  ],
  async run(props, ctx) {
    const value = await readJsonInput(ctx, props)
    const text =
      value === undefined
        ? ''
        : // compat: quote strings a YAML 1.1 reader would take for booleans, numbers or dates.
          stringify(value, {
            indent: props.indent,
            sortMapEntries: props.sortKeys,
            compat: 'yaml-1.1',
          })
    if (props.store) return { uri: await ctx.storage.put('data.yaml', text) }
    return { value: text }
  },
})

export const yamlToJson = defineTask({
  name: 'YamlToJson',
  title: 'YAML to JSON',
  description:
    'Parses YAML text (`yaml`, or a stored file `from`) into a JSON value, returned as `value` or stored as a `.json` file. Anchors, aliases and `<<` merge keys are resolved (with a cap against alias bombs); YAML 1.2 core schema, so `yes` stays a string.',
  properties: z.object({
    yaml: z.string().optional().describe('The YAML text. Set this or `from`.'),
    from: storageUri
      .optional()
      .describe('A stored YAML file (a kite:/// URI). Set this or `yaml`.'),
    allDocuments: z
      .boolean()
      .default(false)
      .describe(
        'Read every `---`-separated document and return them as a list; otherwise the text must hold one document.',
      ),
    store: storeProperty,
  }),
  outputs: valueOrUriOutputs(
    'The parsed value (a list of documents with `allDocuments`).',
    'The kite:/// URI of the stored JSON file (when `store` is true).',
  ),
  examples: [
    { title: 'Parse inline YAML', code: 'yaml: |\n  name: Ada\n  languages: [en, fr]' },
    {
      title: 'Parse a stored multi-document file',
      code: 'from: "{{ outputs.download.uri }}"\nallDocuments: true\nstore: true',
    },
  ],
  async run(props, ctx) {
    const { text, source } = await readTextInput(ctx, props, 'yaml', 'the YAML')
    const values = parseYaml(text, source)
    if (!props.allDocuments && values.length > 1) {
      throw new KiteError(
        `${source} holds ${values.length} documents; set \`allDocuments: true\` to read them all as a list`,
        { code: 'YAML_INVALID', kind: 'user' },
      )
    }
    const value = props.allDocuments ? values : (values[0] ?? null)
    if (props.store) {
      return { uri: await ctx.storage.put('data.json', `${JSON.stringify(value)}\n`) }
    }
    return { value }
  },
})

function parseYaml(text: string, source: string): unknown[] {
  const documents = parseAllDocuments(text, { schema: 'core', merge: true, prettyErrors: true })
  // parseAllDocuments returns an empty list object for empty input and never throws itself.
  const list = Array.isArray(documents) ? documents : [documents]
  const values: unknown[] = []
  for (const document of list) {
    const [error] = document.errors
    if (error) throw yamlError(error, source)
    try {
      values.push(document.toJS({ maxAliasCount: 100 }))
    } catch (cause) {
      throw yamlError(cause, source)
    }
  }
  return values
}

function yamlError(error: unknown, source: string): KiteError {
  // yaml's messages already say where ("... at line 1, column 4:") before a code excerpt.
  const message = (error instanceof Error ? error.message : String(error))
    .split('\n')[0]
    ?.replace(/:$/, '')
  return new KiteError(`${source} is not valid YAML: ${message}`, {
    code: 'YAML_INVALID',
    kind: 'user',
    cause: error,
  })
}
