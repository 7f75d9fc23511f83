/** The parameter placeholders of one SQL statement, numbered the way SQLite numbers them. */
export interface Placeholders {
  /** How many values the statement binds (SQLite's `sqlite3_bind_parameter_count`). */
  count: number
  /** Named placeholders (`:name`, `@name`, `$name`, as written) and the index each binds. */
  named: Map<string, number>
  /** Whether the statement uses `?` or `?NNN`. */
  positional: boolean
}

const NAME_CHAR = /[A-Za-z0-9_$]/

/**
 * Finds the placeholders of one statement, skipping string literals, quoted identifiers and
 * comments. sql.js does not expose SQLite's parameter count, and binding too few values would
 * silently bind NULL, so the task counts them itself to refuse a wrong number of parameters.
 */
export function scanPlaceholders(sql: string): Placeholders {
  const named = new Map<string, number>()
  let count = 0
  let positional = false
  let index = 0
  const skipUntil = (end: string, from: number): number => {
    const found = sql.indexOf(end, from)
    return found === -1 ? sql.length : found + end.length
  }
  while (index < sql.length) {
    const char = sql[index]
    const next = sql[index + 1]
    if (char === "'" || char === '"' || char === '`') {
      // A doubled quote inside a literal escapes it; skipping to each closing quote handles that.
      index = skipUntil(char, index + 1)
    } else if (char === '[') {
      index = skipUntil(']', index + 1)
    } else if (char === '-' && next === '-') {
      index = skipUntil('\n', index + 2)
    } else if (char === '/' && next === '*') {
      index = skipUntil('*/', index + 2)
    } else if (char === '?') {
      positional = true
      let end = index + 1
      while (end < sql.length && /[0-9]/.test(sql[end] ?? '')) end++
      const number = end > index + 1 ? Number(sql.slice(index + 1, end)) : count + 1
      count = Math.max(count, number)
      index = end
    } else if (
      (char === ':' || char === '@' || char === '$') &&
      NAME_CHAR.test(next ?? '') &&
      // `$` may also sit inside an identifier (`price$usd`), where it starts no parameter.
      !NAME_CHAR.test(sql[index - 1] ?? '')
    ) {
      let end = index + 1
      while (end < sql.length && NAME_CHAR.test(sql[end] ?? '')) end++
      const name = sql.slice(index, end)
      if (!named.has(name)) named.set(name, ++count)
      index = end
    } else {
      index++
    }
  }
  return { count, named, positional }
}
