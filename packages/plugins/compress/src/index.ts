import { definePlugin } from '@kite/sdk'
import { archive } from './archive.js'
import { extract } from './extract.js'

export default definePlugin({
  group: 'kite.compress',
  title: 'Compress',
  description:
    'Create and extract zip, tar.gz and tar archives of files in internal storage, safely: no zip slip, no zip bombs.',
  tasks: [archive, extract],
})
