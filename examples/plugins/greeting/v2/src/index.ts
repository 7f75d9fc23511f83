import { definePlugin } from '@kite/sdk'
// The trigger and the condition did not change: 2.0.0 ships the 1.x ones.
import { nameMatches } from '../../src/name-matches.js'
import { visitors } from '../../src/visitors.js'
import { goodbye, hello } from './hello.js'

export default definePlugin({
  group: 'acme.greeting',
  title: 'Greeting',
  description: 'An example plugin: greets people, polls a guest book for visitors, matches names.',
  tasks: [hello, goodbye],
  triggers: [visitors],
  conditions: [nameMatches],
})
