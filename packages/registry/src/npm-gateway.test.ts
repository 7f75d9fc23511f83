import { describe, expect, it } from 'vitest'
import { splitPackagePath, writeTargetOf } from './npm-gateway.js'

describe('writeTargetOf', () => {
  it('lets reads and account calls through', () => {
    expect(writeTargetOf('GET', '/@acme%2fx')).toBeUndefined()
    expect(writeTargetOf('HEAD', '/x/-/x-1.0.0.tgz')).toBeUndefined()
    expect(writeTargetOf('PUT', '/-/user/org.couchdb.user:ada')).toBeUndefined()
    expect(writeTargetOf('POST', '/-/v1/login')).toBeUndefined()
  })

  it('classifies every write to a package', () => {
    expect(writeTargetOf('PUT', '/@acme%2fx')).toEqual({ name: '@acme/x', action: 'publish' })
    expect(writeTargetOf('PUT', '/@acme/x')).toEqual({ name: '@acme/x', action: 'publish' })
    expect(writeTargetOf('PUT', '/x?write=true')).toEqual({ name: 'x', action: 'publish' })
    expect(writeTargetOf('PUT', '/@acme%2fx/-rev/3-abc')).toEqual({
      name: '@acme/x',
      action: 'change',
    })
    expect(writeTargetOf('DELETE', '/@acme%2fx/-rev/3-abc')).toEqual({
      name: '@acme/x',
      action: 'remove',
    })
    expect(writeTargetOf('DELETE', '/@acme%2fx/-/x-1.0.0.tgz/-rev/3-abc')).toEqual({
      name: '@acme/x',
      action: 'remove-tarball',
    })
    expect(writeTargetOf('PUT', '/x/-/x-1.0.0.tgz/whatever')).toEqual({
      name: 'x',
      action: 'upload',
    })
    expect(writeTargetOf('PUT', '/-/package/@acme%2fx/dist-tags/beta')).toEqual({
      name: '@acme/x',
      action: 'dist-tag',
    })
    expect(writeTargetOf('PUT', '/x/beta')).toEqual({ name: 'x', action: 'other' })
  })
})

describe('splitPackagePath', () => {
  it('handles scoped names encoded or not, and refuses broken encodings', () => {
    expect(splitPackagePath('/@a%2Fb/1.0.0')).toEqual({ name: '@a/b', rest: ['1.0.0'] })
    expect(splitPackagePath('/@a/b/diff/1/2')).toEqual({ name: '@a/b', rest: ['diff', '1', '2'] })
    expect(splitPackagePath('/plain')).toEqual({ name: 'plain', rest: [] })
    expect(splitPackagePath('/@scope')).toBeUndefined()
    expect(splitPackagePath('/%E0%A4%A')).toBeUndefined()
    expect(splitPackagePath('/')).toBeUndefined()
  })
})
