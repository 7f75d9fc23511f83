import { definePlugin } from '@kite/sdk'
import { copy, move } from './copy-move.js'
import { deleteFile } from './delete.js'
import { fileCreated } from './file-created.js'
import { list } from './list.js'
import { read, write } from './read-write.js'

export default definePlugin({
  group: 'kite.fs',
  title: 'Files',
  description:
    'Read, write, list, copy, move and delete local files, and trigger on new files — only under the allowed roots the instance configures (`allowedRoots`), never outside them.',
  tasks: [read, write, list, copy, move, deleteFile],
  triggers: [fileCreated],
  conditions: [],
  // The roots the operator configures are the only directories it touches (SPEC 6 sandbox).
  permissions: { fsRead: ['config:allowedRoots'], fsWrite: ['config:allowedRoots'] },
})
