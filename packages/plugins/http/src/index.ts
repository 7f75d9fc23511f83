import { definePlugin } from '@kite/sdk'
import { download } from './download.js'
import { request } from './request.js'
import { trigger } from './trigger.js'

export default definePlugin({
  group: 'kite.http',
  title: 'HTTP',
  description:
    'Call HTTP APIs from flows: requests with basic or bearer auth, JSON bodies and timeouts; downloads streamed into internal storage; and a trigger that polls a URL until its response matches a condition.',
  tasks: [request, download],
  triggers: [trigger],
  conditions: [],
})
