import { definePlugin } from '@kite/sdk'
import { query } from './query.js'
import { trigger } from './trigger.js'

export default definePlugin({
  group: 'kite.sqlite',
  title: 'SQLite',
  description:
    'Query SQLite files from flows and start flows on new rows. SQLite runs as WebAssembly inside the plugin: nothing to install, no native addon.',
  tasks: [query],
  triggers: [trigger],
})
