import * as sdk from '@kite/sdk/host'
import { describe, expect, it } from 'vitest'
import {
  checkGroup,
  checkPackageName,
  checkTypeName,
  dirFromPackageName,
  GROUP_PATTERN,
  groupFromPackageName,
  identifiersFor,
  NAME_PATTERN,
  PACKAGE_NAME_PATTERN,
  packageNameFromDir,
  packageNameFromGroup,
  titleFor,
  titleForGroup,
} from './names.js'

describe('the patterns copied from @kite/sdk', () => {
  it('are the SDK patterns, character for character', () => {
    expect(GROUP_PATTERN.source).toBe(sdk.GROUP_PATTERN.source)
    expect(NAME_PATTERN.source).toBe(sdk.NAME_PATTERN.source)
    expect(PACKAGE_NAME_PATTERN.source).toBe(sdk.PACKAGE_NAME_PATTERN.source)
  })
})

describe('checks', () => {
  it('accept dotted lower-case groups of two or more segments only', () => {
    expect(checkGroup('acme.pokemon')).toBeUndefined()
    expect(checkGroup('acme.pokemon-cards.v2')).toBeUndefined()
    for (const bad of ['acme', 'Acme.pokemon', 'acme..pokemon', 'acme.9lives', 'acme.pokemon.']) {
      expect(checkGroup(bad)).toMatch(`group "${bad}" is not valid`)
    }
  })

  it('accept npm package names, scoped or not', () => {
    expect(checkPackageName('@acme/kite-plugin-pokemon')).toBeUndefined()
    expect(checkPackageName('kite-plugin-x')).toBeUndefined()
    expect(checkPackageName('Kite-Plugin')).toMatch('package name "Kite-Plugin" is not valid')
    expect(checkPackageName('@acme/')).toMatch('is not valid')
    expect(checkPackageName(`a${'b'.repeat(214)}`)).toMatch('is not valid')
  })

  it('accept PascalCase type names with lower-case sub-groups', () => {
    expect(checkTypeName('Fetch')).toBeUndefined()
    expect(checkTypeName('log.Log')).toBeUndefined()
    expect(checkTypeName('fetch')).toMatch('task name "fetch" is not valid: use PascalCase')
    expect(checkTypeName('Fetch-It', 'trigger')).toMatch('trigger name "Fetch-It"')
  })
})

describe('derived names', () => {
  it('turn a group into a package name: first segment as scope, community.* unscoped', () => {
    expect(packageNameFromGroup('acme.pokemon')).toBe('@acme/kite-plugin-pokemon')
    expect(packageNameFromGroup('acme.pokemon.cards')).toBe('@acme/kite-plugin-pokemon-cards')
    expect(packageNameFromGroup('community.pokemon')).toBe('kite-plugin-pokemon')
  })

  it('turn a package name back into a group', () => {
    expect(groupFromPackageName('@acme/kite-plugin-pokemon')).toBe('acme.pokemon')
    expect(groupFromPackageName('kite-plugin-pokemon')).toBe('community.pokemon')
    expect(groupFromPackageName('@my-org/weather-kite-plugin')).toBe('my-org.weather')
    expect(groupFromPackageName('@acme/tools.v2')).toBe('acme.tools-v2')
    expect(groupFromPackageName('@9/x')).toBeUndefined()
    expect(groupFromPackageName('@acme/123')).toBeUndefined()
  })

  it('round-trip every group the scaffolder derives', () => {
    for (const group of ['acme.pokemon', 'community.weather', 'my-org.data_sync']) {
      expect(groupFromPackageName(packageNameFromGroup(group))).toBe(group)
    }
  })

  it('turn a directory into a package name and back', () => {
    expect(packageNameFromDir('/tmp/My Plugin')).toBe('kite-plugin-my-plugin')
    expect(packageNameFromDir('kite-plugin-weather')).toBe('kite-plugin-weather')
    expect(packageNameFromDir('...')).toBeUndefined()
    expect(dirFromPackageName('@acme/kite-plugin-pokemon')).toBe('kite-plugin-pokemon')
    expect(dirFromPackageName('kite-plugin-x')).toBe('kite-plugin-x')
  })

  it('turn type names into variables, files and titles', () => {
    expect(identifiersFor('FetchPokemon')).toEqual({
      variable: 'fetchPokemon',
      file: 'fetch-pokemon',
    })
    expect(identifiersFor('log.Log')).toEqual({ variable: 'logLog', file: 'log-log' })
    expect(identifiersFor('HTTPRequest')).toEqual({ variable: 'httpRequest', file: 'http-request' })
    expect(titleFor('FetchPokemon')).toBe('Fetch pokemon')
    expect(titleFor('log.Log')).toBe('Log')
    expect(titleForGroup('acme.pokemon-cards')).toBe('Pokemon cards')
  })

  it('never produce a variable that is a keyword or an import, nor a file named index', () => {
    expect(identifiersFor('Delete').variable).toBe('deleteTask')
    expect(identifiersFor('Switch', 'trigger').variable).toBe('switchTrigger')
    expect(identifiersFor('DefineTask').variable).toBe('defineTaskTask')
    expect(identifiersFor('Describe').variable).toBe('describeTask')
    expect(identifiersFor('Z').variable).toBe('zTask')
    expect(identifiersFor('Index')).toEqual({ variable: 'index', file: 'index-task' })
  })
})
