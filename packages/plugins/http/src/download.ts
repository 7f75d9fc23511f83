import { defineTask, z } from '@kite/sdk'
import { checkStatus, exchange, requestProperties } from './exchange.js'
import { responseFileName, storeBody } from './store-body.js'

export const download = defineTask({
  name: 'Download',
  title: 'Download a file',
  description:
    'Downloads a URL into internal storage, streaming it to disk, and returns the `kite:///` URI of the file. A status of 400 or more fails the task.',
  properties: z.object({
    ...requestProperties,
    fileName: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Name of the stored file. Default: the name the server gives (`Content-Disposition`), else the last segment of the URL.',
      ),
  }),
  outputs: z.object({
    uri: z.string().describe('The `kite:///` URI of the downloaded file.'),
    code: z.number().int().describe('The HTTP status code.'),
    size: z.number().int().describe('The size of the file in bytes.'),
    contentType: z.string().optional().describe('The `Content-Type` the server sent, if any.'),
  }),
  examples: [
    { title: 'Download a CSV export', code: 'uri: https://example.com/exports/daily.csv' },
    {
      title: 'Download with basic auth and a name',
      code: [
        'uri: https://files.example.com/report',
        'fileName: report.pdf',
        'auth:',
        '  type: basic',
        '  username: reporter',
        '  password: "{{ secret(\'FILES_PASSWORD\') }}"',
      ].join('\n'),
    },
  ],
  async run(props, ctx) {
    return exchange(props, ctx, async (response) => {
      await checkStatus(response, props)
      const name = props.fileName ?? responseFileName(response, props.uri, 'download')
      const stored = await storeBody(response, ctx, name)
      ctx.logger.info(`stored ${stored.size} bytes as ${stored.uri}`)
      const contentType = response.headers.get('content-type')
      return { ...stored, code: response.status, ...(contentType ? { contentType } : {}) }
    })
  },
})
