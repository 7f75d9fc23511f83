import { describe, expect, it } from 'vitest'
import { scanPlaceholders } from './placeholders.js'

describe('scanPlaceholders', () => {
  it('numbers placeholders the way SQLite does', () => {
    expect(scanPlaceholders('SELECT ?, ?, ?5, ?')).toMatchObject({ count: 6, positional: true })
    const named = scanPlaceholders('SELECT :a, @b, $c, :a')
    expect(named.count).toBe(3)
    expect([...named.named]).toEqual([
      [':a', 1],
      ['@b', 2],
      ['$c', 3],
    ])
    expect(named.positional).toBe(false)
  })

  it('skips literals, quoted identifiers, comments and $ inside names', () => {
    const sql = `SELECT 'it''s ? :x', "col?", [a?b], \`q?\`, price$usd -- ? :y
      /* ? :z */ FROM t WHERE a = :real`
    const found = scanPlaceholders(sql)
    expect(found.count).toBe(1)
    expect([...found.named.keys()]).toEqual([':real'])
  })
})
