import { describe, expect, it } from 'vitest'
import type { PluginDefaultEntry } from '../flow/flow-model.js'
import {
  applicableDefaults,
  decideVersionSpec,
  parseVersionSpec,
  resolveVersion,
  selectVersion,
  type VersionLevels,
} from './version-resolver.js'

const installed = ['1.0.0', '1.2.0', '1.2.5', '2.0.0', '2.1.0-beta.1']
const entry = (type: string, version: string, forced = false): PluginDefaultEntry => ({
  type,
  values: { version },
  forced,
})
const none: VersionLevels = { flow: [], namespaces: [], instance: [], defaultVersion: 'LATEST' }

describe('parseVersionSpec', () => {
  it('knows exact versions, keywords in any case and ranges', () => {
    expect(parseVersionSpec('1.2.0')).toEqual({ kind: 'exact', version: '1.2.0' })
    expect(parseVersionSpec('latest')).toEqual({ kind: 'latest' })
    expect(parseVersionSpec('Oldest')).toEqual({ kind: 'oldest' })
    for (const range of ['^1.2', '~1.2.0', '1.x', '>=1.1 <2', '1.2']) {
      expect(parseVersionSpec(range)).toEqual({ kind: 'range', range })
    }
    expect(parseVersionSpec('newest')).toBeUndefined()
    expect(parseVersionSpec('^^1')).toBeUndefined()
  })
})

describe('selectVersion', () => {
  it('picks exact versions, the newest or oldest release, and the best match of a range', () => {
    expect(selectVersion('1.2.0', installed)).toBe('1.2.0')
    expect(selectVersion('1.3.0', installed)).toBeUndefined()
    expect(selectVersion('LATEST', installed)).toBe('2.0.0')
    expect(selectVersion('OLDEST', installed)).toBe('1.0.0')
    expect(selectVersion('^1.2', installed)).toBe('1.2.5')
    expect(selectVersion('~1.2.0', installed)).toBe('1.2.5')
    expect(selectVersion('1.x', installed)).toBe('1.2.5')
    expect(selectVersion('>=1.1 <2', installed)).toBe('1.2.5')
    expect(selectVersion('^3', installed)).toBeUndefined()
  })

  it('uses prereleases only when nothing else exists or the range names one', () => {
    expect(selectVersion('LATEST', ['2.0.0-rc.1', '2.0.0-rc.2'])).toBe('2.0.0-rc.2')
    expect(selectVersion('^2.1.0-beta.0', installed)).toBe('2.1.0-beta.1')
    expect(selectVersion('^2', installed)).toBe('2.0.0')
  })
})

