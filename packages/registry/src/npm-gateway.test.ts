import { describe, expect, it } from 'vitest'
import { splitPackagePath, writeTargetOf } from './npm-gateway.js'

describe('writeTargetOf', () => {
  it('lets reads and account calls through', () => {
    expect(writeTargetOf('GET', '/@acme%2fx')).toBeUndefined()
    expect(writeTargetOf('HEAD', '/x/-/x-1.0.0.tgz')).toBeUndefined()
    expect(writeTargetOf('PUT', '/-/user/org.couchdb.user:ada')).toBeUndefined()
    expect(writeTargetOf('POST', '/-/v1/login')).toBeUndefined()
  })

  it.each([
    ['PUT', '/@acme%2fx', '@acme/x', 'publish'],
    ['PUT', '/@acme/x', '@acme/x', 'publish'],
    ['PUT', '/x?write=true', 'x', 'publish'],
    ['PUT', '/@acme%2fx/-rev/3-abc', '@acme/x', 'change'],
    ['DELETE', '/@acme%2fx/-rev/3-abc', '@acme/x', 'remove'],
    ['DELETE', '/@acme%2fx/-/x-1.0.0.tgz/-rev/3-abc', '@acme/x', 'remove-tarball'],
    ['PUT', '/x/-/x-1.0.0.tgz/whatever', 'x', 'upload'],
    ['PUT', '/-/package/@acme%2fx/dist-tags/beta', '@acme/x', 'dist-tag'],
    ['PUT', '/x/beta', 'x', 'other'],
  ])('classifies %s %s as a write to %s (%s)', (method, url, name, action) => {
    expect(writeTargetOf(method, url)).toEqual({ name, action })
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
