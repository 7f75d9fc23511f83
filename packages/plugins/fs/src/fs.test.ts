import { mkdir, mkdtemp, readFile, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { guardOutputs, invokeTask, outputsJsonSchema } from '@kite/sdk/host'
import { createTestContext, pollTrigger, runTask } from '@kite/sdk/testing'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { copy, move } from './copy-move.js'
import { deleteFile } from './delete.js'
import { fileCreated } from './file-created.js'
import { list } from './list.js'
import { read, write } from './read-write.js'

const base = await realpath(await mkdtemp(join(tmpdir(), 'kite-fs-test-')))
const root = join(base, 'root')
const outside = join(base, 'outside')
const config = { pluginConfig: { allowedRoots: [root] } }

beforeEach(async () => {
  await rm(base, { recursive: true, force: true })
  await mkdir(join(root, 'inbox', 'deep'), { recursive: true })
  await mkdir(outside, { recursive: true })
  await writeFile(join(root, 'inbox', 'a.csv'), 'a,b\n1,2\n')
  await writeFile(join(root, 'inbox', 'b.txt'), 'hello')
  await writeFile(join(root, 'inbox', 'deep', 'c.csv'), 'c\n')
  await writeFile(join(outside, 'secret.txt'), 'top secret')
  await symlink(outside, join(root, 'escape'))
  await symlink(join(outside, 'secret.txt'), join(root, 'secret-link'))
  await symlink(join(root, 'inbox', 'b.txt'), join(root, 'inbox', 'b-link.txt'))
})

afterAll(async () => {
  await rm(base, { recursive: true, force: true })
})

describe('allowed roots', () => {
  it('makes every task and the trigger fail without configuration, saying how to configure', async () => {
    const runs = [
      runTask(read, { path: join(root, 'inbox', 'a.csv') }),
      runTask(write, { path: join(root, 'x.txt'), content: 'x' }),
      runTask(list, { path: root }),
      runTask(copy, { from: join(root, 'inbox', 'a.csv'), to: join(root, 'x.csv') }),
      runTask(move, { from: join(root, 'inbox', 'a.csv'), to: join(root, 'x.csv') }),
      runTask(deleteFile, { path: join(root, 'inbox', 'a.csv') }),
      pollTrigger(fileCreated, { directory: root }),
    ]
    // Settle them all at once: a rejection left unobserved while awaiting another is unhandled.
    const results = await Promise.allSettled(runs)
    for (const result of results) {
      expect(result.status).toBe('rejected')
      expect((result as PromiseRejectedResult).reason).toMatchObject({
        code: 'FS_NOT_CONFIGURED',
        message: expect.stringContaining(
          'plugins:\n  configurations:\n    - type: kite.fs\n      values:\n        allowedRoots:',
        ),
      })
    }
    expect(await readFile(join(root, 'inbox', 'a.csv'), 'utf8')).toBe('a,b\n1,2\n')
  })

  it('refuses relative and missing roots', async () => {
    await expect(
      runTask(list, { path: '.' }, { pluginConfig: { allowedRoots: ['data'] } }),
    ).rejects.toThrow('allowed root "data" is not an absolute path')
    await expect(
      runTask(list, { path: '/' }, { pluginConfig: { allowedRoots: [join(base, 'nope')] } }),
    ).rejects.toThrow(/does not exist/)
  })

  it.each([
    ['.. out of the root', () => join(root, '..', 'outside', 'secret.txt')],
    ['an absolute path elsewhere', () => join(outside, 'secret.txt')],
    ['a relative path with ..', () => '../outside/secret.txt'],
    ['a symlinked directory', () => join(root, 'escape', 'secret.txt')],
    ['a symlink to a file outside', () => join(root, 'secret-link')],
  ])('refuses to read through %s', async (_, path) => {
    await expect(runTask(read, { path: path(), fetchType: 'FETCH' }, config)).rejects.toMatchObject(
      {
        code: 'PATH_NOT_ALLOWED',
        message: expect.stringMatching(/^path: ".*" is outside the allowed roots \(/),
      },
    )
  })

  it('refuses to write, copy, move, delete or list outside', async () => {
    await expect(
      runTask(write, { path: join(root, 'escape', 'new.txt'), content: 'x' }, config),
    ).rejects.toMatchObject({ code: 'PATH_NOT_ALLOWED' })
    await expect(
      runTask(write, { path: join(root, 'secret-link'), content: 'x', overwrite: true }, config),
    ).rejects.toMatchObject({ code: 'PATH_NOT_ALLOWED' })
    await expect(
      runTask(copy, { from: join(root, 'inbox', 'a.csv'), to: join(outside, 'a.csv') }, config),
    ).rejects.toThrow(/^to: .* is outside the allowed roots/)
    await expect(
      runTask(move, { from: join(outside, 'secret.txt'), to: join(root, 'stolen.txt') }, config),
    ).rejects.toThrow(/^from: .* is outside the allowed roots/)
    await expect(
      runTask(deleteFile, { path: join(root, '..', 'outside', 'secret.txt') }, config),
    ).rejects.toMatchObject({ code: 'PATH_NOT_ALLOWED' })
    await expect(runTask(list, { path: join(root, 'escape') }, config)).rejects.toMatchObject({
      code: 'PATH_NOT_ALLOWED',
    })
    await expect(pollTrigger(fileCreated, { directory: outside }, config)).rejects.toMatchObject({
      code: 'PATH_NOT_ALLOWED',
    })
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('top secret')
    await expect(stat(join(outside, 'new.txt'))).rejects.toThrow()
    await expect(stat(join(outside, 'a.csv'))).rejects.toThrow()
  })

  it('resolves relative paths against the first root', async () => {
    const { outputs } = await runTask(read, { path: 'inbox/b.txt', fetchType: 'FETCH' }, config)
    expect(outputs.content).toBe('hello')
  })
})

describe('Read', () => {
  it('stores a file by default', async () => {
    const { outputs, context } = await runTask(read, { path: join(root, 'inbox', 'a.csv') }, config)
    expect(outputs.size).toBe(8)
    expect(await context.readStorage(outputs.uri ?? '')).toBe('a,b\n1,2\n')
    const exposed = guardOutputs(outputs, outputsJsonSchema(read.outputs), 'read')
    expect(() => exposed.content).toThrow('it produced "uri" instead')
  })

  it('reads inline as text or base64, following a symlink inside the roots', async () => {
    const text = await runTask(
      read,
      { path: join(root, 'inbox', 'b-link.txt'), fetchType: 'FETCH' },
      config,
    )
    expect(text.outputs).toEqual({ content: 'hello', size: 5 })
    const encoded = await runTask(
      read,
      { path: join(root, 'inbox', 'b.txt'), fetchType: 'FETCH', encoding: 'base64' },
      config,
    )
    expect(encoded.outputs.content).toBe(Buffer.from('hello').toString('base64'))
  })

  it('explains a missing file and a directory', async () => {
    await expect(runTask(read, { path: join(root, 'nope.txt') }, config)).rejects.toMatchObject({
      code: 'FILE_NOT_FOUND',
      message: `path: "${join(root, 'nope.txt')}" does not exist`,
    })
    await expect(runTask(read, { path: join(root, 'inbox') }, config)).rejects.toMatchObject({
      code: 'NOT_A_FILE',
    })
  })
})

describe('Write', () => {
  it('writes content, creating directories, and refuses to overwrite by default', async () => {
    const path = join(root, 'out', 'new', 'hello.txt')
    const { outputs } = await runTask(
      write,
      { path, content: 'Hello {{ inputs.name }}' },
      { ...config, inputs: { name: 'Ada' } },
    )
    expect(outputs).toEqual({ path, size: 9 })
    expect(await readFile(path, 'utf8')).toBe('Hello Ada')
    await expect(runTask(write, { path, content: 'again' }, config)).rejects.toMatchObject({
      code: 'FILE_EXISTS',
      message: `path: "${path}" already exists; set overwrite: true to replace it`,
    })
    await runTask(write, { path, content: 'YWdhaW4=', encoding: 'base64', overwrite: true }, config)
    expect(await readFile(path, 'utf8')).toBe('again')
  })

  it('writes a stored file', async () => {
    const context = await createTestContext(config)
    const uri = await context.ctx.storage.put('report.csv', 'x,y\n')
    const path = join(root, 'report.csv')
    await invokeTask(write, { path, from: uri }, context.ctx)
    expect(await readFile(path, 'utf8')).toBe('x,y\n')
    await context.cleanup()
  })

  it('needs exactly one of content and from', async () => {
    await expect(runTask(write, { path: join(root, 'x') }, config)).rejects.toThrow(
      'set exactly one of `content` and `from`',
    )
  })
})

describe('List', () => {
  it('lists a directory without following symlinks', async () => {
    const { outputs } = await runTask(list, { path: join(root, 'inbox') }, config)
    expect(outputs.files.map((file) => [file.path.slice(root.length + 1), file.type])).toEqual([
      ['inbox/a.csv', 'file'],
      ['inbox/b-link.txt', 'symlink'],
      ['inbox/b.txt', 'file'],
      ['inbox/deep', 'directory'],
    ])
    expect(outputs.files[0]).toMatchObject({ size: 8, modified: expect.stringMatching(/Z$/) })
    expect(outputs.count).toBe(4)
  })

  it('filters by pattern, recursively', async () => {
    const { outputs } = await runTask(
      list,
      { path: 'inbox', pattern: '**/*.csv', recursive: true, entryType: 'FILES' },
      config,
    )
    expect(outputs.files.map((file) => file.path)).toEqual([
      join(root, 'inbox', 'a.csv'),
      join(root, 'inbox', 'deep', 'c.csv'),
    ])
  })
})

describe('Copy and Move', () => {
  it('copies a file and refuses to replace the destination', async () => {
    const to = join(root, 'copy.csv')
    await runTask(copy, { from: join(root, 'inbox', 'a.csv'), to }, config)
    expect(await readFile(to, 'utf8')).toBe('a,b\n1,2\n')
    await expect(
      runTask(copy, { from: join(root, 'inbox', 'b.txt'), to }, config),
    ).rejects.toMatchObject({ code: 'FILE_EXISTS' })
    await runTask(copy, { from: join(root, 'inbox', 'b.txt'), to, overwrite: true }, config)
    expect(await readFile(to, 'utf8')).toBe('hello')
  })

  it('copies a directory only with recursive', async () => {
    const to = join(root, 'inbox-copy')
    await expect(runTask(copy, { from: join(root, 'inbox'), to }, config)).rejects.toThrow(
      'set recursive: true',
    )
    await runTask(copy, { from: join(root, 'inbox'), to, recursive: true }, config)
    expect(await readFile(join(to, 'deep', 'c.csv'), 'utf8')).toBe('c\n')
  })

  it('moves a file, and refuses to move a root or into itself', async () => {
    const from = join(root, 'inbox', 'a.csv')
    const to = join(root, 'done', 'a.csv')
    await mkdir(join(root, 'done'))
    const { outputs } = await runTask(move, { from, to }, config)
    expect(outputs.path).toBe(to)
    expect(await readFile(to, 'utf8')).toBe('a,b\n1,2\n')
    await expect(stat(from)).rejects.toThrow()
    await expect(
      runTask(move, { from: root, to: join(root, 'inbox', 'x') }, config),
    ).rejects.toThrow(/is inside the directory/)
    await expect(
      runTask(move, { from: join(root, 'inbox', 'b.txt'), to: root, overwrite: true }, config),
    ).rejects.toThrow(/contains/)
  })
})

describe('Delete', () => {
  it('deletes a file and tells when nothing was there', async () => {
    const path = join(root, 'inbox', 'b.txt')
    expect((await runTask(deleteFile, { path }, config)).outputs.deleted).toBe(true)
    await expect(stat(path)).rejects.toThrow()
    expect((await runTask(deleteFile, { path }, config)).outputs.deleted).toBe(false)
    await expect(runTask(deleteFile, { path, errorOnMissing: true }, config)).rejects.toMatchObject(
      {
        code: 'FILE_NOT_FOUND',
      },
    )
  })

  it('deletes a symlink, not its target', async () => {
    await runTask(deleteFile, { path: join(root, 'inbox', 'b-link.txt') }, config)
    expect(await readFile(join(root, 'inbox', 'b.txt'), 'utf8')).toBe('hello')
  })

  it('needs recursive for a directory with content, and never deletes a root', async () => {
    await expect(runTask(deleteFile, { path: join(root, 'inbox') }, config)).rejects.toMatchObject({
      code: 'DIRECTORY_NOT_EMPTY',
    })
    await runTask(deleteFile, { path: join(root, 'inbox'), recursive: true }, config)
    await expect(stat(join(root, 'inbox'))).rejects.toThrow()
    await expect(runTask(deleteFile, { path: root, recursive: true }, config)).rejects.toThrow(
      'is an allowed root; it cannot be deleted',
    )
  })
})

describe('FileCreated', () => {
  it('emits each new file once, remembering what it saw', async () => {
    const props = { directory: join(root, 'inbox'), pattern: '*.csv' }
    const first = await pollTrigger(fileCreated, props, config)
    expect(first.events).toEqual([
      { path: join(root, 'inbox', 'a.csv'), size: 8, modified: expect.any(String) },
    ])
    const state = () => Object.fromEntries(first.context.state)
    expect((await pollTrigger(fileCreated, props, { ...config, state: state() })).events).toEqual(
      [],
    )

    await writeFile(join(root, 'inbox', 'new.csv'), 'n\n')
    await writeFile(join(root, 'inbox', 'new.txt'), 'ignored')
    const third = await pollTrigger(fileCreated, props, { ...config, state: state() })
    expect(third.events.map((event) => event.path)).toEqual([join(root, 'inbox', 'new.csv')])
  })

  it('fires again for a file deleted and created again, and can watch recursively', async () => {
    const props = { directory: join(root, 'inbox'), recursive: true, pattern: '**/*.csv' }
    const first = await pollTrigger(fileCreated, props, config)
    expect(first.events).toHaveLength(2)
    await rm(join(root, 'inbox', 'a.csv'))
    const second = await pollTrigger(fileCreated, props, {
      ...config,
      state: Object.fromEntries(first.context.state),
    })
    expect(second.events).toEqual([])
    await writeFile(join(root, 'inbox', 'a.csv'), 'again')
    const third = await pollTrigger(fileCreated, props, {
      ...config,
      state: Object.fromEntries(second.context.state),
    })
    expect(third.events).toEqual([
      { path: join(root, 'inbox', 'a.csv'), size: 5, modified: expect.any(String) },
    ])
  })
})
