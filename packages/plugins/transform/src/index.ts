import { definePlugin } from '@kite/sdk'
import { csvToJson, jsonToCsv } from './csv.js'
import { jsonataTask } from './jsonata.js'
import { jsonToYaml, yamlToJson } from './yaml.js'

export default definePlugin({
  group: 'kite.transform',
  title: 'Transform',
  description:
    'Reshape data between tasks: JSONata expressions over values and stored files, CSV to JSON and back, JSON to YAML and back.',
  tasks: [jsonataTask, csvToJson, jsonToCsv, jsonToYaml, yamlToJson],
})
