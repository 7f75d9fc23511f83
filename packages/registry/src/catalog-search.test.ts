import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  checkFilter,
  MAX_QUERY_WORDS,
  MAX_WORD_LENGTH,
  parseSearchQuery,
  SearchIndex,
  tokenize,
} from './catalog-search.js'

describe('tokenize', () => {
  it('splits punctuation and camelCase humps, folds case and accents', () => {
    expect(tokenize('kite.notifications.SlackIncomingWebhook')).toEqual([
      'kite',
      'notifications',
      'slackincomingwebhook',
      'slack',
      'incoming',
      'webhook',
    ])
    expect(tokenize('Pokédex HTTPRequest s3')).toEqual([
      'pokedex',
      'httprequest',
      'http',
      'request',
      's3',
    ])
    expect(tokenize('SlackWebhook', { whole: false })).toEqual(['slack', 'webhook'])
    expect(tokenize(' --- ')).toEqual([])
  })
})

describe('parseSearchQuery', () => {
  it('reads words and inline filters, and reports bad filters', () => {
    expect(parseSearchQuery('slak kind:Trigger group:kite.http keyword:Chat')).toEqual({
      words: ['slak'],
      filters: { kind: 'trigger', group: 'kite.http', keyword: 'chat' },
      problems: [],
    })
    expect(parseSearchQuery('kind:job http:get')).toEqual({
      words: ['http', 'get'],
      filters: {},
      problems: ['kind must be one of task, trigger, condition (got "job")'],
    })
    expect(parseSearchQuery('"; DROP TABLE plugins; --').words).toEqual([
      'drop',
      'table',
      'plugins',
    ])
  })

  it('never throws, and bounds what it returns, whatever the text (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 3000, unit: 'binary' }), (text) => {
        const parsed = parseSearchQuery(text)
        expect(parsed.words.length).toBeLessThanOrEqual(MAX_QUERY_WORDS)
        for (const word of parsed.words) {
          expect(word.length).toBeGreaterThan(0)
          expect(word.length).toBeLessThanOrEqual(MAX_WORD_LENGTH)
          expect(word).toBe(word.toLowerCase())
          expect(word).toMatch(/^[\p{L}\p{N}]+$/u)
        }
        for (const [name, value] of Object.entries(parsed.filters)) {
          expect(checkFilter(name as 'kind', value as string)).toEqual({ [name]: value })
        }
      }),
      { numRuns: 500 },
    )
  })

  it('finds what was written, whatever the words (property)', () => {
    const word = fc.stringMatching(/^[a-z][a-z0-9]{1,11}$/)
    fc.assert(
      fc.property(fc.uniqueArray(word, { minLength: 1, maxLength: 4 }), (words) => {
        const index = new SearchIndex()
        index.put({
          id: 1,
          name: '@x/plugin',
          group: 'x',
          title: 'X',
          description: words.join(' '),
          keywords: [],
          types: [],
          olderTypes: [],
          updated: '2026-01-01',
        })
        const parsed = parseSearchQuery(words.join(' '))
        expect(index.search(parsed.words, parsed.filters).map((hit) => hit.id)).toEqual([1])
      }),
      { numRuns: 200 },
    )
  })
})

describe('SearchIndex', () => {
  it('forgives a letter dropped, added, changed, or two letters swapped', () => {
    const index = new SearchIndex()
    index.put({
      id: 7,
      name: '@kite/plugin-notifications',
      group: 'kite.notifications',
      title: 'Notifications',
      description: 'Tell people what flows do.',
      keywords: [],
      types: [
        {
          type: 'kite.notifications.SlackIncomingWebhook',
          kind: 'task',
          title: 'Post to Slack',
          description: 'Posts a message.',
        },
      ],
      olderTypes: [],
      updated: '2026-01-01',
    })
    for (const typo of ['slak', 'slacck', 'slsck', 'salck', 'webohok', 'notfications']) {
      expect(
        index.search([typo], {}).map((hit) => hit.id),
        typo,
      ).toEqual([7])
    }
    for (const miss of ['sl4ck9', 'discord', 'xslakx']) {
      expect(index.search([miss], {}), miss).toEqual([])
    }
    const [hit] = index.search(['salck'], {})
    expect(hit?.matches()[0]).toMatchObject({ how: 'fuzzy', term: 'slack', query: 'salck' })
  })
})
