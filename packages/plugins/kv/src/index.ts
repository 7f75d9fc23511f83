import { definePlugin } from '@kite/sdk'
import { deleteKey, get, keys, set } from './kv.js'

export default definePlugin({
  group: 'kite.kv',
  title: 'Key-value store',
  description:
    "Read and write the namespace's key-value store from tasks: set values (with a TTL), get, delete and list keys.",
  tasks: [set, get, deleteKey, keys],
  triggers: [],
  conditions: [],
})