describe('decideVersionSpec', () => {
  it('follows task > flow > namespace (nearest first) > instance > defaultVersion', () => {
    const levels: VersionLevels = {
      task: '1.0.0',
      flow: [entry('kite.http', '^1.2')],
      namespaces: [
        { namespace: 'company.team', defaults: [entry('kite.http', '~1.2.0')] },
        { namespace: 'company', defaults: [entry('kite', '2.0.0')] },
      ],
      instance: [entry('kite.http.Request', '1.2.5')],
      defaultVersion: 'OLDEST',
    }
    const type = 'kite.http.Request'
    expect(decideVersionSpec(type, levels)).toMatchObject({ spec: '1.0.0', decidedBy: 'task' })
    const { task: _task, ...noTask } = levels
    expect(decideVersionSpec(type, noTask)).toMatchObject({ spec: '^1.2', decidedBy: 'flow' })
    expect(decideVersionSpec(type, { ...noTask, flow: [] })).toMatchObject({
      spec: '~1.2.0',
      decidedBy: 'namespace',
      source: 'namespace company.team\'s plugin defaults entry "kite.http"',
    })
    expect(
      decideVersionSpec(type, { ...noTask, flow: [], namespaces: levels.namespaces.slice(1) }),
    ).toMatchObject({ spec: '2.0.0', decidedBy: 'namespace' })
    expect(decideVersionSpec(type, { ...noTask, flow: [], namespaces: [] })).toMatchObject({
      spec: '1.2.5',
      decidedBy: 'instance',
    })
    expect(decideVersionSpec(type, { ...none, defaultVersion: 'OLDEST' })).toMatchObject({
      spec: 'OLDEST',
      decidedBy: 'defaultVersion',
    })
  })

  it('takes the most specific flow entry and skips entries without a version', () => {
    const flow = [
      entry('kite', '1.0.0'),
      entry('kite.http.Request', '1.2.0'),
      { type: 'kite.http', values: { timeout: 'PT1S' }, forced: false },
    ]
    expect(decideVersionSpec('kite.http.Request', { ...none, flow })?.spec).toBe('1.2.0')
    expect(decideVersionSpec('kite.http.Other', { ...none, flow })?.spec).toBe('1.0.0')
    expect(
      decideVersionSpec('kite.httpx.Other', { ...none, flow: [entry('kite.http', '9.9.9')] }),
    ).toMatchObject({
      decidedBy: 'defaultVersion',
    })
  })

  it('lets a forced entry win over the task', () => {
    const decision = decideVersionSpec('kite.http.Request', {
      ...none,
      task: '1.0.0',
      instance: [entry('kite.http', '2.0.0', true)],
    })
    expect(decision).toMatchObject({ spec: '2.0.0', decidedBy: 'instance' })
    expect(decision?.source).toContain('(forced)')
  })

  it('is strict with NONE, except for the core group', () => {
    const strict = { ...none, defaultVersion: 'NONE' }
    expect(decideVersionSpec('kite.http.Request', strict)).toBeUndefined()
    expect(decideVersionSpec('kite.core.log.Log', strict)).toMatchObject({
      spec: 'LATEST',
      decidedBy: 'defaultVersion',
    })
    expect(decideVersionSpec('kite.http.Request', { ...strict, task: '^1' })?.decidedBy).toBe(
      'task',
    )
  })
})

describe('resolveVersion', () => {
  const base = { type: 'kite.http.Request', plugin: 'kite.http (@kite/plugin-http)', installed }

  it('explains a spec that matches none of the installed versions', () => {
    const result = resolveVersion({
      ...base,
      levels: { ...none, task: '^3' },
      candidates: ['1.0.0', '1.2.0', '2.0.0'],
    })
    expect(result).toEqual({
      ok: false,
      decision: { spec: '^3', decidedBy: 'task', source: 'the task' },
      reason:
        'version "^3" of kite.http (@kite/plugin-http) (from the task) matches none of the installed versions 1.0.0, 1.2.0, 1.2.5, 2.0.0, 2.1.0-beta.1 (1.2.5, 2.1.0-beta.1 do not provide kite.http.Request)',
    })
  })

  it('chooses only among the versions that provide the type', () => {
    const result = resolveVersion({
      ...base,
      levels: { ...none, task: '^1' },
      candidates: ['1.0.0', '1.2.0'],
    })
    expect(result).toMatchObject({ ok: true, version: '1.2.0' })
  })

  it('reports invalid specs and strict mode', () => {
    expect(
      resolveVersion({ ...base, levels: { ...none, task: 'newest' }, candidates: installed }),
    ).toMatchObject({
      ok: false,
      reason:
        'version "newest" (from the task) is not an exact version, LATEST, OLDEST or a semver range',
    })
    expect(
      resolveVersion({
        ...base,
        levels: { ...none, defaultVersion: 'NONE' },
        candidates: installed,
      }),
    ).toMatchObject({ ok: false, reason: expect.stringContaining('strict mode') })
  })
})

describe('applicableDefaults', () => {
  it('orders matching entries most specific first', () => {
    const entries = [
      entry('kite', '1'),
      entry('kite.http.Request', '2'),
      entry('kite.http', '3'),
      entry('kite.other', '4'),
    ]
    expect(applicableDefaults(entries, 'kite.http.Request').map((item) => item.type)).toEqual([
      'kite.http.Request',
      'kite.http',
      'kite',
    ])
  })
})
