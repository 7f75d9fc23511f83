import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { simplePlugin } from '../test/fixtures/plugins.js'
import {
  createUser,
  listStoredFiles,
  publishPlugin,
  recordingLogger,
  startTestRegistry,
  type TestRegistry,
} from '../test/helpers.js'

const README = '# Backfilled\n\nRead from the tarball on start.\n'

let t: TestRegistry | undefined
afterEach(async () => {
  await t?.close()
  t = undefined
})

/** Makes the catalog look like one written before it kept docs: every version's docs NULL. */
function forgetDocs(storage: string): void {
  const db = new Database(join(storage, 'catalog.db'))
  try {
    db.prepare('UPDATE versions SET docs = NULL').run()
  } finally {
    db.close()
  }
}

describe('versions indexed before the catalog kept docs', () => {
  it('get their README and permissions from their tarball on the next start', async () => {
    t = await startTestRegistry()
    const token = await createUser(t.registry.url, 'alice')
    for (const version of ['1.0.0', '1.1.0']) {
      await publishPlugin(t.registry.url, token, {
        name: '@acme/kite-plugin-old',
        version,
        plugin: simplePlugin('acme.old', 'Old'),
        extraFiles: { 'README.md': README },
      })
    }
    await t.registry.close()
    forgetDocs(t.storage)
    const { logger, warnings } = recordingLogger()
    // One version's tarball is gone: that one stays without docs, with a warning, and the
    // registry starts anyway.
    const gone = (await listStoredFiles(t.storage)).find((file) => file.endsWith('-1.0.0.tgz'))
    expect(gone).toBeDefined()
    await rm(join(t.storage, 'packages', gone as string))
    const url = (await t.restart({ logger })).url
    const page = await (
      await fetch(`${url}/-/kite/plugins/@acme/kite-plugin-old?version=1.1.0`)
    ).text()
    expect(page).toContain('id="readme"')
    expect(page).toContain('Read from the tarball on start.')
    const old = await fetch(`${url}/-/kite/plugins/@acme/kite-plugin-old?version=1.0.0`)
    expect(old.status).toBe(200)
    expect(await old.text()).not.toContain('id="readme"')
    expect(warnings.join('\n')).toContain('@acme/kite-plugin-old@1.0.0 has no tarball in storage')
  })
})
