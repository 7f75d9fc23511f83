import { definePlugin } from '@kite/sdk'
import { hello } from './hello.js'
import { nameMatches } from './name-matches.js'
import { visitors } from './visitors.js'

export default definePlugin({
  group: 'acme.greeting',
  title: 'Greeting',
  description: 'An example plugin: greets people, polls a guest book for visitors, matches names.',
  tasks: [hello],
  triggers: [visitors],
  conditions: [nameMatches],
})
